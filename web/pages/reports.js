// @ts-check
// Reports: the bills of every 95th-percentile plan (deleted plans' too), most recent first, filterable by
// plan; the current cycle so far per plan and subject (95th, coverage, amount so far, projected), with
// "Generate bill now" for operator admins; and the progress of the last bill run.
// API (hub/billing/billing-routes.ts; shapes in common/api/bills.ts):
//   GET /operators/:op/bill-plans?includeDeleted=1 → {plans:[{planId,name,deletedAtMs?,…}]}
//   GET /operators/:op/bills?planId → {bills: BillSummary[]}
//   GET /operators/:op/bill-plans/:planId/preview → BillPreviewResponse
//   POST /operators/:op/bill-plans/:planId/subjects/:subjectId/generate-now {idempotencyKey} → GenerateNowResponse
//   GET /operators/:op/bill-runs/latest → BillRunLatestResponse {run: BillRunProgress | null, lastCheck?}
//     (stored: the same on every hub, whichever ran it; issue 10)
// Times: the viewer's local time, the zone named in the column heading (the issue: local-readable dates).
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatBps, formatCount, formatLocal, formatLocalSpan, formatMoney, localZone } from '../format.js';

/** @typedef {import('../../common/api/bills').BillSummary} BillSummary */
/** @typedef {import('../../common/api/bills').BillPreview} BillPreview */
/** @typedef {import('../../common/api/bills').BillPreviewResponse} BillPreviewResponse */
/** @typedef {import('../../common/api/bills').BillRunProgress} BillRunProgress */
/** @typedef {import('../../common/api/bills').BillRunCheck} BillRunCheck */
/** @typedef {import('../../common/api/bills').BillPlanListItem} BillPlanListItem */
/** @typedef {import('../../common/api/bills').GenerateNowResponse} GenerateNowResponse */
/**
 * The page context the app shell passes (web/app.js); local until the shell's type is shared.
 * @typedef {object} PageContext
 * @property {HTMLElement} el
 * @property {Record<string, string>} query
 * @property {{ role: string }} principal
 * @property {(path: string, options?: { method?: string, body?: unknown, query?: Record<string, unknown> }) => Promise<any>} api
 * @property {(path: string) => string} opPath
 * @property {() => boolean} isCurrent
 * @property {(path: string) => void} navigate
 * @property {(fn: () => void) => void} onCleanup
 */

const WRITERS = ['super_admin', 'operator_admin'];
/** While a bill run is going, its progress is asked for this often. */
const RUN_POLL_MS = 2_000;

/** @param {PageContext} ctx */
export async function render(ctx) {
  const planId = ctx.query.planId || '';
  const canWrite = WRITERS.includes(ctx.principal.role);
  const zone = localZone();
  const head = h('div', { class: 'toolbar' }, h('h1', {}, 'Reports'));
  const message = h('div', { id: 'reports-message' });
  const runBox = h('div', { id: 'bill-run' });
  const previewBox = h('div', { id: 'previews' });
  const body = h('div', { id: 'bills' });
  ctx.el.append(head, message, runBox, previewBox, body);

  /** @type {BillPlanListItem[]} */
  let plans = [];
  try {
    plans = (await ctx.api(ctx.opPath('/bill-plans'), { query: { includeDeleted: 1 } })).plans || [];
  } catch (err) {
    if (!(/** @type {any} */ (err)).notAvailable) body.append(errorBox(err, 'bill plans'));
  }
  if (!ctx.isCurrent()) return;
  // Deleted plans stay in the filter: their bills are still here.
  const live = plans.filter((p) => p.deletedAtMs == null);
  head.append(h('span', { class: 'spacer' }), h('label', { class: 'row' }, 'Plan',
    h('select', { id: 'plan-filter', onchange: (/** @type {Event} */ e) => { const v = /** @type {HTMLSelectElement} */ (e.target).value; ctx.navigate(v ? `/reports?planId=${encodeURIComponent(v)}` : '/reports'); } },
      h('option', { value: '' }, 'All plans'),
      plans.map((p) => h('option', { value: p.planId, selected: p.planId === planId }, `${p.name || p.planId}${p.deletedAtMs != null ? ' (deleted)' : ''}`)))));

  void showRun(ctx, runBox);
  const previewPlans = planId ? live.filter((p) => p.planId === planId) : live;
  // After a generate-now: the preview (its span now starts at the cut) and the bills list again.
  const opts = { canWrite, zone, message, reload: () => { void showPreviews(ctx, previewBox, previewPlans, opts); void showBills(ctx, body, planId, zone); } };
  void showPreviews(ctx, previewBox, previewPlans, opts);
  await showBills(ctx, body, planId, zone);
}

