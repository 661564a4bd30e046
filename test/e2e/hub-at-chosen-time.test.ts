/**
 * Issue 12's proof clause "the hub's clock controlled", against the real program: `node --import tsx
 * hub/main.ts` (LevelDB in a temp dir, free ports, every module, node-cron jobs on) started at a chosen
 * instant with FLOWBILL_CLOCK, and moved forward with FLOWBILL_CLOCK_CONTROL=on through
 * POST /api/v1/hub/clock, which runs the jobs due at the new time before it answers (hub/ops/due-jobs.ts).
 * Only HTTP: an operator on the Mid tier starts the add-on's trial; 15 days later it has expired and
 * collection is paused; on the 1st the invoice run and the bill run have made the month's invoice
 * and the 95th-percentile bill.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../helpers/free-ports';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START = '2027-01-10T09:00:00.000Z';
const DAY_MS = 86_400_000;
const ADMIN_PASSWORD = 'chosen-time-admin-pw';

/** The real hub program with `env` added; resolves once it printed "ready" (or rejects with its stderr). */
async function runHub(t: Test, env: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-chosen-time-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const httpPort = await freeTcpPort();
  const mqttPort = await freeTcpPort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env, LOG_LEVEL: 'info', FLOWBILL_HUB_DATA_DIR: dataDir, FLOWBILL_HTTP_PORT: String(httpPort), FLOWBILL_MQTT_PORT: String(mqttPort),
    FLOWBILL_ADMIN_PASSWORD: ADMIN_PASSWORD, FLOWBILL_JOBS: 'on', ...env,
  };
  for (const key of ['FLOWBILL_CLOCK', 'FLOWBILL_CLOCK_CONTROL'] as const) if (!(key in env)) delete childEnv[key];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      lines.push(line);
      if (/flowbill hub ready/.test(line)) resolve();
    });
    void exited.then((code) => reject(new Error(`hub exited (${code}) before ready: ${stderr.slice(-2000)}`)));
  });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  t.teardown(() => { clearTimeout(killer); proc.kill('SIGKILL'); });
  return { proc, httpPort, lines, ready, exited, stderr: () => stderr };
}

