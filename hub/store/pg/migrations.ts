/**
 * Schema migrations: plain SQL files hub/store/pg/migrations/NNN_name.sql, applied in version order at start.
 *
 * Contract:
 * - each file runs in ONE transaction together with its schema_migrations row: a failing file leaves
 *   nothing of itself behind, and the next start retries it (so no CREATE INDEX CONCURRENTLY, VACUUM or
 *   other statements that refuse a transaction block);
 * - the whole run holds a session advisory lock (MIGRATION_LOCK_KEY): several hubs starting at once
 *   queue on it, and each one after the first finds the work done, so every file is applied once;
 * - schema_migrations(version, name, applied_at, checksum) records what ran; an applied file whose
 *   sha256 (line endings normalised) changed is a startup error: a released migration is never edited,
 *   a fix is a new file. A recorded version with no file here (a newer hub migrated) is logged, not fatal,
 *   so a rolling upgrade can still restart an older hub.
 * The lock is a session lock: through a transaction-mode pooler (PgBouncer) point migrations at the server.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../../../common/logger';
import { silentLogger } from '../../../common/logger';

/** The repo's migrations, next to this module. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** pg_advisory_lock key held while migrating: "flowbill" in ASCII as a bigint. Other locks must use other keys. */
export const MIGRATION_LOCK_KEY = '7380983002286484588';

export interface Migration {
  version: number;
  name: string;
  /** File name, for messages. */
  file: string;
  sql: string;
  /** sha256 hex of the file with CRLF normalised to LF (a checkout's line endings are not an edit). */
  checksum: string;
}

export interface MigrateOptions {
  /** Folder of NNN_name.sql files (default MIGRATIONS_DIR). */
  dir?: string;
  log?: Logger;
}

export interface MigrateResult {
  /** Files this call applied, in order (empty when the database was up to date). */
  applied: Migration[];
}

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** The migration files of `dir`, in version order. Throws on a misnamed .sql file or a repeated version. */
export function readMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const m = FILE_NAME.exec(file);
    if (!m) throw new Error(`migration ${join(dir, file)}: expected a name like 001_create_kv.sql (digits, underscore, lower-case name)`);
    const sql = readFileSync(join(dir, file), 'utf8');
    const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
    out.push({ version: Number(m[1]), name: m[2], file, sql, checksum });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) throw new Error(`migrations ${out[i - 1].file} and ${out[i].file} have the same version ${out[i].version}`);
  }
  return out;
}

/** Applies the pending migrations of `opts.dir` to the database behind `pool`. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const dir = opts.dir ?? MIGRATIONS_DIR;
  const log = opts.log ?? silentLogger;
  const files = readMigrations(dir); // before taking the lock: a bad folder fails without touching the database
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client, files, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch((err: Error) => { broken = err; });
    }
  } finally {
    // a connection whose unlock failed may still hold the lock: destroy it rather than return it to the pool
    client.release(broken);
  }
}

async function applyPending(client: pg.PoolClient, files: Migration[], log: Logger): Promise<MigrateResult> {
  // under the lock: CREATE TABLE IF NOT EXISTS is not safe against a concurrent create
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    checksum text NOT NULL
  )`);
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  const recorded = new Map(rows.map((r) => [r.version, r]));
  const known = new Set(files.map((f) => f.version));
  for (const r of rows) {
    if (!known.has(r.version)) log.warn({ version: r.version, name: r.name }, 'PostgreSQL schema: a migration recorded in the database has no file here (a newer hub applied it)');
  }
  for (const f of files) {
    const r = recorded.get(f.version);
    if (r && r.checksum !== f.checksum) {
      throw new Error(`migration ${f.file} was changed after it was applied (checksum ${r.checksum.slice(0, 12)}… in schema_migrations, ${f.checksum.slice(0, 12)}… on disk): never edit an applied migration, add a new one`);
    }
  }
  const applied: Migration[] = [];
  for (const f of files) {
    if (recorded.has(f.version)) continue;
    await client.query('BEGIN');
    try {
      await client.query(f.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [f.version, f.name, f.checksum]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`migration ${f.file} failed${lineOf(f.sql, err)}, nothing of it was applied: ${(err as Error).message}`, { cause: err });
    }
    log.info({ version: f.version, name: f.name }, 'PostgreSQL schema: migration applied');
    applied.push(f);
  }
  return { applied };
}

/** " at line N" from a PostgreSQL error's 1-based character position in the file, when it has one. */
function lineOf(sql: string, err: unknown): string {
  const position = Number((err as { position?: string }).position);
  if (!Number.isInteger(position) || position < 1) return '';
  return ` at line ${sql.slice(0, position - 1).split('\n').length}`;
}
