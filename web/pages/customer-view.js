// @ts-check
// The customer's own view: their services by label, this billing cycle's totals and 95th percentile so
// far (the plan's own rule), a speed-time graph, and their bills with PDFs. Only what their access
// records grant: the hub checks scope on every request (hub/access/customer-routes.ts).
// API: GET /customer/subjects → {subjects: CustomerSubject[]}
//      GET /customer/usage?subjectId → CustomerUsage
//      GET /customer/bills → {bills: CustomerBill[]};  GET /customer/bills/:billNo/pdf (download)
//      GET /customer/services → {services:[{serviceId,serviceLabel,serviceType,group,ipAddress}]}
//      GET /customer/series?subjectId&fromSec&toSec → {points:[{bucketStartSec,bytesIn,bytesOut}]}
import { h, section, errorBox, fill, loading, table } from '../dom.js';
import { formatBps, formatBytes, formatLocal, formatMoney, formatUtc, localZone } from '../format.js';
import { speedTimeChart, seriesToBps } from '../chart.js';
import { WINDOWS, windowRange } from '../time-window.js';

/** @typedef {import('../../common/api/customer').CustomerSubject} CustomerSubject */
/** @typedef {import('../../common/api/customer').CustomerUsage} CustomerUsage */
/** @typedef {import('../../common/api/customer').CustomerCycleSoFar} CustomerCycleSoFar */
/** @typedef {import('../../common/api/customer').CustomerBill} CustomerBill */
/** @typedef {{ serviceId: string, serviceLabel: string, serviceType: string | null, group: string, ipAddress: string }} CustomerService local: GET /customer/services */

// Times in the viewer's zone, named next to every time on this page (a customer is not a NOC: local
// time reads best), formatted as on the operators' Reports and bill pages (format.js).
/** "2026-11-01 00:00" in the viewer's zone. @param {number} sec */
const when = (sec) => formatLocal(sec * 1000);
/** "2026-11-01 00:00 – 2026-12-01 00:00 (Europe/Budapest)". @param {number} fromSec @param {number} toSec */
const span = (fromSec, toSec) => `${when(fromSec)} – ${when(toSec)} (${localZone()})`;

/** How a subject is offered: the customer's service label first, the collectors' label as the detail. @param {CustomerSubject} s */
function subjectName(s) {
  if (s.serviceLabel && s.label && s.label !== s.serviceLabel) return `${s.serviceLabel} · ${s.label}`;
  return s.serviceLabel || s.label || s.subjectId;
}

/** @param {string} label @param {string | Node} value @param {string} [note] */
const stat = (label, value, note) => h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), note ? h('div', { class: 'note' }, note) : null);

/** @param {CustomerUsage} u */
function usageStats(u) {
  const c = u.cycle;
  const period = c ? 'This billing cycle so far' : 'This month so far';
  const out = [
    stat('Data in', formatBytes(u.bytesIn), period),
    stat('Data out', formatBytes(u.bytesOut), period),
  ];
  if (c) {
    out.push(
      stat('95th percentile so far', formatBps(c.p95Bps), c.method === 'merge' ? 'in and out together' : 'the higher of in and out'),
      stat('Coverage', `${c.coveragePercent.toFixed(2)} %`, `${c.slotsWithData} of ${c.slotsSoFar} five-minute slots with data`),
    );
  }
  return out;
}

/**
 * One line saying why the 95th so far is 0 while the graph may show traffic (null when it is not 0). The
 * next bill counts only the slots from spanStartSec (bill-preview.ts, the bill's own rule): traffic an
 * interim bill already billed, or from before the plan began, is in the cycle's totals but not in its 95th.
 * @param {CustomerCycleSoFar} c @param {string} subjectId @param {CustomerBill[]} bills the customer's bills
 */
