// Dashboard: traffic totals and the top subjects of one operator over a window, and the
// speed-time graph of the subject picked in the table.
// API (hub/store/series-routes.ts): GET /operators/:op/top-subjects?fromSec&toSec&limit → {subjects:[{subjectId,kind,label,
//      bytesIn,bytesOut,bytesTotal,peakBpsIn,peakBpsOut,…}]}
//      GET /operators/:op/subjects/:subjectId/series?fromSec&toSec → {points:[{bucketStartSec,bytesIn,bytesOut,…}]}
import { h, table, section, fill, errorBox } from '../dom.js';
import { formatBps, formatBytes, formatUtc } from '../format.js';
import { speedTimeChart, seriesToBps } from '../chart.js';
import { WINDOWS, windowRange } from '../time-window.js';

const TOP_N = 10;

export async function render(ctx) {
  const windowKey = WINDOWS.some((w) => w.key === ctx.query.window) ? ctx.query.window : '24h';
  const range = windowRange(windowKey);
  const spanSec = range.toSec - range.fromSec;

  const picker = h('select', { id: 'window', 'aria-label': 'Time window', onchange: (e) => ctx.navigate(`/dashboard?window=${e.target.value}`) },
    WINDOWS.map((w) => h('option', { value: w.key, selected: w.key === windowKey }, w.label)));
  ctx.el.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Dashboard'), h('span', { class: 'spacer' }), picker));
  ctx.el.append(h('p', { class: 'muted' }, `${formatUtc(range.fromSec * 1000)} – ${formatUtc(range.toSec * 1000)}; rates are averages over the window.`));

  const stats = h('div', { class: 'grid', id: 'totals' });
  const topBox = h('div', { id: 'top-subjects' });
  const chartTitle = h('h2', {}, 'Subject');
  const chartBox = h('div', { id: 'subject-chart' });
  ctx.el.append(stats, section('Top subjects', topBox), h('section', { class: 'card' }, chartTitle, chartBox));

  let chart = null;
  ctx.onCleanup(() => { if (chart) chart.destroy(); });

  async function showSubject(subject) {
    chartTitle.textContent = `${subject.label || subject.subjectId}`;
    if (chart) { chart.destroy(); chart = null; }
    await fill(chartBox, 'subject series', async () => {
      const res = await ctx.api(ctx.opPath(`/subjects/${encodeURIComponent(subject.subjectId)}/series`), { query: { fromSec: range.fromSec, toSec: range.toSec } });
      if (!ctx.isCurrent()) return null;
      const { times, inBps, outBps } = seriesToBps(res.points || [], range.fromSec, range.toSec);
      const holder = h('div');
      chartBox.replaceChildren(holder);
      chart = speedTimeChart(holder, { timesSec: times, series: [{ label: 'In', values: inBps, color: '#1f5fbf' }, { label: 'Out', values: outBps, color: '#d9730d' }] });
      return [holder, h('p', { class: 'legend-note' }, `${subject.subjectId} · 5-minute averages, UTC`)];
    });
  }

  let res;
  try {
    res = await ctx.api(ctx.opPath('/top-subjects'), { query: { fromSec: range.fromSec, toSec: range.toSec, limit: TOP_N } });
  } catch (err) {
    stats.replaceChildren();
    topBox.replaceChildren(errorBox(err, 'top subjects'));
    chartBox.replaceChildren();
    return;
  }
  if (!ctx.isCurrent()) return;
  const subjects = res.subjects || [];
  const total = res.total || subjects.reduce((acc, s) => ({ bytesIn: acc.bytesIn + Number(s.bytesIn || 0), bytesOut: acc.bytesOut + Number(s.bytesOut || 0) }), { bytesIn: 0, bytesOut: 0 });
  const bps = (bytes) => (Number(bytes || 0) * 8) / spanSec;
  // The API has no operator-wide total; the sum of the top subjects is labelled as such, since
  // subjects may overlap (an IP group's traffic also crosses an interface that is a subject).
  const totalLabel = res.total ? 'Total' : 'Top subjects summed';
  stats.replaceChildren(
    stat(`${totalLabel}, in`, formatBps(bps(total.bytesIn)), `${formatBytes(total.bytesIn)} in the window`),
    stat(`${totalLabel}, out`, formatBps(bps(total.bytesOut)), `${formatBytes(total.bytesOut)} in the window`),
    stat('Subjects with traffic', String(subjects.length), subjects.length >= TOP_N ? `top ${TOP_N} shown` : 'all shown'),
  );
  topBox.replaceChildren(table([
    { label: 'Subject', value: (s) => h('button', { type: 'button', class: 'linkish subject-link', onclick: () => void showSubject(s) }, s.label || s.subjectId), title: (s) => s.subjectId },
    { label: 'In (avg)', num: true, value: (s) => formatBps(bps(s.bytesIn)) },
    { label: 'Out (avg)', num: true, value: (s) => formatBps(bps(s.bytesOut)) },
    { label: 'Peak in', num: true, value: (s) => (s.peakBpsIn !== undefined ? formatBps(s.peakBpsIn) : '—') },
    { label: 'Peak out', num: true, value: (s) => (s.peakBpsOut !== undefined ? formatBps(s.peakBpsOut) : '—') },
    { label: 'Bytes in', num: true, value: (s) => formatBytes(s.bytesIn) },
    { label: 'Bytes out', num: true, value: (s) => formatBytes(s.bytesOut) },
  ], subjects, { id: 'top-table', empty: 'No traffic in this window yet: check Sources for edges and exporters.' }));
  if (subjects.length > 0) await showSubject(subjects[0]);
  else chartBox.replaceChildren(h('p', { class: 'empty' }, 'No subject to show.'));
}

function stat(label, value, sub) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), sub ? h('div', { class: 'muted' }, sub) : null);
}
