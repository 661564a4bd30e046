// @ts-check
// One bill: the figures behind it, the speed-time graph with the 95th-percentile line, the 5-minute
// data points it was computed from (so a disputed bill can be explained), CSV and PDF.
// API (hub/billing/billing-routes.ts):
//   GET /operators/:op/bills/:billNo → {bill:{billNo,planId,planName,subjectId,reason,spanStartSec,spanEndSec,
//       cycleStartSec,cycleEndSec,tariff,method,n,rankedSamples,discardedSamples,coverageSlots,subjectReportedSlots,
//       p95InBps?,p95OutBps?,p95MergedBps?,p95Bps,charge:{amountMinor,currency,unroundedAmountMinor,rule,…},generatedAtMs},
//       slots?:{spanSlots,presentSlots,zeroFilledSlots,coveragePercent,edgeReportedSlots,rankedSamples,droppedSamples,takenRank,billedSlots,cycleSlots}},
//       explanation:{source,slots (same figures, null = not recorded),prorated,steps:[plain-words text]}, subjectBills:[summary]}
//   GET …/bills/:billNo/graph → {graph:{slotStartSec[],inBps[],outBps[],reported[],p95Bps,p95InBps?,p95OutBps?,method}}
//   GET …/bills/:billNo/data-points → {billNo,n,p95Bps,dataPoints:[{slotStartSec,bytesIn,bytesOut,inBps,outBps,reported}]}
//   GET …/bills/:billNo/data-points.csv, …/summary.csv and …/pdf (downloads)
import { h, table, section, errorBox, fill, badge } from '../dom.js';
import { formatBps, formatBytes, formatCount, formatLocal, formatLocalSpan, formatMoney, formatUnroundedMoney, formatUtc, localZone } from '../format.js';
import { speedTimeChart } from '../chart.js';
import { reasonBadge } from './reports.js';

const PAGE_ROWS = 288; // one day of 5-minute points per page of the data-point table

/** @typedef {import('./reports.js').PageContext & { params: Record<string, string> }} BillPageContext */

