// Reports: the bills of every 95th-percentile plan, most recent first, filterable by plan.
// API (hub/billing/billing-routes.ts):
//   GET /operators/:op/bill-plans → {plans:[{planId,name,…}]}
//   GET /operators/:op/bills?planId → {bills:[{billNo,planId,planName,subjectId,reason,spanStartSec,spanEndSec,
//       cycleStartSec,cycleEndSec,p95Bps,amountMinor,currency,generatedAtMs}]}
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatBps, formatMoney, formatUtc, formatUtcDate } from '../format.js';

export async function render(ctx) {
  const planId = ctx.query.planId || '';
  const head = h('div', { class: 'toolbar' }, h('h1', {}, 'Reports'));
  const body = h('div', { id: 'bills' });
  ctx.el.append(head, body);

  let plans = [];
  try {
    plans = (await ctx.api(ctx.opPath('/bill-plans'))).plans || [];
  } catch (err) {
    if (!err.notAvailable) body.append(errorBox(err, 'bill plans'));
  }
  if (!ctx.isCurrent()) return;
  head.append(h('span', { class: 'spacer' }), h('label', { class: 'row' }, 'Plan',
    h('select', { id: 'plan-filter', onchange: (e) => ctx.navigate(e.target.value ? `/reports?planId=${encodeURIComponent(e.target.value)}` : '/reports') },
      h('option', { value: '' }, 'All plans'),
      plans.map((p) => h('option', { value: p.planId, selected: p.planId === planId }, p.name || p.planId)))));

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
  body.replaceChildren(section(null, table([
    { label: 'Bill', value: (b) => h('a', { href: `#/reports/${encodeURIComponent(b.billNo)}`, class: 'bill-link' }, `#${b.billNo}`) },
    { label: 'Period (UTC)', value: (b) => spanText(b) },
    { label: 'Plan', value: (b) => b.planName || b.planId },
    { label: 'Subject', value: (b) => h('code', {}, b.subjectId) },
    { label: '95th percentile', num: true, value: (b) => formatBps(b.p95Bps) },
    { label: 'Amount', num: true, value: (b) => formatMoney(b.amountMinor, b.currency) },
    { label: 'Reason', value: (b) => reasonBadge(b.reason) },
    { label: 'Generated', value: (b) => formatUtc(b.generatedAtMs) },
  ], bills, { id: 'bills-table', empty: planId ? 'No bills for this plan yet.' : 'No bills yet: a plan\'s bills are made when its cycle closes.' })));
}

/** "2026-10-01 – 2026-10-31": the span's last day is the day of its last second. */
export function spanText(b) {
  return `${formatUtcDate(b.spanStartSec * 1000)} – ${formatUtcDate(b.spanEndSec * 1000 - 1)}`;
}

const REASONS = {
  cycle_end: ['cycle end', 'ok'],
  subject_removed: ['subject removed', 'warn'],
  subject_unmanaged: ['subject unmanaged', 'warn'],
  plan_deleted: ['plan deleted', 'bad'],
};

export function reasonBadge(reason) {
  const [text, kind] = REASONS[reason] || [reason || '—', 'muted'];
  return badge(text, kind);
}
