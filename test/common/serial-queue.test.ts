import t from 'tap';
import { createKeyedSerialQueue, createSerialQueue } from '../../common/serial-queue';

/** A task whose end the test decides. */
function gate<T>() {
  let open!: (v: T) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<T>((resolve, reject) => { open = resolve; fail = reject; });
  return { promise, open, fail };
}
const ticks = async (n = 10) => { for (let i = 0; i < n; i++) await Promise.resolve(); };

t.test('tasks run one at a time, in call order, each result to its own caller', async (t) => {
  const q = createSerialQueue();
  const log: string[] = [];
  const a = gate<string>();
  const b = gate<string>();
  const ra = q.run(async () => { log.push('a start'); const v = await a.promise; log.push('a end'); return v; });
  const rb = q.run(async () => { log.push('b start'); const v = await b.promise; log.push('b end'); return v; });
  const rc = q.run(() => { log.push('c'); return 3; }); // a synchronous task is queued the same way
  await ticks();
  t.same(log, ['a start'], 'b waits for a although b is ready');
  b.open('B');
  await ticks();
  t.same(log, ['a start'], 'finishing b\'s work early does not let it overtake');
  a.open('A');
  t.same(await Promise.all([ra, rb, rc]), ['A', 'B', 3]);
  t.same(log, ['a start', 'a end', 'b start', 'b end', 'c']);
});

t.test('a failing task does not poison the queue: its caller gets the error, the next task runs', async (t) => {
  const q = createSerialQueue();
  const failing = q.run(async () => { throw new Error('boom'); });
  const throwingSync = q.run(() => { throw new Error('sync boom'); });
  const after = q.run(async () => 'still runs');
  await t.rejects(failing, /boom/);
  await t.rejects(throwingSync, /sync boom/);
  t.equal(await after, 'still runs');
  t.equal(await q.run(() => 'later too'), 'later too');
});

t.test('idle() waits for everything queued so far and never rejects', async (t) => {
  const q = createSerialQueue();
  const g = gate<void>();
  let done = false;
  void q.run(() => g.promise).then(() => { done = true; });
  const failing = q.run(async () => { throw new Error('x'); });
  failing.catch(() => undefined);
  let idle = false;
  void q.idle().then(() => { idle = true; });
  await ticks();
  t.notOk(idle);
  g.open();
  await q.idle();
  t.ok(done && idle);
  t.equal(await createSerialQueue().idle(), undefined, 'an empty queue is idle at once');
});

t.test('keyed: one key runs in order, other keys run meanwhile; keys are forgotten when settled', async (t) => {
  const q = createKeyedSerialQueue<string>();
  const log: string[] = [];
  const a1 = gate<void>();
  const r1 = q.run('a', async () => { log.push('a1 start'); await a1.promise; log.push('a1 end'); });
  const r2 = q.run('a', async () => { log.push('a2'); throw new Error('a2 failed'); });
  const r3 = q.run('a', () => { log.push('a3'); return 'a3'; });
  const rb = q.run('b', () => { log.push('b'); return 'b'; });
  t.equal(await rb, 'b');
  t.same(log, ['a1 start', 'b'], 'b did not wait for a');
  t.ok(q.isBusy('a'));
  a1.open();
  await r1;
  await t.rejects(r2, /a2 failed/);
  t.equal(await r3, 'a3', 'a failure on a key does not poison that key');
  t.same(log, ['a1 start', 'b', 'a1 end', 'a2', 'a3']);
  await q.idle('a');
  await ticks();
  t.notOk(q.isBusy('a'));
  t.notOk(q.isBusy('b'));
});