/** @param {BillPageContext} ctx */
export async function render(ctx) {
  const billNo = ctx.params.billId;
  const base = ctx.opPath(`/bills/${encodeURIComponent(billNo)}`);
  ctx.el.append(h('p', {}, h('a', { href: '#/reports' }, '← Reports')));
  /** The bill detail body (the stored Bill record: hub/billing/bill.ts; no shared shape yet). @type {any} */
  let res;
  try {
    // The explanation's times in the viewer's zone, as the header shows them (the hub words the steps).
    const zone = localZone();
    res = await ctx.api(base, { query: zone === 'local time' ? {} : { timeZone: zone } });
  } catch (err) {
    ctx.el.append(h('h1', {}, `Bill ${billNo}`), errorBox(err, 'bill details'));
    return;
  }
  if (!ctx.isCurrent()) return;
  const bill = res.bill;
  const charge = bill.charge || {};
  const tariff = bill.tariff || {};
  const currency = charge.currency || tariff.currency;
  const explanation = res.explanation;
  const slots = explanation && explanation.slots;
  const fig = (/** @type {number | null | undefined} */ v) => (v == null ? 'not recorded' : formatCount(v));
  ctx.el.append(
    h('div', { class: 'toolbar' }, h('h1', {}, `Bill #${bill.billNo} · ${bill.planName || bill.planId}`), reasonBadge(bill.reason), h('span', { class: 'spacer' }),
      h('a', { class: 'btn secondary', id: 'bill-csv', href: `/api/v1${base}/data-points.csv`, download: '' }, 'Data points (CSV)'),
      h('a', { class: 'btn secondary', id: 'bill-summary-csv', href: `/api/v1${base}/summary.csv`, download: '' }, 'Figures (CSV)'),
      h('a', { class: 'btn', id: 'bill-pdf', href: `/api/v1${base}/pdf`, target: '_blank', rel: 'noopener' }, 'PDF')),
    // The billed span exactly as billed, in the viewer's time with the zone named (issue 11).
    h('p', { class: 'muted', id: 'bill-span' }, h('code', {}, bill.subjectId), ` · ${formatLocal(bill.spanStartSec * 1000)} – ${formatLocal(bill.spanEndSec * 1000)} (${localZone()})`),
  );

  const figures = [
    ['Billed 95th percentile', h('strong', { id: 'bill-p95' }, formatBps(bill.p95Bps))],
    ['Method', methodName(bill.method)],
    bill.p95InBps !== undefined ? ['95th in', formatBps(bill.p95InBps)] : null,
    bill.p95OutBps !== undefined ? ['95th out', formatBps(bill.p95OutBps)] : null,
    bill.n !== undefined ? ['Samples', `${formatCount(bill.n)} five-minute slots; ${formatCount(bill.rankedSamples)} ranked, top ${formatCount(bill.discardedSamples)} discarded`] : null,
    bill.coverageSlots !== undefined ? ['Reported slots', `${formatCount(bill.subjectReportedSlots)} by this subject, ${formatCount(bill.coverageSlots)} by the operator's edges`] : null,
    slots ? ['Coverage', h('span', { id: 'bill-coverage' }, `${fig(slots.presentSlots)} of ${fig(slots.spanSlots)} slots with data, ${fig(slots.zeroFilledSlots)} without (counted as zero): ${slots.coveragePercent == null ? 'not recorded' : `${Number(slots.coveragePercent).toFixed(2)} %`}`)] : null,
    slots ? ['Share of the cycle', `${fig(slots.billedSlots)} of ${fig(slots.cycleSlots)} five-minute slots${explanation.prorated ? ' (prorated)' : ''}`] : null,
    tariff.baseSpeedBps !== undefined ? ['Tariff', `${formatMoney(tariff.baseCostMinor, tariff.currency)} up to ${formatBps(tariff.baseSpeedBps)}, then ${formatMoney(tariff.additionalCostMinor, tariff.currency)} per ${formatBps(tariff.additionalSpeedBps)}`] : null,
    // The exact share of a prorated cycle before its one rounding, in the currency (the explanation's last
    // step shows the computation); a full cycle's amount is not rounded, so the row would repeat it.
    explanation && explanation.prorated && charge.unroundedAmountMinor !== undefined
      ? ['Before rounding', h('span', { id: 'bill-unrounded' }, formatUnroundedMoney(charge.unroundedAmountMinor, currency))] : null,
    ['Amount', h('strong', { id: 'bill-amount' }, formatMoney(charge.amountMinor ?? bill.amountMinor, currency))],
    ['Cycle', `${formatLocalSpan(bill.cycleStartSec, bill.cycleEndSec)} (${localZone()})`],
    ['Generated', `${formatLocal(bill.generatedAtMs)} (${localZone()})`],
  ].filter((f) => f !== null);
  ctx.el.append(section('Figures', h('dl', { class: 'kv', id: 'bill-figures' }, figures.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))));
  if (explanation && Array.isArray(explanation.steps)) {
    ctx.el.append(section('How this amount was computed', h('ol', { id: 'bill-explanation' }, explanation.steps.map((/** @type {string} */ step) => h('li', {}, step)))));
  }

  const chartBox = h('div', { id: 'bill-chart' });
  const pointsBox = h('div', { id: 'bill-points' });
  ctx.el.append(section('Speed over the period', chartBox), section('Data points (5-minute)', pointsBox));
  if (Array.isArray(res.subjectBills) && res.subjectBills.length > 1) {
    ctx.el.append(section('Other bills of this subject', table([
      { label: 'Bill', value: (b) => (Number(b.billNo) === Number(bill.billNo) ? badge(`#${b.billNo} (this)`, 'muted') : h('a', { href: `#/reports/${encodeURIComponent(b.billNo)}` }, `#${b.billNo}`)) },
      { label: `Period (${localZone()})`, value: (b) => formatLocalSpan(b.spanStartSec, b.spanEndSec) },
      { label: '95th', num: true, value: (b) => formatBps(b.p95Bps) },
      { label: 'Amount', num: true, value: (b) => formatMoney(b.amountMinor, b.currency) },
    ], [...res.subjectBills].sort((a, b) => Number(b.spanEndSec) - Number(a.spanEndSec)))));
  }

  /** @type {{ destroy(): void } | null} */
  let chart = null;
  ctx.onCleanup(() => { if (chart) chart.destroy(); });
  await fill(chartBox, 'the bill\'s graph', async () => {
    const g = (await ctx.api(`${base}/graph`)).graph;
    if (!ctx.isCurrent()) return null;
    const lines = [{ label: '95th', bps: Number(g.p95Bps), color: '#b42318' }];
    const holder = h('div');
    chartBox.replaceChildren(holder);
    chart = speedTimeChart(holder, {
      timesSec: g.slotStartSec,
      // Slots the subject was not reported in are gaps, not zero-rate samples, on the graph.
      series: [
        { label: 'In', values: g.inBps.map((/** @type {number} */ v, /** @type {number} */ i) => (g.reported && !g.reported[i] ? null : v)), color: '#1f5fbf' },
        { label: 'Out', values: g.outBps.map((/** @type {number} */ v, /** @type {number} */ i) => (g.reported && !g.reported[i] ? null : v)), color: '#d9730d' },
      ],
      lines,
    });
    return [holder, h('p', { class: 'legend-note' }, `Dashed red line: the billed 95th percentile (${formatBps(g.p95Bps)}). Times in UTC.`)];
  });

  let points;
  try {
    points = (await ctx.api(`${base}/data-points`)).dataPoints || [];
  } catch (err) {
    pointsBox.replaceChildren(errorBox(err, 'the bill\'s data points'));
    return;
  }
  if (!ctx.isCurrent()) return;
  let page = 0;
  const pages = Math.max(1, Math.ceil(points.length / PAGE_ROWS));
  const renderPoints = () => fill(pointsBox, 'data points', async () => {
    const rows = points.slice(page * PAGE_ROWS, (page + 1) * PAGE_ROWS);
    return [
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', class: 'secondary', id: 'points-prev', disabled: page === 0, onclick: () => { page--; void renderPoints(); } }, '← Earlier'),
        h('span', { class: 'muted', id: 'points-page' }, `page ${page + 1} of ${pages} (${formatCount(points.length)} points)`),
        h('button', { type: 'button', class: 'secondary', id: 'points-next', disabled: page >= pages - 1, onclick: () => { page++; void renderPoints(); } }, 'Later →')),
      table([
        { label: 'Slot start (UTC)', value: (p) => formatUtc(p.slotStartSec * 1000) },
        { label: 'In', num: true, value: (p) => formatBps(p.inBps) },
        { label: 'Out', num: true, value: (p) => formatBps(p.outBps) },
        { label: 'Bytes in', num: true, value: (p) => formatBytes(p.bytesIn) },
        { label: 'Bytes out', num: true, value: (p) => formatBytes(p.bytesOut) },
        { label: 'Reported', value: (p) => (p.reported ? 'yes' : badge('no data', 'warn')) },
      ], rows, { id: 'points-table', empty: 'No data points in this period.', scroll: true }),
    ];
  });
  await renderPoints();
}

/** @param {string | undefined} m */
function methodName(m) {
  /** @type {Record<string, string>} */
  const names = { separate: 'In & Out separate (the higher 95th)', merge: 'In & Out merged (in and out samples ranked together)' };
  return names[m || ''] || m || '—';
}
