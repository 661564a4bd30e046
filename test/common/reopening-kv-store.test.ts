import t from 'tap';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { createReopeningKvStore } from '../../common/kv/reopening-kv-store';
import { createManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { collect } from '../../common/kv/kv-store';
import { kvStoreContract } from './kv-store.contract';
import { createFaultyKv } from './helpers/faulty-kv-store';

const b = (s: string) => new TextEncoder().encode(s);

t.test('contract: reopening wrapper over memory', async (t) => kvStoreContract(t, async () => createReopeningKvStore({ open: async () => createMemoryKvStore(), log: silentLogger })));
t.test('contract: reopening wrapper over LevelDB', async (t) => {
  let n = 0;
  const dir = t.testdir({});
  kvStoreContract(t, async () => { const loc = `${dir}/db${n++}`; return createReopeningKvStore({ open: () => openLevelKvStore(loc), log: silentLogger }); });
});

t.test('a failed write closes the handle; the next call reopens; backoff on the clock; counted', async (t) => {
  const faults = createFaultyKv(createMemoryKvStore());
  const clock = createManualClock(1000);
  let opens = 0;
  let closes = 0;
  const kv = createReopeningKvStore({
    open: async () => { opens++; const h = faults.handle(); return { ...h, close: async () => { closes++; await h.close(); } }; },
    log: silentLogger, clock, minBackoffMs: 100, maxBackoffMs: 400,
  });
  await kv.write([{ type: 'put', key: 'a', value: b('1') }]);
  t.equal(opens, 1);
  faults.failWrites(true);
  await t.rejects(kv.write([{ type: 'put', key: 'b', value: b('2') }]), { code: 'ENOSPC' });
  t.same(kv.health(), { writeErrors: 1, readErrors: 0, reopens: 0, healthy: false });
  // First reopen goes at once; the disk is still full, so the write fails again on the new handle.
  await t.rejects(kv.write([{ type: 'put', key: 'b', value: b('2') }]), { code: 'ENOSPC' });
  t.equal(opens, 2);
  t.equal(closes, 1, 'the failed handle was closed before reopening');
  // Inside the backoff: refused without touching the backend.
  await t.rejects(kv.write([{ type: 'put', key: 'b', value: b('2') }]), { code: 'STORE_UNAVAILABLE' });
  t.equal(opens, 2);
  t.equal(kv.health().writeErrors, 3);
  faults.failWrites(false);
  await t.rejects(kv.write([{ type: 'put', key: 'b', value: b('2') }]), { code: 'STORE_UNAVAILABLE' }, 'still in the backoff window');
  clock.advanceMs(200);
  await kv.write([{ type: 'put', key: 'b', value: b('2') }]);
  t.equal(opens, 3);
  t.match(kv.health(), { healthy: true, reopens: 2 });
  t.same((await collect(kv, {})).map(([k]) => k), ['a', 'b']);
  // A fresh failure starts again from the short backoff.
  faults.failWrites(true);
  await t.rejects(kv.write([{ type: 'put', key: 'c', value: b('3') }]));
  faults.failWrites(false);
  await kv.write([{ type: 'put', key: 'c', value: b('3') }]);
  t.equal(opens, 4);
  await kv.close();
  await t.rejects(kv.get('a'), { code: 'STORE_UNAVAILABLE' }, 'closed');
});

t.test('a read that fails with an I/O error also reopens; a plain error does not', async (t) => {
  const faults = createFaultyKv(createMemoryKvStore());
  let opens = 0;
  const kv = createReopeningKvStore({ open: async () => { opens++; return faults.handle(); }, log: silentLogger, clock: createManualClock(0) });
  await kv.write([{ type: 'put', key: 'a', value: b('1') }]);
  faults.failReads(Object.assign(new Error('Database is not open'), { code: 'LEVEL_DATABASE_NOT_OPEN' }));
  await t.rejects(kv.get('a'));
  faults.failReads(undefined);
  t.equal(new TextDecoder().decode(await kv.get('a')), '1');
  t.equal(opens, 2);
  faults.failReads(new Error('bad argument'));
  await t.rejects(kv.get('a'));
  faults.failReads(undefined);
  await kv.get('a');
  t.equal(opens, 2, 'not an I/O error: same handle');
  await kv.close();
});

t.test('writes are serialized: a write queued behind a failing one goes to a fresh handle', async (t) => {
  const faults = createFaultyKv(createMemoryKvStore());
  let opens = 0;
  const kv = createReopeningKvStore({ open: async () => { opens++; return faults.handle(); }, log: silentLogger, clock: createManualClock(0) });
  await kv.get('x');
  faults.failNextWrites(1);
  const [r1, r2] = await Promise.allSettled([
    kv.write([{ type: 'put', key: 'a', value: b('1') }]),
    kv.write([{ type: 'put', key: 'b', value: b('2') }]),
  ]);
  t.equal(r1.status, 'rejected');
  t.equal(r2.status, 'fulfilled');
  t.equal(opens, 2, 'the second write used a reopened handle');
  t.same((await collect(kv, {})).map(([k]) => k), ['b']);
  await kv.close();
});
