/**
 * Critical sections across hub processes on one PostgreSQL (common/critical-sections.ts has the
 * contract): each section is the process's local queue plus a PostgreSQL advisory lock, keyed by
 * the section's name, held around the task on a connection of its own. Not the migrations' lock key
 * (hub/store/pg/migrations.ts): every key here is a hash of a section name.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../../common/logger';
import { localSection, namedSections, type CriticalSections } from '../../../common/critical-sections';

/** The advisory lock key of a section name: 64 bits of its SHA-256, as PostgreSQL's signed bigint. */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(`flowbill-section:${name}`).digest().readBigInt64BE(0).toString();
}

/** Several processes on one PostgreSQL: each section is a local queue plus an advisory lock. */
export function postgresSections(pool: Pool, opts: { log: Logger }): CriticalSections {
  return namedSections(true, (name) => {
    const key = advisoryKey(name);
    return localSection(async (task, wait) => {
      const client: PoolClient = await pool.connect();
      let lost: Error | undefined;
      const onError = (err: Error) => { lost = err; };
      client.on('error', onError);
      try {
        if (wait) await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
        else if (!(await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key])).rows[0]?.ok) return { ran: false };
        try {
          return { ran: true, value: await task() };
        } finally {
          if (lost) opts.log.error({ section: name, err: lost.message }, 'the connection holding a critical section\'s lock died during the task: another hub may have entered it');
          else await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
        }
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    });
  });
}
