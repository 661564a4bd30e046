/**
 * Issue 10, "Exactly-once across hubs": gapless invoice, credit-note and bill numbers, and scheduled
 * jobs once per due instant, with several hub processes on one PostgreSQL. Each "hub" here is what a
 * hub process builds in postgres mode (hub/store/open-hub-storage.ts): a pool of its own, the KV port
 * on it carrying postgresSections (advisory locks), the pg series store, and its own commerce and
 * billing modules; the three hubs are driven AT ONCE (Promise.all), so only the database can keep
 * them apart (as in test/common/critical-sections.test.ts, several pools = several processes).
 *
 * Proof that this tests the cross-process exclusion: with hubSections = 'in-process' (each hub
 * given inProcessSections(): what every hub would have without PostgreSQL's advisory locks), two
 * runs on 2026-12-01 on this machine failed 35 and 32 assertions, in every part:
 * - invoices: the first concurrent round answered 16 issues for 8 operators, under INV-000001..12
 *   with INV-000001/2/3/10/12 issued two or three times (documents overwriting each other); the
 *   series did not stand at 8; four operators had two November invoices each;
 * - credit notes: 25 requests got repeated CN seqs and the series fell short (19..25 never issued);
 *   in the second run one Idempotency-Key sent to three hubs made more than one credit note;
 * - bills: generate-now with one Idempotency-Key cut some subjects twice (more than one "not
 *   replayed") and in the second run the hubs answered different bills; without a key more than
 *   one hub billed a subject; the bill run made cycle-end bills more than once; bill numbers were
 *   reused (1..12 and 1..18 not reached) and bills were mailed more than once;
 * - jobs: runDueJobs at one instant ran trial-expiry (and invoices) on more than one hub, each
 *   expired trial's edges were pushed twice, and the next minute's job ran on three hubs.
 */
import t, { type Test } from 'tap';
import { createManualClock } from '../../../common/clock';
import { inProcessSections } from '../../../common/critical-sections';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { collect, prefixRange } from '../../../common/kv/kv-store';
import { createPgKvStore } from '../../../common/kv/pg-kv-store';
import { decodeJson } from '../../../common/kv/json-codec';
import { silentLogger } from '../../../common/logger';
import { createBillingModule, type BillingModule } from '../../../hub/billing/billing-module';
import { createCommerceModule, type CommerceModule } from '../../../hub/commerce/commerce-module';
import { createCommerceRepository } from '../../../hub/commerce/commerce-repository';
import { formatInvoiceNumber, type Invoice } from '../../../hub/commerce/invoice';
import { COMMERCE_JOBS } from '../../../hub/commerce/job-schedule';
import type { MailMessage } from '../../../hub/ports';
import { migrate } from '../../../hub/store/pg/migrations';
import { createPgPool, type PgPool } from '../../../hub/store/pg/pg-pool';
import { postgresSections } from '../../../hub/store/pg/pg-sections';
import { createPgSeriesStore } from '../../../hub/store/pg/pg-series-store';
import type { SeriesStore, SummaryInput } from '../../../hub/store/series-store';
import { startPostgres } from '../../helpers/postgres';
import { basePlan } from '../billing/billing-fixture';
import { seedSeries } from '../store/series-fixtures';

/** 'in-process' gives each hub sections that hold in its own process only: every part must then fail (see above). */
const hubSections: 'postgres' | 'in-process' = 'postgres';
const HUBS = 3;
const NOV_1 = Date.UTC(2026, 10, 1);
const DEC_1 = Date.UTC(2026, 11, 1);
const DAY_MS = 86_400_000;

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);
const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);

interface Hub {
  pool: PgPool;
  kv: KeyValueStore;
  series: SeriesStore;
}