t.test('a hub started at a chosen instant, moved forward over HTTP: trial expiry, invoice run, bill run', async (t) => {
  const hub = await runHub(t, { FLOWBILL_CLOCK: START, FLOWBILL_CLOCK_CONTROL: 'on' });
  await hub.ready;
  let token = '';
  const api = async (method: string, route: string, body?: unknown, as = token) => {
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(as ? { authorization: `Bearer ${as}` } : {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
  };
  /** A session is 12 h of the hub's time: after a jump of days it has expired, as it should. */
  const login = async () => { token = (await api('POST', '/login', { username: 'admin', password: ADMIN_PASSWORD }, '')).body.token; };
  const hubNowMs = async () => (await api('GET', '/hub/clock')).body.clock.nowMs as number;

  // It cannot run like this unnoticed: a warn line at start, and /health (no login) says so.
  const warn = hub.lines.map((l) => JSON.parse(l)).find((l) => /NOT THE SYSTEM CLOCK/.test(l.msg));
  t.match(warn, { level: 40, clock: 'shifted', startedAt: START, control: true }, 'a WARN line at start');
  const health = await api('GET', '/health', undefined, '');
  t.match(health.body, { ok: true, clock: { source: 'shifted', startedAt: START, control: true } });
  t.ok(health.body.clock.nowMs >= Date.parse(START) && health.body.clock.nowMs < Date.parse(START) + 120_000, 'the hub\'s now is the chosen instant, run on at real speed');

  // Only a super_admin moves the clock.
  t.equal((await api('POST', '/hub/clock', { advanceMs: DAY_MS }, '')).status, 401);
  await login();
  t.equal((await api('POST', '/operators', { operatorId: 'isp1', name: 'Chosen Time ISP' })).status, 201);
  t.equal((await api('POST', '/operators/isp1/users', { username: 'boss', password: 'boss-password-1', role: 'operator_admin' })).status, 201);
  const boss = (await api('POST', '/login', { username: 'boss', password: 'boss-password-1', operatorId: 'isp1' }, '')).body.token;
  t.match(await api('POST', '/hub/clock', { advanceMs: DAY_MS }, boss), { status: 403, body: { error: { code: 'FORBIDDEN' } } });
  t.match(await api('GET', '/hub/clock', undefined, boss), { status: 403 });
  // Only forward, and one way at a time.
  t.match(await api('POST', '/hub/clock', { toIso: '2027-01-01T00:00:00Z' }), { status: 409, body: { error: { code: 'CLOCK_BACKWARDS' } } });
  t.match(await api('POST', '/hub/clock', { advanceMs: -1 }), { status: 409, body: { error: { code: 'CLOCK_BACKWARDS' } } });
  t.match(await api('POST', '/hub/clock', { advanceMs: 1, toIso: '2027-02-01T00:00:00Z' }), { status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  t.match(await api('POST', '/hub/clock', { toIso: '2027-02-01 00:00' }), { status: 400, body: { error: { code: 'VALIDATION_FAILED' } } }, 'an instant needs its zone');

  // Day 0: Mid tier (800 active customers), the add-on's 15-day trial, and a 95th-percentile plan.
  t.equal((await api('PUT', '/operators/isp1/active-customers', { count: 800 })).body.subscription.tier.tierId, 'mid');
  const trial = await api('POST', '/operators/isp1/addons/netflow/start-trial');
  t.match(trial.body.subscription.addon, { status: 'trial', daysLeft: 15, collection: { allowed: true } });
  t.equal((await api('POST', '/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.1.0.0/16'] })).status, 201);
  const plan = await api('POST', '/operators/isp1/bill-plans', {
    name: 'Customer A 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example',
    currency: 'USD', baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000,
    percentileMethod: 'merge', subjectIds: ['ipg:cust-a'],
  });
  t.equal(plan.status, 201, 'a 95th-percentile plan on the IP group');

  // Day 15 plus a minute: the trial-expiry job ran at the hub's time before the answer came.
  const day15 = await api('POST', '/hub/clock', { advanceMs: 15 * DAY_MS + 60_000 });
  t.equal(day15.status, 200, 'moved 15 days and a minute');
  t.ok(day15.body.clock.nowMs >= Date.parse(START) + 15 * DAY_MS + 60_000, `moved to ${day15.body.clock.now}`);
  t.ok(day15.body.jobs.commerce.includes('trial-expiry'), `due jobs ran: ${JSON.stringify(day15.body.jobs)}`);
  t.match(day15.body.jobs.billing, { generated: 0, failed: 0 }, 'no bill is due mid-month');
  t.equal((await api('GET', '/operators/isp1/subscription')).status, 401, 'the 12-hour session expired on the hub\'s time');
  await login();
  const expired = (await api('GET', '/operators/isp1/subscription')).body.subscription;
  t.match(expired.addon, { status: 'trial_expired', collection: { allowed: false } }, 'trial expired, collection paused');
  t.ok(expired.notices.some((n: { code: string }) => n.code === 'trial_expired'), 'and the operator is told');
  t.same((await api('GET', '/operators/isp1/invoices')).body.invoices, [], 'a trial is never invoiced');

  // The operator buys the add-on on day 15, charged from that UTC day (25 January).
  t.equal((await api('POST', '/operators/isp1/addons/netflow/activate')).body.subscription.addon.status, 'active');

  // To 00:20 UTC on 1 February: the invoice run (00:05) and the bill run (after 15 min of grace) are due.
  const feb1 = await api('POST', '/hub/clock', { toIso: '2027-02-01T00:20:00Z' });
  t.equal(feb1.status, 200, 'moved to the 1st, 00:20 UTC');
  t.same(feb1.body.jobs.commerce.includes('invoices'), true, `due jobs ran: ${JSON.stringify(feb1.body.jobs)}`);
  t.match(feb1.body.jobs.billing, { generated: 1, failed: 0 });
  await login();
  const { invoices } = (await api('GET', '/operators/isp1/invoices')).body;
  t.equal(invoices.length, 1, 'one invoice for January');
  const invoice = (await api('GET', `/operators/isp1/invoices/${invoices[0].number}`)).body.invoice;
  // Proration by UTC day (hub/commerce/invoice.ts): Mid is 299.00 a month, the add-on 50% of it, January has
  // 31 days; each line is fee × percent/100 × days/31 rounded half up once.
  t.match(invoice, { number: 'INV-000001', periodKey: '2027-01', currency: 'USD' });
  const prorated = (feeMinor: number, percent: number, days: number) => Math.floor((2 * feeMinor * percent * days + 100 * 31) / (2 * 100 * 31));
  type Line = { kind: string; tierId: string; fromDate: string; toDate: string; days: number; daysInPeriod: number; percentOfFee: number; amountMinor: number };
  const lines = invoice.lines as Line[];
  const subscription = lines.filter((l) => l.kind === 'subscription');
  t.same(subscription.map((l) => l.tierId), subscription.map(() => 'mid'), 'the subscription on Mid...');
  t.equal(subscription[0]?.fromDate, '2027-01-10', '...from the operator\'s first day');
  t.equal(subscription[subscription.length - 1]?.toDate, '2027-01-31', '...to the end of January');
  t.equal(subscription.reduce((n, l) => n + l.days, 0), 22, '22 of 31 days');
  const addon = lines.filter((l) => l.kind === 'netflow_addon');
  t.match(addon, [{ percentOfFee: 50, fromDate: '2027-01-25', toDate: '2027-01-31', days: 7, daysInPeriod: 31, amountMinor: 3_376 }], 'the add-on from the UTC day of its activation, not the trial'); // 14950 × 7/31 = 3375.81
  for (const l of lines) t.equal(l.amountMinor, prorated(29_900, l.percentOfFee, l.days), `${l.kind} ${l.fromDate}..${l.toDate}: prorated and rounded once`);
  t.equal(invoice.totalMinor, lines.reduce((n, l) => n + l.amountMinor, 0));

  const { bills } = (await api('GET', '/operators/isp1/bills')).body;
  t.equal(bills.length, 1, 'the bill run made January\'s bill');
  t.match(bills[0], { subjectId: 'ipg:cust-a', spanEndSec: Date.parse('2027-02-01T00:00:00Z') / 1000 }, 'to the end of the cycle');
  t.ok(bills[0].spanStartSec >= Date.parse(START) / 1000 && bills[0].spanStartSec < Date.parse(START) / 1000 + 120, 'from the association, on the hub\'s time');

  // Moving again runs the jobs again and makes nothing twice.
  const again = await api('POST', '/hub/clock', { advanceMs: 3_600_000 });
  t.match(again.body.jobs.billing, { generated: 0, failed: 0 });
  await login();
  t.equal((await api('GET', '/operators/isp1/invoices')).body.invoices.length, 1);
  t.ok(await hubNowMs() >= Date.parse('2027-02-01T01:20:00Z'));

  hub.proc.kill('SIGTERM');
  t.equal(await hub.exited, 0, 'stopped cleanly');
});

t.test('FLOWBILL_CLOCK_CONTROL=on needs FLOWBILL_CLOCK=<instant>: the system clock cannot be moved', async (t) => {
  const hub = await runHub(t, { FLOWBILL_CLOCK_CONTROL: 'on' });
  await t.rejects(hub.ready, /FLOWBILL_CLOCK_CONTROL=on: only with FLOWBILL_CLOCK=<instant>/);
  t.equal(await hub.exited, 1);
});
