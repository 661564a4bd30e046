/**
 * Issue 12: "Removing an interface from collection never bills it." Every way a subject stops being
 * managed bills it at that instant (the spec), proven against a real hub (every module, embedded
 * broker, manual clock) through its HTTP API, with an edge publishing over MQTT:
 *   - PUT interface-selection deselecting an interface (also one a plan holds that never reported);
 *   - revoking an edge (the interfaces of exporters only that edge reported; IP groups stay);
 *   - deleting an IP group;
 * a repeated request bills once; a bill that failed is made later at the recorded instant, also
 * after a restart; a subject added again starts a fresh period.
 */
import t, { type Test } from 'tap';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { createHubModules } from '../../../hub/hub-modules';
import { orphanedExporters, unmanagedSubjects } from '../../../hub/edges/unmanaged-subjects';
import { AckStatus } from '../../../proto/codec';
import { provisionEdge } from '../../helpers/hub-edge';
import { startTestHub } from '../spine/hub-harness';
import { makeSummary } from '../spine/ingest-fixtures';

const NOW_MS = Date.UTC(2026, 10, 3, 12); // 2026-11-03T12:00Z, in the November cycle of a monthly plan (day 1)
const sec = (iso: string) => Date.parse(iso) / 1000;
const IF1 = 'if:192.0.2.1/1';
const IF2 = 'if:192.0.2.1/2';
const IF3 = 'if:198.51.100.7/3';
const IF7 = 'if:192.0.2.1/7'; // held by a plan, never reported
const GROUP = 'ipg:cust-a';
const plan = (subjectIds: string[]) => ({
  name: 'Gold', billingPeriod: 'monthly', generationDay: 1, currency: 'USD', baseSpeedBps: 10_000_000, baseCostMinor: 50_000,
  additionalSpeedBps: 1_000_000, additionalCostMinor: 2_500, percentileMethod: 'merge', emails: '', subjectIds,
});
/** The n-th 5-minute bucket from NOW_MS. */
const B = (n: number) => NOW_MS / 1000 + 300 * n;

async function setup(t: Test, opts: { kv?: KeyValueStore; nowMs?: number; failUnmanage?: () => boolean; fresh?: boolean } = {}) {
  let runDueJobs!: (nowMs: number) => Promise<unknown>;
  const h = await startTestHub({
    nowMs: opts.nowMs ?? NOW_MS, kv: opts.kv,
    modules: (ctx) => {
      const composed = createHubModules(ctx);
      runDueJobs = composed.billing.runDueJobs;
      const real = composed.unmanageSubject;
      return { ...composed, unmanageSubject: async (op: string, subjectId: string, atMs: number) => { if (opts.failUnmanage?.()) throw new Error('billing is down'); return real(op, subjectId, atMs); } };
    },
  });
  t.teardown(() => h.close());
  // The clock jumps by weeks: log in again when the session has expired.
  let token = h.adminToken;
  const admin = async (method: string, path: string, body?: unknown) => {
    let res = await h.api(method, path, body, token);
    if (res.status === 401) {
      token = (await h.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token;
      res = await h.api(method, path, body, token);
    }
    return res;
  };
  h.admin = admin;
  if (opts.fresh !== false) {
    t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'isp1' })).status, 201);
    await h.admin('PUT', '/api/v1/operators/isp1/active-customers', { count: 900 });
    t.equal((await h.admin('POST', '/api/v1/operators/isp1/addons/netflow/start-trial')).status, 200, 'collection allowed from 12:00');
  }
  const bills = async () => (await h.admin('GET', '/api/v1/operators/isp1/bills')).body.bills as { billNo: number; subjectId: string; reason: string; spanStartSec: number; spanEndSec: number }[];
  const bill = async (billNo: number) => (await h.admin('GET', `/api/v1/operators/isp1/bills/${billNo}`)).body.bill;
  const putSelection = (body: unknown) => h.admin('PUT', '/api/v1/operators/isp1/interface-selection', body);
  return { h, bills, bill, putSelection, runDue: () => runDueJobs(h.clock.nowMs()) };
}

/** One hour of traffic (buckets 12:00..12:55) for each subject. */
const hourOf = (...subjects: string[]) => subjects.flatMap((s) => Array.from({ length: 12 }, (_, i) => makeSummary(s, B(i), 1_000_000))).sort((a, b) => a.subjectId < b.subjectId ? -1 : 1);

