// The customer's own view: only the subjects their access records grant, and a speed-time graph.
// API: GET /customer/subjects → {subjects:[{subjectId,label}]}
//      GET /customer/services → {services:[{serviceId,serviceLabel,serviceType,group,ipAddress}]}
//      GET /customer/series?subjectId&fromSec&toSec → {points:[{bucketStartSec,bytesIn,bytesOut}]}  (hub/access/customer-routes.ts)
import { h, section, errorBox, fill, table } from '../dom.js';
import { formatBps, formatUtc } from '../format.js';
import { speedTimeChart, seriesToBps } from '../chart.js';
import { WINDOWS, windowRange } from '../time-window.js';

export async function render(ctx) {
  const windowKey = WINDOWS.some((w) => w.key === ctx.query.window) ? ctx.query.window : '24h';
  const range = windowRange(windowKey);
  ctx.el.append(h('h1', {}, 'My traffic'));
  let subjects;
  try {
    subjects = (await ctx.api('/customer/subjects')).subjects || [];
  } catch (err) {
    ctx.el.append(errorBox(err, 'your traffic'));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (subjects.length === 0) {
    ctx.el.append(h('p', { class: 'empty' }, 'No traffic is shared with your login yet. Ask your provider.'));
    return;
  }
  const selected = subjects.find((s) => s.subjectId === ctx.query.subject) || subjects[0];
  const go = (subject, win) => ctx.navigate(`/my?subject=${encodeURIComponent(subject)}&window=${win}`);
  ctx.el.append(h('div', { class: 'toolbar' },
    h('label', { class: 'row' }, 'Service', h('select', { id: 'customer-subject', onchange: (e) => go(e.target.value, windowKey) },
      subjects.map((s) => h('option', { value: s.subjectId, selected: s.subjectId === selected.subjectId }, s.label || s.subjectId)))),
    h('label', { class: 'row' }, 'Window', h('select', { id: 'window', onchange: (e) => go(selected.subjectId, e.target.value) },
      WINDOWS.map((w) => h('option', { value: w.key, selected: w.key === windowKey }, w.label))))));

  const summary = h('div', { class: 'grid', id: 'customer-summary' });
  const chartBox = h('div', { id: 'customer-chart' });
  const servicesBox = h('div', { id: 'customer-services' });
  ctx.el.append(summary, section(selected.label || selected.subjectId, chartBox), section('Your services', servicesBox));
  void fill(servicesBox, 'your services', async () => table([
    { label: 'Service', value: (s) => s.serviceLabel || s.serviceId },
    { label: 'Type', value: (s) => s.serviceType || '' },
    { label: 'Traffic shown', value: (s) => (typeof s.group === 'string' ? s.group : s.group ? `${s.group.kind || ''} ${s.group.value || ''}`.trim() : '') },
    { label: 'Address', value: (s) => (s.ipAddress ? h('code', {}, s.ipAddress) : '') },
  ], (await ctx.api('/customer/services')).services || [], { empty: 'No services.' }));
  let chart = null;
  ctx.onCleanup(() => { if (chart) chart.destroy(); });
  await fill(chartBox, 'your traffic', async () => {
    const res = await ctx.api('/customer/series', { query: { subjectId: selected.subjectId, fromSec: range.fromSec, toSec: range.toSec } });
    if (!ctx.isCurrent()) return null;
    const { times, inBps, outBps } = seriesToBps(res.points || [], range.fromSec, range.toSec);
    const peak = (xs) => xs.reduce((m, v) => (v !== null && v > m ? v : m), 0);
    summary.replaceChildren(
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Peak in (5-min avg)'), h('div', { class: 'value' }, formatBps(peak(inBps)))),
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Peak out (5-min avg)'), h('div', { class: 'value' }, formatBps(peak(outBps)))));
    const holder = h('div');
    chartBox.replaceChildren(holder);
    chart = speedTimeChart(holder, { timesSec: times, series: [{ label: 'In', values: inBps, color: '#1f5fbf' }, { label: 'Out', values: outBps, color: '#d9730d' }] });
    return [holder, h('p', { class: 'legend-note' }, `${formatUtc(range.fromSec * 1000)} – ${formatUtc(range.toSec * 1000)}`)];
  });
}
