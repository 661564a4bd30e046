import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../common/clock';

/** Owner only: a spooled mail may carry a customer's password (the welcome mail). */
export const SPOOL_DIR_MODE = 0o700;
export const SPOOL_FILE_MODE = 0o600;

/** `<spooledAtMs>-<12 hex>.eml`: the time in the name, so age needs no file metadata and follows the Clock. */
const NAME = /^(\d{1,16})-[0-9a-f]{12}\.eml$/;
const TEMP = /^(\d{1,16})-[0-9a-f]{12}\.eml\.tmp$/;

export interface SpooledMail {
  /** The file name without `.eml`. */
  id: string;
  file: string;
  spooledAtMs: number;
}

/**
 * A folder of RFC 5322 .eml files, one per message, readable by the hub's user only (folder 0700, files
 * 0600, whatever the umask or an older version left). A file is written to a temporary name, synced and
 * renamed, so a reader (a person, or the retry job) never sees half a message and a crash loses none.
 * Files whose names the spool did not make are left alone.
 */
export interface MailSpool {
  readonly dir: string;
  /**
   * For start: tightens an existing folder and every spooled file, deletes temporaries a crash left
   * behind (torn writes, never handed to anyone). Returns what is waiting. A missing folder is left
   * missing (write() creates it): a hub that never sends mail makes no folder.
   */
  prepare(): Promise<SpooledMail[]>;
  /** A fresh name (the Clock's time in it), so a caller can claim the id before the file exists. */
  allocate(): SpooledMail;
  write(mail: SpooledMail, eml: Buffer): Promise<void>;
  /** Oldest first. */
  list(): Promise<SpooledMail[]>;
  read(mail: SpooledMail): Promise<Buffer>;
  /** Idempotent: a file already gone is not an error. */
  remove(mail: SpooledMail): Promise<void>;
}

export function createMailSpool(opts: { dir: string; clock: Clock }): MailSpool {
  const { dir } = opts;
  const ensureDir = async () => {
    await mkdir(dir, { recursive: true, mode: SPOOL_DIR_MODE });
    // mkdir's mode is masked by the umask and ignored for a folder that exists (0755 before this fix).
    await chmod(dir, SPOOL_DIR_MODE);
  };
  const names = async (): Promise<string[]> => {
    try { return (await readdir(dir)).sort(); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };
  const toMail = (name: string): SpooledMail | undefined => {
    const m = NAME.exec(name);
    return m ? { id: name.slice(0, -'.eml'.length), file: path.join(dir, name), spooledAtMs: Number(m[1]) } : undefined;
  };
  const unlinkIfThere = async (file: string) => {
    try { await unlink(file); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
  };

  return {
    dir,
    async prepare() {
      try { await chmod(dir, SPOOL_DIR_MODE); } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const waiting: SpooledMail[] = [];
      for (const name of await names()) {
        if (TEMP.test(name)) { await unlinkIfThere(path.join(dir, name)); continue; }
        const mail = toMail(name);
        if (!mail) continue;
        await chmod(mail.file, SPOOL_FILE_MODE);
        waiting.push(mail);
      }
      return waiting;
    },
    allocate() {
      const spooledAtMs = Math.max(0, Math.floor(opts.clock.nowMs()));
      const id = `${spooledAtMs}-${randomBytes(6).toString('hex')}`;
      return { id, file: path.join(dir, `${id}.eml`), spooledAtMs };
    },
    async write({ file }, eml) {
      await ensureDir();
      const temp = `${file}.tmp`;
      // 'wx': never write through a file (or link) someone else put there; mode 0600 from the first byte.
      const handle = await open(temp, 'wx', SPOOL_FILE_MODE);
      try {
        await handle.chmod(SPOOL_FILE_MODE); // the umask only removes bits, but say it where it counts
        await handle.writeFile(eml);
        await handle.sync();
      } catch (err) {
        await handle.close();
        await unlinkIfThere(temp);
        throw err;
      }
      await handle.close();
      await rename(temp, file);
      await chmod(file, SPOOL_FILE_MODE);
    },
    async list() {
      return (await names()).flatMap((name) => toMail(name) ?? []);
    },
    read: (mail) => readFile(mail.file),
    remove: (mail) => unlinkIfThere(mail.file),
  };
}

/**
 * The spool-facing half every hub mailer shares: `prepare` at start, `sweep` from the mail job (one
 * pass at a time: a sweep asked for while one runs gets that one), `idle` for stop and tests.
 */
export function spoolSweeper<R>(spool: Pick<MailSpool, 'prepare'>, pass: () => Promise<R>) {
  let running: Promise<R> | undefined;
  return {
    async prepare() {
      return { waiting: (await spool.prepare()).length };
    },
    sweep(): Promise<R> {
      running ??= pass().finally(() => { running = undefined; });
      return running;
    },
    async idle() {
      await running?.catch(() => undefined);
    },
  };
}