t.test('the rule, pure: which subjects a change stops managing', async (t) => {
  const all = { allInterfaces: true, interfaces: [] };
  const only = (...refs: [string, number][]) => ({ allInterfaces: false, interfaces: refs.map(([exporter, ifIndex]) => ({ exporter, ifIndex })) });
  const known = [IF1, IF2, IF3, GROUP];
  t.same(unmanagedSubjects({ kind: 'interface_deselected', before: all, after: only(['192.0.2.1', 2]) }, known), [IF1, IF3], 'all → a list: every known interface not listed');
  t.same(unmanagedSubjects({ kind: 'interface_deselected', before: only(['192.0.2.1', 1], ['192.0.2.1', 7]), after: only(['192.0.2.1', 1]) }, []), [IF7], 'a listed interface never reported');
  t.same(unmanagedSubjects({ kind: 'interface_deselected', before: only(['192.0.2.1', 1]), after: all }, known), [], '→ all: nothing');
  t.same(unmanagedSubjects({ kind: 'interface_deselected', before: only(['192.0.2.1', 1]), after: only(['192.0.2.1', 1]) }, known), [], 'the same selection again: nothing');
  t.same(unmanagedSubjects({ kind: 'ip_group_deleted', groupName: 'cust-a' }, known), [GROUP]);
  t.same(orphanedExporters(['192.0.2.1', '198.51.100.7'], ['192.0.2.1']), ['198.51.100.7']);
  t.same(unmanagedSubjects({ kind: 'edge_revoked', orphanedExporters: ['198.51.100.7', '192.0.2.1'], selection: only(['192.0.2.1', 1], ['198.51.100.7', 3]) }, known), [IF1, IF3],
    'only interfaces the selection covers; IF2 was not selected, the group stays');
});

t.test('deselecting interfaces mid-cycle bills each at that instant, once; the cycle end does not bill them again', async (t) => {
  const { h, bills, bill, putSelection, runDue } = await setup(t);
  const created = await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan([IF1, IF2, IF7]));
  t.equal(created.status, 201);
  const planId = created.body.plan.planId;
  h.clock.advanceMs(65 * 60_000);
  const edge = await provisionEdge(h, 'isp1', 'pop-1');
  t.equal((await edge.deliver(hourOf(IF1, IF2))).status, AckStatus.STORED);

  // 18:02:30, inside the 18:00 slot: keep only IF2 (was: all interfaces).
  h.clock.setMs(Date.parse('2026-11-03T18:02:30Z'));
  const put = await putSelection({ allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 2 }] });
  t.equal(put.status, 200);
  t.same(put.body.unmanagedSubjectIds, [IF1, IF7], 'the reported IF1 and the never-reported IF7 the plan holds');
  t.same(put.body.billingPendingSubjectIds, []);
  const made = await bills();
  t.same(made.map((b) => [b.subjectId, b.reason]).sort(), [[IF1, 'subject_unmanaged'], [IF7, 'subject_unmanaged']]);
  const b1 = await bill(made.find((b) => b.subjectId === IF1)!.billNo);
  t.equal(b1.spanStartSec, NOW_MS / 1000, 'from the association');
  t.equal(b1.spanEndSec, sec('2026-11-03T18:02:30Z'), 'to the instant of the deselection');
  t.equal(b1.n, 6 * 12 + 1, 'every slot overlapping the span, the 18:00 slot included (common/period-slots.ts)');
  t.equal(b1.subjectReportedSlots, 12, 'the hour of traffic is in it');

  const again = await putSelection({ allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 2 }] });
  t.same(again.body.unmanagedSubjectIds, [], 'a repeated PUT stops managing nothing more');
  t.equal((await bills()).length, 2, 'and bills nothing twice');
  const p = (await h.admin('GET', `/api/v1/operators/isp1/bill-plans/${planId}`)).body.plan;
  t.same(p.associations.filter((a: { toSec?: number }) => a.toSec === undefined).map((a: { subjectId: string }) => a.subjectId), [IF2], 'IF1 and IF7 left the plan');

  h.clock.setMs(Date.parse('2026-12-01T01:00:00Z'));
  await runDue();
  const afterCycle = await bills();
  t.same(afterCycle.filter((b) => b.reason === 'cycle_end').map((b) => b.subjectId), [IF2], 'the November run bills only IF2');

  // Selected again and added again: a fresh managed period, billed from its own start.
  t.same((await putSelection({ allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 1 }, { exporter: '192.0.2.1', ifIndex: 2 }] })).body.unmanagedSubjectIds, []);
  h.clock.setMs(Date.parse('2026-12-02T00:00:00Z'));
  t.equal((await h.admin('POST', `/api/v1/operators/isp1/bill-plans/${planId}/subjects`, { subjectId: IF1 })).status, 201);
  h.clock.setMs(Date.parse('2027-01-01T01:00:00Z'));
  await runDue();
  const dec = (await bills()).filter((b) => b.subjectId === IF1 && b.reason === 'cycle_end');
  t.same(dec.map((b) => [b.spanStartSec, b.spanEndSec]), [[sec('2026-12-02T00:00:00Z'), sec('2027-01-01T00:00:00Z')]], 'December, from the re-add on');
});

