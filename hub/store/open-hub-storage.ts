/**
 * Where the hub keeps everything, chosen by FLOWBILL_HUB_STORE (hub/config.ts):
 * - level (default): one LevelDB at <dataDir>/db, one process; every port on the KV store, the series
 *   included (createHub builds kv-series-store.ts on it).
 * - postgres: one PostgreSQL database shared by every hub process (README, "Running at scale").
 *   Migrations are applied at start (hub/store/pg/migrations.ts, safe when several hubs start at
 *   once); the series have their own tables (pg-series-store.ts: the primary keys decide
 *   exactly-once across hubs); the other ports use the KV port on PostgreSQL (pg-kv-store.ts), which
 *   carries PostgreSQL critical sections, so every module's read-modify-write holds across hubs
 *   (common/critical-sections.ts).
 * An adapter: it opens and closes; no rule lives here.
 */
import path from 'node:path';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { createPgKvStore } from '../../common/kv/pg-kv-store';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import { migrate } from './pg/migrations';
import { createPgPool } from './pg/pg-pool';
import { postgresSections } from './pg/pg-sections';
import { createPgSeriesStore } from './pg/pg-series-store';
import type { SeriesStore } from './series-store';

export interface HubStorage {
  kv: KeyValueStore;
  /** The series store when it is not the KV one (PostgreSQL); createHub builds the KV one otherwise. */
  seriesStore?: SeriesStore;
  /** What to say in the start line. */
  describe: string;
  close(): Promise<void>;
}

export async function openHubStorage(config: Readonly<HubConfig>, log: Logger): Promise<HubStorage> {
  if (config.hubStore !== 'postgres') {
    const dir = path.join(config.dataDir, 'db');
    const kv = await openLevelKvStore(dir);
    return { kv, describe: `LevelDB ${path.resolve(dir)}`, close: () => kv.close() };
  }
  // Every hub must seal customer passwords with the same key: one generated per data dir would make
  // another hub's records unreadable. Refuse to start rather than find out at a customer's login.
  if (config.secretKeyHex === undefined) throw new Error('config FLOWBILL_SECRET_KEY is required with FLOWBILL_HUB_STORE=postgres: every hub of the cluster must seal customer passwords with the same key (64 hex chars)');
  const pool = await createPgPool(config.pgUrl!, { maxConnections: config.pgMaxConnections, applicationName: `flowbill-hub ${config.hubId}`, log: log.child({ part: 'pg' }) });
  try {
    const { applied } = await migrate(pool, { log: log.child({ part: 'migrations' }) });
    if (applied.length > 0) log.info({ applied: applied.map((m) => m.name) }, `applied ${applied.length} schema migration(s)`);
  } catch (err) {
    await pool.end();
    throw err;
  }
  // A held section keeps a connection for its whole task while the task queries through others: on a
  // pool of their own, sections can never take every connection the work inside them needs.
  const lockPool = await createPgPool(config.pgUrl!, { maxConnections: config.pgMaxConnections, applicationName: `flowbill-hub ${config.hubId} locks`, log: log.child({ part: 'pg-locks' }) });
  const kv = Object.assign(createPgKvStore(pool), { sections: postgresSections(lockPool, { log: log.child({ part: 'sections' }) }) });
  const seriesStore = createPgSeriesStore({
    pool, log: log.child({ part: 'store' }),
    limits: { maxRevisionSubjects: config.ingestMaxRevisionSubjects, dedupHorizonSec: config.ingestDedupHorizonDays * 86_400 },
  });
  return {
    kv, seriesStore, describe: `PostgreSQL (hub ${config.hubId})`,
    async close() { await kv.close(); await lockPool.end(); await pool.end(); },
  };
}
