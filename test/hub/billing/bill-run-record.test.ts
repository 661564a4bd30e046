/**
 * The bill run's stored record (hub/billing/bill-run-record.ts): how often it writes (at the start, at
 * most once a second per operator, at an operator's last bill, at the end), that a run with nothing due
 * writes only the last check, and that a failing write does not fail the run.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { silentLogger, type Logger } from '../../../common/logger';
import { startBillRunRecord, type BillRunStore } from '../../../hub/billing/bill-run-record';

function fakeStore(opts: { failing?: boolean } = {}) {
  const writes: string[] = [];
  const store: BillRunStore = {
    async startRun(head, counts) { writes.push(`start ${counts.map(([op, c]) => `${op}:${c.done}/${c.due}`).join(' ')}`); },
    async updateRun(_runAtMs, change) {
      if (opts.failing) throw new Error('store unavailable');
      const parts = [
        ...(change.head ? [`head${change.head.finishedAtMs !== undefined ? ' finished' : ''}${change.head.mailed !== undefined ? ` mailed=${change.head.mailed}` : ''}`] : []),
        ...(change.counts ?? []).map(([op, c]) => `${op}:${c.done}/${c.due}${c.failed ? ` failed=${c.failed}` : ''}`),
        ...(change.check ? [`check due=${change.check.due}`] : []),
      ];
      writes.push(parts.join(' '));
    },
    runOf: async () => undefined,
    getRunCheck: async () => undefined,
  };
  return { store, writes };
}

t.test('writes at the start, at most once a second per operator, at its last bill, and at the end', async (t) => {
  const clock = createManualClock(1_000_000);
  const { store, writes } = fakeStore();
  const record = await startBillRunRecord({ store, clock, log: silentLogger, hubId: 'hub-a' }, 999_000, new Map([['isp1', 4], ['isp2', 1]]));
  t.same(writes, ['start isp1:0/4 isp2:0/1']);
  clock.advanceMs(400);
  await record.count('isp1', 'made');
  t.equal(writes.length, 1, '0.4 s after the start: not yet');
  clock.advanceMs(700);
  await record.count('isp1', 'found');
  t.equal(writes[1], 'isp1:2/4', '1.1 s: written, with both bills');
  clock.advanceMs(300);
  await record.count('isp1', 'failed');
  t.equal(writes.length, 2, '0.3 s after the last write: not yet');
  await record.count('isp2', 'made');
  t.equal(writes[2], 'isp2:1/1', 'isp2\'s last bill: written at once (its own throttle)');
  await record.count('isp1', 'made');
  t.equal(writes[3], 'isp1:3/4 failed=1', 'isp1\'s last bill: written at once');
  await record.finish();
  t.equal(writes[4], 'head finished isp1:3/4 failed=1 isp2:1/1 check due=5', 'the end: one write');
  await record.mailed(2);
  t.equal(writes[5], 'head finished mailed=2');
  t.equal(writes.length, 6);
});

t.test('a run with nothing due writes the last check only', async (t) => {
  const { store, writes } = fakeStore();
  const record = await startBillRunRecord({ store, clock: createManualClock(5), log: silentLogger }, 5, new Map());
  await record.finish();
  await record.mailed(0);
  t.same(writes, ['check due=0']);
});

t.test('a failing write is logged and the run goes on', async (t) => {
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: (_o, msg) => { errors.push(msg ?? ''); } };
  const { store } = fakeStore({ failing: true });
  const clock = createManualClock(0);
  const record = await startBillRunRecord({ store, clock, log }, 0, new Map([['isp1', 1]]));
  await t.resolves(record.count('isp1', 'made'));
  await t.resolves(record.finish());
  t.same(errors, ['bill run record: progress not stored', 'bill run record: end not stored']);
});
