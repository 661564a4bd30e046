import { randomBytes } from 'node:crypto';
import t from 'tap';
import { collect, prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { createPgKvStore } from '../../common/kv/pg-kv-store';
import { migrate } from '../../hub/store/pg/migrations';
import { createPgPool } from '../../hub/store/pg/pg-pool';
import { startPostgres } from '../helpers/postgres';
import { kvStoreContract } from './kv-store.contract';

const b = (s: string) => new TextEncoder().encode(s);
const s = (v: Uint8Array | undefined) => (v ? new TextDecoder().decode(v) : undefined);
const keysOf = async (kv: KeyValueStore, range: Parameters<KeyValueStore['entries']>[0]) => (await collect(kv, range)).map(([k]) => k);

t.test('PostgreSQL backend', async (t) => {
  const server = await startPostgres(t);
  if (!server) { t.pass('skipped: no PostgreSQL here'); return; }
  const pool = await createPgPool(server.url, { maxConnections: 4 });
  t.teardown(() => pool.end());
  await migrate(pool);
  /** Each story starts from an empty table (subtests run one after another). */
  const empty = async (opts?: Parameters<typeof createPgKvStore>[1]) => { await pool.query('TRUNCATE kv'); return createPgKvStore(pool, opts); };

  t.test('the shared contract', async (t) => kvStoreContract(t, () => empty()));
  t.test('the shared contract, with pages of 1 row (every range crosses pages)', async (t) => kvStoreContract(t, () => empty({ pageSize: 1 })));

  t.test('entries over many pages: ranges, reverse and limits across page boundaries', async (t) => {
    const kv = await empty({ pageSize: 3 });
    const keys = Array.from({ length: 20 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
    await kv.write(keys.map((key) => ({ type: 'put' as const, key, value: b(key) })));
    await kv.write([{ type: 'put', key: 'j', value: b('before') }, { type: 'put', key: 'l', value: b('after') }]);
    t.same(await keysOf(kv, prefixRange('k/')), keys);
    t.same(await keysOf(kv, prefixRange('k/', { reverse: true })), [...keys].reverse());
    t.same(await keysOf(kv, prefixRange('k/', { limit: 7 })), keys.slice(0, 7));
    t.same(await keysOf(kv, prefixRange('k/', { reverse: true, limit: 7 })), keys.slice(13).reverse());
    t.same(await keysOf(kv, { gte: 'k/05', lt: 'k/12' }), keys.slice(5, 12));
    t.same(await keysOf(kv, { gte: 'k/05', lt: 'k/12', reverse: true }), keys.slice(5, 12).reverse());
    t.same(await keysOf(kv, { limit: 0 }), []);
    t.same(await keysOf(kv, {}), ['j', ...keys, 'l']);
    t.same(await keysOf(kv, { gte: 'k/19', reverse: true }), ['l', 'k/19']);
    t.same(await keysOf(kv, { lt: 'k/01', reverse: true }), ['k/00', 'j']);
  });

  t.test('non-ASCII keys: the same order and prefix ranges as LevelDB (UTF-8 bytes)', async (t) => {
    const keys = ['p/a', 'p/Z', 'p/é', 'p/\u00ff', 'p/\u0100', 'p/\ue000', 'p/\uffff', 'p/😀', 'p/a\u0000b', 'p/', 'q/日本'];
    const level = await openLevelKvStore(t.testdir({}) + '/db');
    t.teardown(() => level.close());
    const pg = await empty({ pageSize: 2 });
    for (const kv of [level, pg]) await kv.write(keys.map((key) => ({ type: 'put' as const, key, value: b(key) })));
    for (const range of [{}, prefixRange('p/'), prefixRange('p/', { reverse: true }), { gte: 'p/é', lt: 'p/😀' }, { gte: 'p/\ue000' }]) {
      const expected = await collect(level, range);
      t.same(await collect(pg, range), expected, `range ${JSON.stringify(range)}`);
    }
    t.notOk((await keysOf(pg, prefixRange('p/'))).includes('p/😀'), "U+1F600 sorts after prefixRange's \\uffff bound in UTF-8, as in LevelDB");
    t.equal(s(await pg.get('q/日本')), 'q/日本');
    t.same((await pg.getMany(['p/a\u0000b', 'p/é'])).map(s), ['p/a\u0000b', 'p/é']);
  });

  t.test('write: ops on one key apply in order (the last wins), deletes of missing keys are fine', async (t) => {
    const kv = await empty();
    await kv.write([{ type: 'put', key: 'a', value: b('1') }, { type: 'del', key: 'a' }, { type: 'put', key: 'b', value: b('1') }, { type: 'put', key: 'b', value: b('2') }]);
    await kv.write([{ type: 'del', key: 'c' }, { type: 'put', key: 'c', value: b('3') }, { type: 'del', key: 'nope' }]);
    t.same((await collect(kv, {})).map(([k, v]) => [k, s(v)]), [['b', '2'], ['c', '3']]);
    await kv.write([]);
    await kv.write([{ type: 'put', key: 'empty', value: new Uint8Array(0) }]);
    t.same(await kv.get('empty'), new Uint8Array(0), 'an empty value is a value, not a missing key');
  });

  t.test('write is all or nothing: one bad op fails the whole write', async (t) => {
    const kv = await empty();
    await kv.write([{ type: 'put', key: 'keep', value: b('old') }]);
    // a key of incompressible 12 KB is over PostgreSQL's btree entry limit (~2.7 KB): that put fails
    const hugeKey = randomBytes(9000).toString('base64');
    await t.rejects(kv.write([{ type: 'put', key: 'new', value: b('x') }, { type: 'del', key: 'keep' }, { type: 'put', key: hugeKey, value: b('x') }]));
    t.same((await collect(kv, {})).map(([k, v]) => [k, s(v)]), [['keep', 'old']], 'neither the put nor the delete of that write is visible');
  });

  t.test('values come back as their own Uint8Arrays', async (t) => {
    const kv = await empty();
    await kv.write([{ type: 'put', key: 'a', value: b('abc') }, { type: 'put', key: 'b', value: b('de') }]);
    const got = [await kv.get('a'), ...(await kv.getMany(['b'])), ...(await collect(kv, {})).map(([, v]) => v)];
    for (const v of got) {
      t.equal(Object.getPrototypeOf(v), Uint8Array.prototype);
      t.equal(v!.byteOffset, 0);
      t.equal(v!.buffer.byteLength, v!.byteLength, 'not a view into a shared buffer');
    }
  });

  t.test('getMany: one answer per asked key, in order, duplicates included', async (t) => {
    const kv = await empty();
    await kv.write([{ type: 'put', key: 'a', value: b('1') }, { type: 'put', key: 'b', value: b('2') }]);
    t.same(await kv.getMany([]), []);
    t.same((await kv.getMany(['b', 'x', 'a', 'b'])).map(s), ['2', undefined, '1', '2']);
  });

  t.test('concurrent writers on overlapping keys in different orders: no deadlock error, every write lands', async (t) => {
    const kv = await empty();
    const keys = Array.from({ length: 2000 }, (_, i) => `c/${i}`);
    const writers = Array.from({ length: 12 }, (_, w) => {
      // each writer starts at another key, every other one goes backwards: lock orders that cross
      const shuffled = [...keys.slice(w * 150), ...keys.slice(0, w * 150)];
      if (w % 2) shuffled.reverse();
      return kv.write(shuffled.map((key) => ({ type: 'put' as const, key, value: b(String(w)) })));
    });
    await Promise.all(writers);
    const values = new Set((await collect(kv, prefixRange('c/'))).map(([, v]) => s(v)));
    t.equal((await keysOf(kv, prefixRange('c/'))).length, 2000);
    // rows are locked in key order, so the writes serialise on the first key: one writer's value is everywhere
    t.equal(values.size, 1, 'all keys hold the value of the same (last) writer: no write interleaved with another');
  });

  t.test("two processes' view: two stores on two pools see each other's writes", async (t) => {
    await pool.query('TRUNCATE kv');
    const other = await createPgPool(server.url, { maxConnections: 2 });
    t.teardown(() => other.end());
    const hubA = createPgKvStore(pool);
    const hubB = createPgKvStore(other);
    await hubA.write([{ type: 'put', key: 'edges/e1', value: b('from A') }]);
    t.equal(s(await hubB.get('edges/e1')), 'from A');
    await hubB.write([{ type: 'put', key: 'edges/e2', value: b('from B') }, { type: 'del', key: 'edges/e1' }]);
    t.same((await collect(hubA, prefixRange('edges/'))).map(([k, v]) => [k, s(v)]), [['edges/e2', 'from B']]);
    t.same((await hubA.getMany(['edges/e1', 'edges/e2'])).map(s), [undefined, 'from B']);
    await hubA.close();
    t.equal(s(await hubB.get('edges/e2')), 'from B', "closing one store does not end the other's pool");
  });
});