function zeroP95Reason(c, subjectId, bills) {
  if (c.p95Bps !== 0) return null;
  if (c.slotsSoFar === 0) return 'The 95th percentile is 0 so far: the first five-minute slot of your next bill is still running.';
  if (c.slotsWithData > 0) return `The 95th percentile is 0 so far: traffic in only ${c.slotsWithData} of ${c.slotsSoFar} five-minute slots, and the busiest 5 % of slots are not billed.`;
  if (c.spanStartSec > c.cycleStartSec) {
    const last = bills.find((b) => b.subjectId === subjectId && b.billedToSec === c.spanStartSec);
    return last
      ? `The 95th percentile is 0 so far: no traffic since your bill No. ${last.billNo} ended (${when(c.spanStartSec)}); the traffic before that is on that bill.`
      : `The 95th percentile is 0 so far: no traffic since the plan began (${when(c.spanStartSec)}); traffic before that is not billed.`;
  }
  return 'The 95th percentile is 0 so far: no traffic in this billing cycle yet.';
}

/** @param {CustomerUsage} u */
function usageNote(u) {
  if (!u.cycle) return h('p', { class: 'legend-note', id: 'customer-period' }, `${span(u.fromSec, u.toSec)}. This service is not on a bandwidth bill plan.`);
  const c = u.cycle;
  return h('p', { class: 'legend-note', id: 'customer-period' },
    `Plan ${c.planName}; billing cycle ${span(c.cycleStartSec, c.cycleEndSec)}. Totals so far: ${span(u.fromSec, u.toSec)}.` +
    (c.spanStartSec > c.cycleStartSec ? ` The 95th percentile counts from ${when(c.spanStartSec)}, where your last bill ended or the plan began.` : ''));
}

