/**
 * The hub's PostgreSQL connection pool (node-postgres), built from FLOWBILL_PG_URL.
 *
 * - `createPgPool` connects once before it returns, so a wrong URL, a server that is down or a refused login
 *   fails the hub's start with the URL in the message (password masked), not the first ingest minutes later.
 * - An idle connection that the server drops (restart, failover, idle timeout) makes pg.Pool emit 'error';
 *   without a listener Node would crash the hub. It is logged; the pool opens a new connection when needed.
 */
import pg from 'pg';
import type { Logger } from '../../../common/logger';
import { silentLogger } from '../../../common/logger';

export type PgPool = pg.Pool;

export interface PgPoolOptions {
  /** FLOWBILL_PG_MAX_CONNECTIONS: at most this many connections from this process (default 10). */
  maxConnections?: number;
  /** Give up connecting after this long (default 10 s): a black-holed host must not hang the start. */
  connectTimeoutMs?: number;
  /** Close connections idle for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell which hub holds which connection (default "flowbill-hub"). */
  applicationName?: string;
  log?: Logger;
}

/** The URL with its password replaced by ***, for messages and logs. An unparsable URL is not echoed at all. */
export function redactPgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Opens a pool on `url` and checks one connection; throws naming the (redacted) URL when it cannot connect. */
export async function createPgPool(url: string, opts: PgPoolOptions = {}): Promise<PgPool> {
  const shown = redactPgUrl(url);
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new Error(`PostgreSQL URL is not a URL: expected postgres://user:password@host:port/database`); }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`PostgreSQL URL ${shown}: expected the postgres:// or postgresql:// scheme`);
  }
  const log = opts.log ?? silentLogger;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    application_name: opts.applicationName ?? 'flowbill-hub',
  });
  pool.on('error', (err) => log.warn({ err: err.message, url: shown }, 'PostgreSQL: an idle connection failed; the pool will open a new one'));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`PostgreSQL at ${shown}: cannot connect: ${(err as Error).message || String(err)}`, { cause: err });
  }
  return pool;
}