t.test('several hubs on one PostgreSQL: numbers and jobs', async (t) => {
  const server = await startPostgres(t);
  if (!server) return t.pass('skipped: no PostgreSQL on this machine');
  let dbN = 0;

  /** A fresh migrated database and HUBS hubs on it, each with its own pool (closed at the subtest's end). */
  async function cluster(t: Test): Promise<Hub[]> {
    const name = `numbering_${dbN++}`;
    const admin = await createPgPool(server!.url, { maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = server!.url.replace(/\/[^/]+$/, `/${name}`);
    const hubs: Hub[] = [];
    t.teardown(async () => { for (const h of hubs) await h.pool.end(); });
    for (let i = 0; i < HUBS; i++) {
      // As a hub process: its own pool (default size), migrations at start (concurrent starts are safe).
      const pool = await createPgPool(url, { applicationName: `flowbill-hub test-${i}` });
      const sections = hubSections === 'postgres' ? postgresSections(pool, { log: silentLogger }) : inProcessSections();
      hubs.push({ pool, kv: Object.assign(createPgKvStore(pool), { sections }), series: createPgSeriesStore({ pool }) });
    }
    await Promise.all(hubs.map((h) => migrate(h.pool)));
    return hubs;
  }

  t.test('invoices and credit notes issued from three hubs at once: one per key, numbers gapless', async (t) => {
    const hubs = await cluster(t);
    const clock = createManualClock(NOV_1 + 9 * 3_600_000);
    const pushes: string[] = [];
    const commerce: CommerceModule[] = hubs.map((h) => createCommerceModule({
      kv: h.kv, clock, log: silentLogger, startJobs: false,
      edgeConfigPusher: { pushConfigs: async (op) => { pushes.push(op); } }, purgeOperatorData: async () => {},
    }));
    const repo = createCommerceRepository(hubs[0]!.kv);

    // Eight operators subscribed in November through whichever hub; half on Mid with the add-on
    // active (two lines), half on Small (one line). Their November invoices fall due on 1 December.
    const operators = range(8).map((i) => `op-${String(i).padStart(2, '0')}`);
    await Promise.all(operators.map(async (op, i) => {
      const c = commerce[i % HUBS]!.service;
      await c.setActiveCustomers(op, i % 2 === 0 ? 800 : 300);
      if (i % 2 === 0) await c.activate(op);
    }));

    clock.setMs(DEC_1 + 5 * 60_000);
    const round = async () => (await Promise.all(commerce.map((c) => c.runJob('invoices', clock.nowMs())))).flat() as string[];
    const first = await round();
    t.same([...first].sort(), range(8).map((n) => formatInvoiceNumber('invoice', n)), 'the first concurrent round issues INV-000001..8, each once');
    t.same(await round(), [], 'a second concurrent round issues nothing');
    t.same(await round(), [], 'nor a third');

    // Read back from the database, not from what the hubs answered.
    const stored = (await collect(hubs[1]!.kv, prefixRange('commerce/inv/'))).map(([, v]) => decodeJson<Invoice>(v));
    t.same(sortNum(stored.map((d) => d.seq)), range(8), 'stored documents: seq 1..8, no gap, no repeat');
    t.same(stored.map((d) => d.number), stored.map((d) => formatInvoiceNumber('invoice', d.seq)), 'each number is its seq');
    t.equal(await repo.lastSeq('invoice'), 8, 'the series stands at 8');
    for (const op of operators) {
      const mine = await commerce[2]!.service.listInvoices(op);
      t.same(mine.map((i) => [i.operatorId, i.periodKey]), [[op, '2026-11']], `${op}: exactly one invoice, its own, for November`);
    }
    t.equal(new Set(stored.map((d) => d.operatorId)).size, 8, 'one invoice per operator');

    // Credit notes: three per invoice, one from each hub, all at once; plus one request repeated
    // on every hub with one Idempotency-Key (a client retrying through another hub).
    const byOp = new Map(stored.map((d) => [d.operatorId, d.number]));
    const requests: Promise<{ creditNote: { number: string; seq: number; creditsInvoice: string }; replayed: boolean }>[] = [];
    for (const op of operators) {
      for (const inv of commerce.map((c) => c.invoices)) {
        requests.push(inv.issueCreditNote(op, byOp.get(op)!, { body: { reason: 'goodwill', lines: [{ lineNo: 1, amountMinor: 100 }] } }));
      }
    }
    const keyed = commerce.map((c) => c.invoices.issueCreditNote('op-01', byOp.get('op-01')!, { body: { reason: 'outage', lines: [{ lineNo: 1, amountMinor: 50 }] }, idempotencyKeyHeader: 'cn-retry-1' }));
    const plain = await Promise.all(requests);
    const retried = await Promise.all(keyed);
    t.equal(new Set(retried.map((r) => r.creditNote.number)).size, 1, 'one Idempotency-Key on three hubs: one credit note');
    t.equal(retried.filter((r) => !r.replayed).length, 1, 'issued once, replayed twice');
    const numbers = [...plain, retried[0]!].map((r) => r.creditNote.seq);
    t.same(sortNum(numbers), range(25), 'CN seqs 1..25: distinct, no gap');
    const storedCns = (await collect(hubs[0]!.kv, prefixRange('commerce/inv/'))).map(([, v]) => decodeJson<{ kind: string; seq: number; creditsInvoice?: string }>(v)).filter((d) => d.kind === 'credit_note');
    t.same(sortNum(storedCns.map((d) => d.seq)), range(25), 'stored credit notes: 1..25');
    t.equal(await repo.lastSeq('credit_note'), 25);
    for (const op of operators) {
      const cns = await commerce[1]!.invoices.listCreditNotes(op);
      t.equal(cns.length, op === 'op-01' ? 4 : 3, `${op}: every credit note kept`);
    }
    t.equal(await repo.lastSeq('invoice'), 8, 'credit notes never touch the invoice series');
  });

  t.test('bills from three hubs at once: generate-now and the bill run, one bill per span, numbers 1..n', async (t) => {
    const hubs = await cluster(t);
    const clock = createManualClock(NOV_1);
    const mailers = hubs.map(() => ({ sent: [] as MailMessage[], async send(m: MailMessage) { this.sent.push(m); return { id: String(this.sent.length) }; } }));
    const billing: BillingModule[] = hubs.map((h, i) => createBillingModule({
      kv: h.kv, clock, log: silentLogger, seriesReader: h.series, mailer: mailers[i]!, startJobs: false,
      renderPdf: async () => new TextEncoder().encode('%PDF-stub'),
    }));

    // Six interfaces with a day of traffic each, stored through the pg series store as ingest stores it.
    const subjects = range(6).map((i) => `if:10.0.0.1/${i}`);
    const points: SummaryInput[] = [];
    const bytesOf = (s: number, slot: number) => 1_000_000 * (s + 1) + slot * 17;
    subjects.forEach((subjectId, s) => {
      for (let slot = 0; slot < 288; slot++) {
        points.push({ subjectId, kind: 'interface', bucketStartSec: NOV_1 / 1000 + slot * 300, bytesIn: bytesOf(s, slot), bytesOut: 1000, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 });
      }
    });
    await seedSeries(hubs[0]!.series, 'isp1', points);
    const plan = await billing[1]!.service.createPlan('isp1', { ...basePlan, subjectIds: subjects });

    // Generate now for every subject from every hub at once, one Idempotency-Key per subject.
    clock.setMs(NOV_1 + DAY_MS + 15 * 60_000); // the cut: 2 Nov 00:00 (the last boundary 900 s before now)
    const cut = await Promise.all(subjects.flatMap((s, i) => billing.map((b) => b.service.generateNow('isp1', plan.planId, s, {}, `gen-${i}`).then((r) => ({ s, ...r })))));
    for (const s of subjects) {
      const mine = cut.filter((r) => r.s === s);
      t.equal(new Set(mine.map((r) => r.bill.billNo)).size, 1, `${s}: the three hubs answer the same bill`);
      t.equal(mine.filter((r) => !r.replayed).length, 1, `${s}: cut once, replayed twice`);
    }
    let bills = await billing[2]!.store.listBills('isp1');
    t.same(sortNum(bills.map((b) => b.billNo)), range(6), 'bill numbers 1..6, no gap, no repeat');
    t.same(bills.map((b) => b.subjectId).sort(), [...subjects].sort(), 'one bill per subject');
    for (const b of bills) {
      const s = subjects.indexOf(b.subjectId);
      const samples = (await billing[0]!.store.getSamples('isp1', b.billNo))!;
      const expected = range(288, 0).reduce((sum, slot) => sum + bytesOf(s, slot), 0);
      t.equal(samples.bytesIn.reduce((a, x) => a + x, 0), expected, `${b.subjectId}: the bill holds the day's bytes, read from PostgreSQL`);
    }

    // A day later, generate now again WITHOUT a key from all three hubs: one cut wins per subject,
    // the others find nothing left to bill.
    clock.setMs(NOV_1 + 2 * DAY_MS + 15 * 60_000);
    const again = await Promise.allSettled(subjects.flatMap((s) => billing.map((b) => b.service.generateNow('isp1', plan.planId, s, {}))));
    t.equal(again.filter((r) => r.status === 'fulfilled').length, 6, 'one bill per subject');
    t.ok(again.every((r) => r.status === 'fulfilled' || (r.reason as { code?: string }).code === 'VALIDATION_FAILED'), 'the others: nothing to bill yet');
    bills = await billing[0]!.store.listBills('isp1');
    t.same(sortNum(bills.map((b) => b.billNo)), range(12), 'bill numbers 1..12');

    // The cycle ends: every hub's bill run at once (section 'job:bill-run'), twice.
    clock.setMs(DEC_1 + 20 * 60_000);
    const runs = await Promise.all(billing.map((b) => b.runDueJobs(clock.nowMs())));
    t.equal(runs.reduce((n, r) => n + r.generated, 0), 6, 'the cycle-end bills are made once, by whichever hub');
    t.ok(runs.every((r) => r.failed === 0));
    const rerun = await Promise.all(billing.map((b) => b.runDueJobs(clock.nowMs() + 60_000)));
    t.equal(rerun.reduce((n, r) => n + r.generated, 0), 0, 'a second run finds nothing due');
    bills = await billing[1]!.store.listBills('isp1');
    t.same(sortNum(bills.map((b) => b.billNo)), range(18), 'bill numbers 1..18');
    for (const s of subjects) {
      t.same(bills.filter((b) => b.subjectId === s).map((b) => b.reason).sort(), ['cycle_end', 'generated_now', 'generated_now'], `${s}: three bills tiling November`);
    }

    // Each bill's report mailed once across the cluster (section 'billing-mail').
    await Promise.all(billing.map((b) => b.service.mailsIdle()));
    await Promise.all(billing.map((b) => b.service.sendPendingMails()));
    const mailed = mailers.flatMap((m) => m.sent.map((x) => Number(/^Bill (\d+):/.exec(x.subject)![1])));
    t.same(sortNum(mailed), range(18), 'every bill mailed exactly once');
    t.same(await billing[0]!.store.pendingMails(), [], 'nothing left pending');
  });

  t.test('commerce jobs at one instant on three hubs: each due job runs once', async (t) => {
    const hubs = await cluster(t);
    const clock = createManualClock(NOV_1 + 9 * 3_600_000);
    const pushes: string[] = [];
    const commerce = hubs.map((h) => createCommerceModule({
      kv: h.kv, clock, log: silentLogger, startJobs: false,
      edgeConfigPusher: { pushConfigs: async (op) => { pushes.push(op); } }, purgeOperatorData: async () => {},
    }));
    const repo = createCommerceRepository(hubs[0]!.kv);
    const trials = ['isp-a', 'isp-b', 'isp-c', 'isp-d'];
    for (const [i, op] of trials.entries()) {
      await commerce[i % HUBS]!.service.setActiveCustomers(op, 900);
      await commerce[i % HUBS]!.service.startTrial(op);
    }
    pushes.length = 0;

    // Past the 15-day trials: every job is due (none ever ran); every hub's catch-up fires at once.
    const instant = NOV_1 + 20 * DAY_MS;
    clock.setMs(instant);
    const ran = (await Promise.all(commerce.map((c) => c.runDueJobs(instant)))).flat();
    t.same([...ran].sort(), COMMERCE_JOBS.map((j) => j.name).sort(), 'each job ran on exactly one hub');
    for (const job of COMMERCE_JOBS) t.equal(await repo.getJobLastRun(job.name), instant, `${job.name}: last run recorded at the instant`);
    for (const op of trials) {
      const sub = (await repo.getSubscription(op))!;
      t.equal(sub.addon.status, 'trial_expired', `${op}: trial expired`);
      t.equal(sub.notices.filter((n) => n.code === 'trial_expired').length, 1, `${op}: one expiry notice`);
    }
    t.same([...pushes].sort(), [...trials].sort(), 'one edge push per expired trial');

    const later = (await Promise.all(commerce.map((c) => c.runDueJobs(instant)))).flat();
    t.same(later, [], 'the same instant again: nothing due on any hub');
    // The next minute: only the minute job is due, and it runs once.
    const next = (await Promise.all(commerce.map((c) => c.runDueJobs(instant + 60_000)))).flat();
    t.same(next, ['trial-expiry'], 'the next minute\'s trial-expiry runs once');
    t.equal(pushes.length, trials.length, 'no push again');
  });
});