/**
 * @param {PageContext} ctx
 * @param {HTMLElement} body
 * @param {string} planId
 * @param {string} zone
 */
async function showBills(ctx, body, planId, zone) {
  /** @type {BillSummary[]} */
  let bills;
  try {
    bills = (await ctx.api(ctx.opPath('/bills'), { query: { planId } })).bills || [];
  } catch (err) {
    if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'bills'));
    return;
  }
  if (!ctx.isCurrent()) return;
  // Most recent first whatever order the API used: by span end, then by bill number.
  bills = [...bills].sort((a, b) => Number(b.spanEndSec) - Number(a.spanEndSec) || Number(b.billNo) - Number(a.billNo));
  body.replaceChildren(section('Bills', table([
    { label: 'Bill', value: (/** @type {BillSummary} */ b) => h('a', { href: `#/reports/${encodeURIComponent(b.billNo)}`, class: 'bill-link' }, `#${b.billNo}`) },
    { label: `Period (${zone})`, value: (/** @type {BillSummary} */ b) => spanText(b) },
    { label: 'Plan', value: (/** @type {BillSummary} */ b) => b.planName || b.planId },
    { label: 'Subject', value: (/** @type {BillSummary} */ b) => h('code', {}, b.subjectId) },
    { label: '95th percentile', num: true, value: (/** @type {BillSummary} */ b) => formatBps(b.p95Bps) },
    { label: 'Amount', num: true, value: (/** @type {BillSummary} */ b) => formatMoney(b.amountMinor, b.currency) },
    { label: 'Reason', value: (/** @type {BillSummary} */ b) => reasonBadge(b.reason) },
    { label: `Generated (${zone})`, value: (/** @type {BillSummary} */ b) => formatLocal(b.generatedAtMs) },
  ], bills, { id: 'bills-table', empty: planId ? 'No bills for this plan yet.' : 'No bills yet: a plan\'s bills are made when its cycle closes.' })));
}

/**
 * The current cycle so far, one row per subject of each plan shown.
 * @param {PageContext} ctx
 * @param {HTMLElement} box
 * @param {BillPlanListItem[]} plans
 * @param {{ canWrite: boolean, zone: string, message: HTMLElement, reload: () => void }} opts
 */
