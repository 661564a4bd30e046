/**
 * The hub's key ring from the environment or from <dataDir>/secret-keys.json (hub/security/key-ring.ts).
 *
 * - FLOWBILL_SECRET_KEY set: it is the current key; FLOWBILL_SECRET_KEYS_RETIRED and the keys of an
 *   existing key file only open (so moving from the file to the environment loses nothing).
 * - Unset: the key file's current key seals. On first start a random 32-byte key is generated into it:
 *   written to a temporary file opened 0600, fsynced, then linked into place (link(2) fails if another
 *   process created the file first, so a key is never overwritten), and where it lives is logged once.
 *
 * Like ssh with a private key, a key file readable by group or others is refused: it is the key to every
 * customer password, and a copy of the data dir must not be enough to read them.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../common/logger';
import { createKeyRing, generateSecretKeyHex, parseSecretKeyHex, type KeyRing, type SecretKey } from './key-ring';

export const SECRET_KEY_FILE_NAME = 'secret-keys.json';

/** The key file's content (JSON). Keys only ever leave it into memory. */
export interface KeyFile {
  /** File format version. */
  v: 1;
  /** kid of the key that seals; every other key only opens. */
  currentKid: string;
  keys: { kid: string; keyHex: string; createdAt: string }[];
}

export function secretKeyFilePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), SECRET_KEY_FILE_NAME);
}

/** The file's keys, checked: mode 0600 or stricter, well-formed, kids that match their keys. undefined if there is no file. */
export async function readKeyFile(file: string): Promise<KeyFile | undefined> {
  let fh;
  try {
    // fstat of the open file: a symlink (a mounted secret) is judged by the file it points to.
    fh = await open(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { mode } = await fh.stat();
    // POSIX modes only; Windows reports 0o666 whatever the ACL says.
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new Error(`secret key file ${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: it is readable by other users. `
        + `It holds the key to every stored customer password, so the hub refuses it; run: chmod 600 ${file}`);
    }
    return parseKeyFile(await fh.readFile('utf8'), file);
  } finally {
    await fh.close();
  }
}

function parseKeyFile(text: string, file: string): KeyFile {
  const bad = (why: string) => new Error(`secret key file ${file}: ${why}`);
  let json: KeyFile;
  try { json = JSON.parse(text) as KeyFile; } catch { throw bad('not JSON'); }
  if (json?.v !== 1 || !Array.isArray(json.keys) || typeof json.currentKid !== 'string') throw bad('expected {"v":1,"currentKid":…,"keys":[…]}');
  for (const [i, k] of json.keys.entries()) {
    const key = parseSecretKeyHex(String(k?.keyHex), `secret key file ${file}, key #${i + 1}`);
    if (key.kid !== k.kid) throw bad(`key #${i + 1}: its kid ${String(k.kid)} does not match the key (damaged file?)`);
  }
  if (!json.keys.some((k) => k.kid === json.currentKid)) throw bad(`currentKid ${json.currentKid} is not one of its keys`);
  return json;
}

/** Current key first, then the others in file order. */
export function keyRingOfFile(file: KeyFile, extraRetired: readonly SecretKey[] = []): KeyRing {
  const keys = file.keys.map((k) => parseSecretKeyHex(k.keyHex, 'secret key file'));
  const current = keys.find((k) => k.kid === file.currentKid)!;
  return createKeyRing(current, [...keys.filter((k) => k !== current), ...extraRetired]);
}

/**
 * Writes the key file atomically with mode 0600: a temporary file, fsync, then link (`create`: fails
 * with EEXIST if the file exists) or rename (`replace`), then fsync of the directory.
 */
export async function writeKeyFile(file: string, content: KeyFile, how: 'create' | 'replace'): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${SECRET_KEY_FILE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(content, null, 2)}\n`, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (how === 'create') await link(tmp, file);
    else await rename(tmp, file);
  } finally {
    if (how === 'create') await unlink(tmp).catch(() => undefined);
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // So the new name survives a power cut; not every platform can open a directory.
  const d = await open(dir, 'r').catch(() => undefined);
  try { await d?.sync(); } catch { /* best effort */ } finally { await d?.close(); }
}

export function newKeyFileEntry(nowMs: number): { key: SecretKey; entry: KeyFile['keys'][number] } {
  const keyHex = generateSecretKeyHex();
  const key = parseSecretKeyHex(keyHex, 'generated key');
  return { key, entry: { kid: key.kid, keyHex, createdAt: new Date(nowMs).toISOString() } };
}

/** Reads the key file, or generates it when there is none (another process winning the race is fine). */
async function readOrCreateKeyFile(file: string, nowMs: number, log: Logger): Promise<KeyFile> {
  const existing = await readKeyFile(file);
  if (existing) return existing;
  const { entry } = newKeyFileEntry(nowMs);
  const created: KeyFile = { v: 1, currentKid: entry.kid, keys: [entry] };
  try {
    await writeKeyFile(file, created, 'create');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readKeyFile(file))!;
  }
  log.warn({ file, kid: entry.kid }, `generated a random secret key for stored customer passwords in ${file} (mode 0600). `
    + 'Back it up with the data dir, and keep it out of copies of the database: without it no stored customer password can be decrypted');
  return created;
}

export interface KeyRingSource {
  ring: KeyRing;
  /** The key file when it holds the current key; undefined when FLOWBILL_SECRET_KEY does. */
  file: string | undefined;
}

/** The hub's key ring at start (see the top of this file). */
export async function loadHubKeyRing(opts: { dataDir: string; secretKeyHex: string | undefined; retiredSecretKeysHex: readonly string[]; nowMs: number; log: Logger }): Promise<KeyRingSource> {
  const file = secretKeyFilePath(opts.dataDir);
  const envRetired = opts.retiredSecretKeysHex.map((h, i) => parseSecretKeyHex(h, `FLOWBILL_SECRET_KEYS_RETIRED (key #${i + 1})`));
  if (opts.secretKeyHex !== undefined) {
    const current = parseSecretKeyHex(opts.secretKeyHex, 'FLOWBILL_SECRET_KEY');
    const fromFile = await readKeyFile(file);
    const fileKeys = fromFile ? keyRingOfFile(fromFile) : undefined;
    const ring = createKeyRing(current, [...envRetired, ...(fileKeys ? [fileKeys.current, ...fileKeys.retired] : [])]);
    if (fromFile) opts.log.info({ file }, 'FLOWBILL_SECRET_KEY is set: the keys in the key file only open old values now (delete the file once the hub says no stored value uses them)');
    opts.log.info({ kid: ring.current.kid, retired: ring.retired.map((k) => k.kid) }, 'secret key from FLOWBILL_SECRET_KEY');
    return { ring, file: undefined };
  }
  const ring = keyRingOfFile(await readOrCreateKeyFile(file, opts.nowMs, opts.log), envRetired);
  opts.log.info({ file, kid: ring.current.kid, retired: ring.retired.map((k) => k.kid) }, 'secret keys from the key file');
  return { ring, file };
}
