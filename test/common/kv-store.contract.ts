import type { Test } from 'tap';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';

const b = (s: string) => new TextEncoder().encode(s);
const s = (v: Uint8Array | undefined) => (v ? new TextDecoder().decode(v) : undefined);

/** The contract every KeyValueStore backend must pass (see common/kv/kv-store.ts). */
export function kvStoreContract(t: Test, open: () => Promise<KeyValueStore>): void {
  t.test('get of a missing key is undefined; put then get returns the bytes', async (t) => {
    const kv = await open();
    t.equal(await kv.get('nope'), undefined);
    await kv.write([{ type: 'put', key: 'a', value: b('1') }]);
    t.equal(s(await kv.get('a')), '1');
    t.same((await kv.getMany(['a', 'x'])).map(s), ['1', undefined]);
    await kv.close();
  });
  t.test('write applies puts and deletes together', async (t) => {
    const kv = await open();
    await kv.write([{ type: 'put', key: 'a', value: b('1') }, { type: 'put', key: 'b', value: b('2') }]);
    await kv.write([{ type: 'del', key: 'a' }, { type: 'put', key: 'c', value: b('3') }]);
    t.same((await collect(kv, {})).map(([k, v]) => [k, s(v)]), [['b', '2'], ['c', '3']]);
    await kv.close();
  });
  t.test('entries honour range, order, reverse and limit', async (t) => {
    const kv = await open();
    await kv.write(['p/3', 'p/1', 'p/2', 'q/1', 'o/9'].map((key) => ({ type: 'put' as const, key, value: b(key) })));
    t.same((await collect(kv, prefixRange('p/'))).map(([k]) => k), ['p/1', 'p/2', 'p/3']);
    t.same((await collect(kv, prefixRange('p/', { reverse: true, limit: 2 }))).map(([k]) => k), ['p/3', 'p/2']);
    t.same((await collect(kv, { gte: 'p/2', lt: 'q/1' })).map(([k]) => k), ['p/2', 'p/3']);
    await kv.close();
  });
  t.test('a value written is not changed by mutating the caller buffer', async (t) => {
    const kv = await open();
    const v = b('xy');
    await kv.write([{ type: 'put', key: 'k', value: v }]);
    v[0] = 0;
    t.equal(s(await kv.get('k')), 'xy');
    await kv.close();
  });
}