async function showPreviews(ctx, box, plans, opts) {
  if (plans.length === 0) { box.replaceChildren(); return; }
  /** @type {BillPreview[]} */
  const rows = [];
  try {
    const answers = await Promise.all(plans.map((p) => ctx.api(ctx.opPath(`/bill-plans/${encodeURIComponent(p.planId)}/preview`))));
    for (const a of /** @type {BillPreviewResponse[]} */ (answers)) rows.push(...(a.previews || []));
  } catch (err) {
    if (ctx.isCurrent() && !(/** @type {any} */ (err)).notAvailable) box.replaceChildren(errorBox(err, 'the current cycle'));
    return;
  }
  if (!ctx.isCurrent()) return;
  const columns = [
    { label: 'Plan', value: (/** @type {BillPreview} */ p) => p.planName },
    { label: 'Subject', value: (/** @type {BillPreview} */ p) => h('code', {}, p.subjectId) },
    { label: `So far (${opts.zone})`, value: (/** @type {BillPreview} */ p) => `${formatLocal(p.spanStartSec * 1000)} – ${formatLocal(p.asOfSec * 1000)}` },
    { label: '95th so far', num: true, value: (/** @type {BillPreview} */ p) => formatBps(p.p95Bps) },
    {
      label: 'Coverage', num: true,
      value: (/** @type {BillPreview} */ p) => h('span', { class: 'preview-coverage', title: 'five-minute slots with data of the slots so far' },
        `${formatCount(p.slotsWithData)} of ${formatCount(p.slotsSoFar)} slots (${p.coveragePercent.toFixed(2)} %)`),
    },
    { label: 'Amount so far', num: true, value: (/** @type {BillPreview} */ p) => formatMoney(p.amountSoFarMinor, p.currency) },
    {
      label: 'Projected bill', num: true,
      value: (/** @type {BillPreview} */ p) => h('span', { class: 'preview-projected', title: `${formatCount(p.projectedSlots)} of ${formatCount(p.cycleSlots)} slots of the cycle ending ${formatLocal(p.cycleEndSec * 1000)}` },
        formatMoney(p.projectedAmountMinor, p.currency)),
    },
  ];
  if (opts.canWrite) {
    columns.push({
      label: '', num: false,
      value: (/** @type {BillPreview} */ p) => h('button', {
        type: 'button', class: 'secondary generate-now', 'data-subject': p.subjectId,
        onclick: (/** @type {Event} */ e) => { void generateNow(ctx, /** @type {HTMLButtonElement} */ (e.currentTarget), p, opts); },
      }, 'Generate bill now'),
    });
  }
  box.replaceChildren(section('Current cycle so far',
    h('p', { class: 'muted', id: 'preview-note' },
      'The 95th percentile and amount of the slots so far, by the plan\'s own rule. Projected bill: the next regular bill if the rest of the cycle stays at the 95th so far ',
      '(the cycle\'s price at that 95th, prorated over the subject\'s five-minute slots of the cycle).'),
    table(/** @type {any} */ (columns), rows, { id: 'preview-table', empty: 'No subjects in these plans.' })));
}

/**
 * @param {PageContext} ctx
 * @param {HTMLButtonElement} button
 * @param {BillPreview} p
 * @param {{ message: HTMLElement, reload: () => void }} opts
 */
async function generateNow(ctx, button, p, opts) {
  const ok = confirm(`Generate a bill now for ${p.subjectId} (${p.planName})?\n\n`
    + `It covers ${formatLocal(p.spanStartSec * 1000)} up to the last 5-minute boundary 15 minutes ago (summaries still on their way go to the next bill). `
    + 'The subject stays in the plan; its next regular bill starts where this one ends, so no slot is billed twice. The bill is mailed to the plan\'s addresses.');
  if (!ok) return;
  button.disabled = true;
  // One key per confirmed click: a retried request (network hiccup) makes the same bill, not a second one.
  const idempotencyKey = crypto.randomUUID();
  try {
    /** @type {GenerateNowResponse} */
    const res = await ctx.api(ctx.opPath(`/bill-plans/${encodeURIComponent(p.planId)}/subjects/${encodeURIComponent(p.subjectId)}/generate-now`), { method: 'POST', body: { idempotencyKey } });
    if (!ctx.isCurrent()) return;
    const b = res.bill;
    opts.message.replaceChildren(h('div', { class: 'notice success', role: 'status', id: 'generate-now-done' },
      'Bill ', h('a', { href: `#/reports/${encodeURIComponent(b.billNo)}` }, `#${b.billNo}`),
      ` made for ${b.subjectId}: ${spanText(b)}, ${formatMoney(b.amountMinor, b.currency)}.`));
    opts.reload();
  } catch (err) {
    if (!ctx.isCurrent()) return;
    button.disabled = false;
    opts.message.replaceChildren(errorBox(err, 'generate the bill'));
  }
}