t.test('revoking an edge bills the interfaces of exporters only it reported; IP groups stay managed; deleting a group bills it', async (t) => {
  const { h, bills, runDue } = await setup(t);
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.1.0.0/16'] })).status, 201);
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan([IF1, IF3, GROUP]))).status, 201);
  h.clock.advanceMs(65 * 60_000);
  const a = await provisionEdge(h, 'isp1', 'pop-a');
  const b = await provisionEdge(h, 'isp1', 'pop-b');
  t.equal((await a.deliver(hourOf(GROUP, IF1, IF3))).status, AckStatus.STORED);
  t.equal((await b.deliver(hourOf(GROUP, IF2))).status, AckStatus.STORED, 'pop-b reports exporter 192.0.2.1 too');

  h.clock.setMs(Date.parse('2026-11-03T15:00:00Z'));
  t.equal((await h.admin('POST', `/api/v1/operators/isp1/edges/${a.edgeId}/revoke`)).status, 200);
  let made = await bills();
  t.same(made.map((x) => [x.subjectId, x.reason, x.spanEndSec]), [[IF3, 'subject_unmanaged', sec('2026-11-03T15:00:00Z')]],
    'only IF3: 198.51.100.7 was reported by pop-a alone; IF1 is still collected by pop-b; the group by every edge');
  h.clock.advanceMs(60_000);
  t.equal((await h.admin('POST', `/api/v1/operators/isp1/edges/${a.edgeId}/revoke`)).status, 200, 'revoking again');
  t.equal((await bills()).length, 1, 'bills nothing twice');

  h.clock.setMs(Date.parse('2026-11-04T00:00:00Z'));
  t.equal((await h.admin('POST', `/api/v1/operators/isp1/edges/${b.edgeId}/revoke`)).status, 200, 'the last edge');
  made = await bills();
  t.same(made.filter((x) => x.subjectId !== IF3).map((x) => [x.subjectId, x.spanEndSec]), [[IF1, sec('2026-11-04T00:00:00Z')]], 'IF1 now; the group stays managed');

  h.clock.setMs(Date.parse('2026-11-10T00:00:00Z'));
  const del = await h.admin('DELETE', '/api/v1/operators/isp1/ip-groups/cust-a');
  t.equal(del.status, 204);
  made = await bills();
  t.same(made.filter((x) => x.subjectId === GROUP).map((x) => [x.reason, x.spanEndSec]), [['subject_unmanaged', sec('2026-11-10T00:00:00Z')]], 'deleting the group bills it');
  h.clock.setMs(Date.parse('2026-12-01T01:00:00Z'));
  await runDue();
  t.equal((await bills()).length, 3, 'nothing left for the cycle-end run');
});

t.test('billing down: the selection is stored, and the bill is made later at the recorded instant (next change, or the next start)', async (t) => {
  const kv = createMemoryKvStore();
  let down = true;
  const first = await setup(t, { kv, failUnmanage: () => down });
  const { h } = first;
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan([IF1, IF2]))).status, 201);
  h.clock.setMs(Date.parse('2026-11-03T18:02:30Z'));
  const put = await first.putSelection({ allInterfaces: false, interfaces: [] });
  t.equal(put.status, 200, 'the change is not lost');
  t.same(put.body.unmanagedSubjectIds, [IF1, IF2]);
  t.same(put.body.billingPendingSubjectIds, [IF1, IF2], 'and says which bills are pending');
  t.same((await h.admin('GET', '/api/v1/operators/isp1/interface-selection')).body.selection, { allInterfaces: false, interfaces: [] });
  t.same(await first.bills(), []);

  // A later change delivers what is pending: IF1 and IF2, at 18:02:30.
  h.clock.setMs(Date.parse('2026-11-03T19:00:00Z'));
  down = false;
  const retried = await first.putSelection({ allInterfaces: false, interfaces: [] });
  t.same(retried.body.unmanagedSubjectIds, []);
  t.same(retried.body.billingPendingSubjectIds, []);
  t.same((await first.bills()).map((b) => [b.subjectId, b.spanEndSec]).sort(), [[IF1, sec('2026-11-03T18:02:30Z')], [IF2, sec('2026-11-03T18:02:30Z')]], 'at the recorded instant');

  // Down again for a deleted group; the hub stops; the next start bills it, at its instant.
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.1.0.0/16'] })).status, 201);
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan([GROUP]))).status, 201);
  h.clock.setMs(Date.parse('2026-11-03T20:00:00Z'));
  down = true;
  t.equal((await h.admin('DELETE', '/api/v1/operators/isp1/ip-groups/cust-a')).status, 204);
  t.equal((await first.bills()).length, 2);
  await h.close();
  down = false;
  const second = await setup(t, { kv, fresh: false, nowMs: Date.parse('2026-11-05T00:00:00Z') });
  const after = await second.bills();
  t.same(after.filter((b) => b.subjectId === GROUP).map((b) => [b.reason, b.spanEndSec]), [['subject_unmanaged', sec('2026-11-03T20:00:00Z')]], 'made at the start, at the deletion instant');
});
