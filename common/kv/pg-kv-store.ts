import type pg from 'pg';
import type { KeyValueStore, KvOp, KvRange } from './kv-store';

/**
 * PostgreSQL-backed KeyValueStore: table kv(key bytea PRIMARY KEY, value bytea) from migration 001_kv.sql,
 * shared by every hub process on the same database (the scale-out mode). Passes kv-store.contract.ts.
 *
 * - Keys are stored as their UTF-8 bytes and bytea compares bytewise, so the order is LevelDB's (utf8 key
 *   encoding): for ASCII keys that is the contract's UTF-16 order; past ASCII, UTF-8 byte order puts
 *   characters above U+FFFF after U+E000..U+FFFF, as LevelDB does (so prefixRange's '\uffff' bound
 *   excludes them in both). A lone surrogate becomes U+FFFD, as in LevelDB.
 * - `write` is ONE statement (a DELETE in a CTE plus a multi-row INSERT … ON CONFLICT DO UPDATE), hence one
 *   transaction: all or nothing. Ops on the same key: the last one wins, as in a LevelDB batch. Rows are
 *   touched in key order, so two writers on overlapping keys do not deadlock in the common case; a
 *   deadlock PostgreSQL still detects is retried (the statement sets final values: running it again is safe).
 * - `entries` reads in pages of `pageSize` rows by keyset (key > last seen), each page one statement and so
 *   a consistent snapshot of its rows. A range that fits in one page (and every `limit` ≤ pageSize) is
 *   exactly the snapshot at call time; a longer range is read page by page, every key at most once and in
 *   order, and a key written during the iteration is seen if its page is read after the write. No
 *   connection is held between pages: a caller that stops iterating early leaks nothing. Every caller in
 *   the hub collects a range and then writes, which needs no more than this.
 * - Values come back as plain Uint8Arrays of their own (offset 0), like the memory store's copies.
 * - `close` does not end the pool: the composition root owns it (the series store shares it).
 */
export interface PgKvStoreOptions {
  /** Rows per entries() page (default 500). */
  pageSize?: number;
}

const DEADLOCK_DETECTED = '40P01';
const WRITE_ATTEMPTS = 3;

export function createPgKvStore(pool: pg.Pool, opts: PgKvStoreOptions = {}): KeyValueStore {
  const pageSize = opts.pageSize ?? 500;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`createPgKvStore: pageSize ${pageSize}: expected a positive integer`);
  const enc = (key: string) => Buffer.from(key, 'utf8');
  const own = (b: Buffer) => new Uint8Array(b); // copies out of pg's shared allocation

  return {
    async get(key) {
      const { rows } = await pool.query<{ value: Buffer }>('SELECT value FROM kv WHERE key = $1', [enc(key)]);
      return rows.length ? own(rows[0].value) : undefined;
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      const encoded = keys.map(enc);
      const { rows } = await pool.query<{ key: Buffer; value: Buffer }>('SELECT key, value FROM kv WHERE key = ANY($1::bytea[])', [encoded]);
      const byKey = new Map(rows.map((r) => [r.key.toString('hex'), r.value]));
      return encoded.map((k) => { const v = byKey.get(k.toString('hex')); return v ? own(v) : undefined; });
    },
    async write(ops: KvOp[]) {
      if (ops.length === 0) return;
      const last = new Map<string, KvOp>(); // hex of the encoded key -> the key's final op
      for (const op of ops) last.set(enc(op.key).toString('hex'), op);
      const ordered = [...last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // hex order = byte order
      const putKeys: Buffer[] = [];
      const putValues: Buffer[] = [];
      const delKeys: Buffer[] = [];
      for (const [hex, op] of ordered) {
        if (op.type === 'put') { putKeys.push(Buffer.from(hex, 'hex')); putValues.push(Buffer.from(op.value)); }
        else delKeys.push(Buffer.from(hex, 'hex'));
      }
      const sql = `WITH deleted AS (DELETE FROM kv WHERE key = ANY($3::bytea[]))
        INSERT INTO kv (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
      for (let attempt = 1; ; attempt++) {
        try {
          await pool.query(sql, [putKeys, putValues, delKeys]);
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= WRITE_ATTEMPTS) throw err;
        }
      }
    },
    async *entries(range: KvRange) {
      const reverse = range.reverse ?? false;
      let remaining = range.limit ?? Infinity;
      if (remaining <= 0) return;
      const lower = range.gte === undefined ? null : enc(range.gte);
      const upper = range.lt === undefined ? null : enc(range.lt);
      let cursor: Buffer | null = null; // the last key yielded: the next page starts strictly after it
      // forward: gte <= key < lt, after the cursor; reverse: the same range, before the cursor, descending
      const sql = reverse
        ? `SELECT key, value FROM kv WHERE ($1::bytea IS NULL OR key >= $1) AND ($2::bytea IS NULL OR key < $2)
             AND ($3::bytea IS NULL OR key < $3) ORDER BY key DESC LIMIT $4`
        : `SELECT key, value FROM kv WHERE ($1::bytea IS NULL OR key >= $1) AND ($2::bytea IS NULL OR key < $2)
             AND ($3::bytea IS NULL OR key > $3) ORDER BY key LIMIT $4`;
      for (;;) {
        const want = Math.min(pageSize, remaining);
        const { rows }: { rows: { key: Buffer; value: Buffer }[] } = await pool.query(sql, [lower, upper, cursor, want]);
        for (const r of rows) yield [r.key.toString('utf8'), own(r.value)] as [string, Uint8Array];
        remaining -= rows.length;
        if (rows.length < want || remaining <= 0) return;
        cursor = rows[rows.length - 1].key;
      }
    },
    async close() {},
  };
}