/**
 * The last bill run: bills done of due, polled while it runs.
 * @param {PageContext} ctx
 * @param {HTMLElement} box
 */
async function showRun(ctx, box) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  ctx.onCleanup(() => { if (timer !== undefined) clearTimeout(timer); });
  const load = async () => {
    /** @type {BillRunProgress | null} */
    let run;
    /** @type {BillRunCheck | null} */
    let lastCheck;
    try {
      const res = await ctx.api(ctx.opPath('/bill-runs/latest'));
      run = res.run ?? null;
      lastCheck = res.lastCheck ?? null;
    } catch (err) {
      if (ctx.isCurrent() && !(/** @type {any} */ (err)).notAvailable) box.replaceChildren(errorBox(err, 'the bill run'));
      return;
    }
    if (!ctx.isCurrent()) return;
    box.replaceChildren(runLine(run, lastCheck));
    if (run && run.finishedAtMs === undefined) timer = setTimeout(() => { void load(); }, RUN_POLL_MS);
  };
  await load();
}

/**
 * run: this operator's last run with bills due (on any hub); lastCheck: the last run of all, which
 * found nothing due for this operator when it is later than run.
 * @param {BillRunProgress | null} run
 * @param {BillRunCheck | null} lastCheck
 */
function runLine(run, lastCheck) {
  const onHub = (/** @type {{ hubId?: string }} */ r) => (r.hubId ? ` on ${r.hubId}` : '');
  const checked = lastCheck && (!run || (run.runAtMs !== undefined && lastCheck.runAtMs > run.runAtMs))
    ? `; last checked ${formatLocal(lastCheck.finishedAtMs)} (${localZone()})${onHub(lastCheck)}, nothing more due` : '';
  if (!run) return h('p', { class: 'muted', id: 'bill-run-line' }, `Bill run: none with bills due for this operator yet${checked}. Bills are made every hour at :20 UTC once a cycle has closed (and 15 minutes for late summaries have passed).`);
  const running = run.finishedAtMs === undefined;
  const pct = run.due === 0 ? 100 : Math.floor((run.done * 100) / run.due);
  return h('div', { class: 'bill-run', id: 'bill-run-line' },
    h('strong', {}, running ? 'Bill run in progress: ' : 'Last bill run: '),
    h('progress', { id: 'bill-run-progress', max: String(Math.max(1, run.due)), value: String(run.due === 0 ? 1 : run.done) }, `${pct} %`),
    ` ${formatCount(run.done)} of ${formatCount(run.due)} bills done`,
    run.made !== run.done ? ` (${formatCount(run.made)} new)` : '',
    run.failed ? [', ', badge(`${formatCount(run.failed)} failed, retried next run`, 'bad')] : '',
    running ? `${onHub(run)}` : `; started ${formatLocal(run.startedAtMs)}, finished ${formatLocal(/** @type {number} */ (run.finishedAtMs))} (${localZone()})${onHub(run)}`,
    run.mailed !== undefined ? `; ${formatCount(run.mailed)} report mail(s) sent` : '',
    checked);
}

/**
 * The billed span exactly as billed, in local time (format.js's formatLocalSpan).
 * @param {{ spanStartSec: number, spanEndSec: number }} b
 */
export function spanText(b) {
  return formatLocalSpan(b.spanStartSec, b.spanEndSec);
}

/** @type {Record<string, [string, 'muted' | 'ok' | 'warn' | 'bad']>} */
const REASONS = {
  cycle_end: ['cycle end', 'ok'],
  generated_now: ['generated now', 'ok'],
  subject_removed: ['subject removed', 'warn'],
  subject_unmanaged: ['subject unmanaged', 'warn'],
  plan_deleted: ['plan deleted', 'bad'],
};

/** @param {string | undefined} reason */
export function reasonBadge(reason) {
  const [text, kind] = REASONS[reason || ''] || [reason || '—', /** @type {'muted'} */ ('muted')];
  return badge(text, kind);
}