/** @param {any} ctx the app shell's page context (web/app.js) */
export async function render(ctx) {
  const windowKey = WINDOWS.some((w) => w.key === ctx.query.window) ? ctx.query.window : '24h';
  const range = windowRange(windowKey);
  ctx.el.append(h('h1', {}, 'My traffic'));
  /** @type {CustomerSubject[]} */
  let subjects;
  try {
    subjects = (await ctx.api('/customer/subjects')).subjects || [];
  } catch (err) {
    ctx.el.append(errorBox(err, 'your traffic'));
    return;
  }
  if (!ctx.isCurrent()) return;
  // Asked once: the bills table and the 95th's explanation (which bill the next one follows) both use them.
  /** @type {Promise<CustomerBill[]>} */
  const billsP = ctx.api('/customer/bills').then((/** @type {{ bills?: CustomerBill[] }} */ r) => r.bills || []);
  const billsBox = h('div', { id: 'customer-bills' });
  const servicesBox = h('div', { id: 'customer-services' });
  if (subjects.length === 0) {
    ctx.el.append(h('p', { class: 'empty' }, 'No traffic is shared with your login yet. Ask your provider.'));
  } else {
    const selected = subjects.find((s) => s.subjectId === ctx.query.subject) || subjects[0];
    /** @param {string} subject @param {string} win */
    const go = (subject, win) => ctx.navigate(`/my?subject=${encodeURIComponent(subject)}&window=${win}`);
    ctx.el.append(h('div', { class: 'toolbar' },
      h('label', { class: 'row' }, 'Service', h('select', { id: 'customer-subject', onchange: (/** @type {Event} */ e) => go(/** @type {HTMLSelectElement} */ (e.target).value, windowKey) },
        subjects.map((s) => h('option', { value: s.subjectId, selected: s.subjectId === selected.subjectId }, subjectName(s))))),
      h('label', { class: 'row' }, 'Graph', h('select', { id: 'window', onchange: (/** @type {Event} */ e) => go(selected.subjectId, /** @type {HTMLSelectElement} */ (e.target).value) },
        WINDOWS.map((w) => h('option', { value: w.key, selected: w.key === windowKey }, w.label))))));

    const summary = h('div', { class: 'grid', id: 'customer-summary' });
    const periodBox = h('div');
    const chartBox = h('div', { id: 'customer-chart' });
    ctx.el.append(section(subjectName(selected), summary, periodBox, chartBox));
    // The cycle's figures and the graph window's peaks arrive separately; one grid shows both.
    /** @type {Node[]} */
    let usageNodes = [loading()];
    /** @type {Node[]} */
    let peakNodes = [];
    const paint = () => summary.replaceChildren(...usageNodes, ...peakNodes);
    paint();
    void ctx.api('/customer/usage', { query: { subjectId: selected.subjectId } }).then(
      async (/** @type {CustomerUsage} */ u) => {
        const why = u.cycle ? zeroP95Reason(u.cycle, u.subjectId, await billsP.catch(() => [])) : null;
        usageNodes = usageStats(u);
        periodBox.replaceChildren(...(why ? [h('p', { class: 'legend-note', id: 'customer-p95-why' }, why)] : []), usageNote(u));
      },
      (/** @type {unknown} */ err) => { usageNodes = []; periodBox.replaceChildren(errorBox(err, 'your totals')); },
    ).then(() => { if (ctx.isCurrent()) paint(); });
    /** @type {{ destroy(): void } | null} */
    let chart = null;
    ctx.onCleanup(() => { if (chart) chart.destroy(); });
    void fill(chartBox, 'your traffic', async () => {
      const res = await ctx.api('/customer/series', { query: { subjectId: selected.subjectId, fromSec: range.fromSec, toSec: range.toSec } });
      if (!ctx.isCurrent()) return null;
      const { times, inBps, outBps } = seriesToBps(res.points || [], range.fromSec, range.toSec);
      /** @param {(number | null)[]} xs */
      const peak = (xs) => xs.reduce((/** @type {number} */ m, v) => (v !== null && v > m ? v : m), 0);
      peakNodes = [stat('Peak in (5-min avg)', formatBps(peak(inBps)), 'in the graph below'), stat('Peak out (5-min avg)', formatBps(peak(outBps)), 'in the graph below')];
      paint();
      const holder = h('div');
      chartBox.replaceChildren(holder);
      chart = speedTimeChart(holder, { timesSec: times, series: [{ label: 'In', values: inBps, color: '#1f5fbf' }, { label: 'Out', values: outBps, color: '#d9730d' }] });
      // The chart's axis is UTC (chart.js, as on the operators' pages), so its caption is too.
      return [holder, h('p', { class: 'legend-note' }, `Graph: ${formatUtc(range.fromSec * 1000)} – ${formatUtc(range.toSec * 1000)}; 5-minute averages.`)];
    });
  }
  ctx.el.append(section('Your bills', billsBox), section('Your services', servicesBox));
  void fill(billsBox, 'your bills', async () => table([
    { label: 'Bill', value: (/** @type {CustomerBill} */ b) => `No. ${b.billNo}` },
    { label: 'Service', value: (/** @type {CustomerBill} */ b) => b.serviceLabel || b.subjectId },
    { label: 'Plan', value: (/** @type {CustomerBill} */ b) => b.planName },
    { label: 'Billed period', value: (/** @type {CustomerBill} */ b) => span(b.billedFromSec, b.billedToSec) },
    { label: '95th percentile', value: (/** @type {CustomerBill} */ b) => formatBps(b.p95Bps) },
    { label: 'Amount', value: (/** @type {CustomerBill} */ b) => formatMoney(b.amountMinor, b.currency) },
    { label: 'PDF', value: (/** @type {CustomerBill} */ b) => h('a', { href: `/api/v1/customer/bills/${b.billNo}/pdf`, target: '_blank', rel: 'noopener', class: 'pdf-link' }, 'PDF') },
  ], await billsP, { empty: 'No bills yet.', id: 'customer-bills-table' }));
  void fill(servicesBox, 'your services', async () => table([
    { label: 'Service', value: (/** @type {CustomerService} */ s) => s.serviceLabel || s.serviceId },
    { label: 'Type', value: (/** @type {CustomerService} */ s) => s.serviceType || '' },
    { label: 'Traffic shown', value: (/** @type {CustomerService} */ s) => s.group || '' },
    { label: 'Address', value: (/** @type {CustomerService} */ s) => (s.ipAddress ? h('code', {}, s.ipAddress) : '') },
  ], (await ctx.api('/customer/services')).services || [], { empty: 'No services.' }));
}
