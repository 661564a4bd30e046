// @ts-check
// Dashboard: the top subjects of one operator over a window or a custom range (search, pages), and
// the speed-time graph of the subject picked in the table (drag over it to zoom; Reset goes back).
// Everything the page shows lives in its URL (#/dashboard?window|from&to, q, page, subject), so a
// NOC can bookmark or paste a view, and the browser's Back undoes a zoom.
// Averages divide by the span the subject has data for, never the window (issue 11: 888 kbps shown
// for ~21 Mbps); the hub computes them (hub/store/series-routes.ts) and the page says what they are over.
// API shapes: common/api/series.ts.
import { h, table, section, fill, errorBox, setChildren } from '../dom.js';
import { formatBps, formatBytes, formatCount, formatUtc } from '../format.js';
import { speedTimeChart, seriesToBps } from '../chart.js';
import { WINDOWS, windowRange, customRange, formatSpan, toUtcInputValue, fromUtcInputValue } from '../time-window.js';
import { toCsv, downloadCsv } from '../csv.js';

/** @typedef {import('../../common/api/series').TopSubjectsResponse} TopSubjectsResponse */
/** @typedef {import('../../common/api/series').TopSubjectRow} TopSubjectRow */
/** @typedef {import('../../common/api/series').SeriesResponse} SeriesResponse */
/** @typedef {import('../time-window.js').TimeRange} TimeRange */

export const PAGE_SIZE = 10;

/** @param {Record<string, string>} query @returns {{range: TimeRange, error?: string}} */
function rangeFromQuery(query) {
  if (query.from || query.to) {
    const r = customRange(Number(query.from), Number(query.to));
    if (!('error' in r)) return { range: r };
    return { range: windowRange('24h'), error: r.error };
  }
  return { range: windowRange(WINDOWS.some((w) => w.key === query.window) ? query.window : '24h') };
}

/** @param {any} ctx */
export async function render(ctx) {
  /** @type {Record<string, string>} */
  const query = ctx.query || {};
  const { range, error: rangeError } = rangeFromQuery(query);
  const q = (query.q || '').trim();
  const page = Math.max(1, Math.floor(Number(query.page)) || 1);

  /** The dashboard's URL with some parameters changed (undefined removes one). @param {Record<string, string|number|undefined>} changes */
  const link = (changes) => {
    const next = { ...query, ...changes };
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== undefined && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    return `/dashboard${s ? `?${s}` : ''}`;
  };
  const go = (/** @type {Record<string, string|number|undefined>} */ changes) => ctx.navigate(link(changes));
  const isCustom = range.key === 'custom';

  // --- toolbar: preset windows, custom range, reset
  const picker = h('select', { id: 'window', 'aria-label': 'Time window',
    onchange: (/** @type {Event} */ e) => go({ window: /** @type {HTMLSelectElement} */ (e.target).value, from: undefined, to: undefined, page: undefined }) },
  isCustom ? h('option', { value: '', selected: true, disabled: true }, 'Custom range') : null,
  WINDOWS.map((w) => h('option', { value: w.key, selected: !isCustom && w.key === range.key }, w.label)));
  const fromInput = h('input', { type: 'datetime-local', id: 'range-from', 'aria-label': 'From (UTC)', value: toUtcInputValue(range.fromSec), step: 300 });
  const toInput = h('input', { type: 'datetime-local', id: 'range-to', 'aria-label': 'To (UTC)', value: toUtcInputValue(range.toSec), step: 300 });
  const rangeMsg = h('span', { class: 'range-error', id: 'range-error', role: 'alert' }, rangeError || '');
  const rangeForm = h('form', { class: 'range-form', id: 'range-form', onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    const r = customRange(fromUtcInputValue(/** @type {HTMLInputElement} */ (fromInput).value), fromUtcInputValue(/** @type {HTMLInputElement} */ (toInput).value));
    if ('error' in r) { rangeMsg.textContent = r.error; return; }
    go({ from: r.fromSec, to: r.toSec, window: undefined, page: undefined });
  } },
  h('label', {}, 'From ', fromInput), h('label', {}, 'to ', toInput), h('span', { class: 'muted' }, 'UTC'),
  h('button', { type: 'submit', class: 'secondary', id: 'range-apply' }, 'Show range'),
  isCustom ? h('button', { type: 'button', class: 'secondary', id: 'range-reset', onclick: () => go({ from: undefined, to: undefined, window: undefined, page: undefined }) }, 'Reset to last 24 hours') : null);

  ctx.el.append(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Dashboard'), h('span', { class: 'spacer' }), picker),
    h('div', { class: 'toolbar dashboard-range' }, rangeForm, rangeMsg),
    h('p', { class: 'muted', id: 'range-note' },
      `${formatUtc(range.fromSec * 1000)} – ${formatUtc(range.toSec * 1000)} (${formatSpan(range.toSec - range.fromSec)}, up to the last complete 5-minute bucket). `,
      'Averages are over the time each subject has data in this range, shown in the "Averaged over" column.'),
  );

  // --- search
  const searchInput = h('input', { type: 'search', id: 'subject-search', placeholder: 'Subject name or id', 'aria-label': 'Search subjects', value: q });
  const searchForm = h('form', { class: 'toolbar', id: 'search-form', onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    go({ q: /** @type {HTMLInputElement} */ (searchInput).value.trim() || undefined, page: undefined, subject: undefined });
  } }, searchInput, h('button', { type: 'submit', class: 'secondary', id: 'search-submit' }, 'Search'),
  q ? h('button', { type: 'button', class: 'secondary', id: 'search-clear', onclick: () => go({ q: undefined, page: undefined, subject: undefined }) }, 'Clear') : null);

  const stats = h('div', { class: 'grid', id: 'totals' });
  const topBox = h('div', { id: 'top-subjects' });
  const pager = h('div', { class: 'toolbar pager', id: 'top-pager' });
  const tableCsv = h('button', { type: 'button', class: 'secondary', id: 'csv-table', disabled: true }, 'Download table (CSV)');
  const chartTitle = h('h2', {}, 'Subject');
  const chartCsv = h('button', { type: 'button', class: 'secondary', id: 'csv-chart', disabled: true }, 'Download chart (CSV)');
  const chartBox = h('div', { id: 'subject-chart' });
  ctx.el.append(stats,
    section('Top subjects', searchForm, topBox, h('div', { class: 'toolbar' }, pager, h('span', { class: 'spacer' }), tableCsv)),
    h('section', { class: 'card' }, h('div', { class: 'toolbar' }, chartTitle, h('span', { class: 'spacer' }), chartCsv), chartBox));

  /** @type {{destroy(): void} | null} */
  let chart = null;
  ctx.onCleanup(() => { if (chart) chart.destroy(); });
  const rangeTag = `${toUtcInputValue(range.fromSec).replace(/[-:]/g, '')}Z-${toUtcInputValue(range.toSec).replace(/[-:]/g, '')}Z`;

  /** @param {TopSubjectRow} subject */
  async function showSubject(subject) {
    chartTitle.textContent = `${subject.label || subject.subjectId}`;
    if (chart) { chart.destroy(); chart = null; }
    chartCsv.setAttribute('disabled', '');
    await fill(chartBox, 'subject series', async () => {
      /** @type {SeriesResponse} */
      const res = await ctx.api(ctx.opPath(`/subjects/${encodeURIComponent(subject.subjectId)}/series`), { query: { fromSec: range.fromSec, toSec: range.toSec } });
      if (!ctx.isCurrent()) return null;
      const { times, inBps, outBps } = seriesToBps(res.points || [], range.fromSec, range.toSec);
      const holder = h('div');
      chartBox.replaceChildren(holder);
      chart = speedTimeChart(holder, {
        timesSec: times,
        series: [{ label: 'In', values: inBps, color: '#1f5fbf' }, { label: 'Out', values: outBps, color: '#d9730d' }],
        // Zoom: the selected span becomes the page's range (table, chart and CSV together).
        onSelectRange: (fromSec, toSec) => {
          const r = customRange(fromSec, toSec);
          if (!('error' in r)) go({ from: r.fromSec, to: r.toSec, window: undefined, page: undefined, subject: subject.subjectId });
        },
      });
      chartCsv.removeAttribute('disabled');
      chartCsv.onclick = () => downloadCsv(`flowbill-${subject.subjectId.replace(/[^A-Za-z0-9._-]+/g, '_')}-${rangeTag}.csv`,
        toCsv(['bucket_start_utc', 'bucket_start_unix', 'in_bps', 'out_bps'],
          times.map((tSec, i) => [new Date(tSec * 1000).toISOString(), tSec, inBps[i] === null ? '' : Math.round(Number(inBps[i])), outBps[i] === null ? '' : Math.round(Number(outBps[i]))])));
      const over = res.coveredSec > 0
        ? `Average ${formatBps(res.avgBpsIn)} in, ${formatBps(res.avgBpsOut)} out over the ${formatSpan(res.coveredSec)} with data (${formatUtc(Number(res.firstDataSec) * 1000)} – ${formatUtc(Number(res.lastDataEndSec) * 1000)}).`
        : 'No data in this range.';
      return [holder, h('p', { class: 'legend-note', id: 'chart-note' }, `${subject.subjectId} · 5-minute averages, UTC. ${over} Drag across the graph to zoom in.`)];
    });
  }

  /** @type {TopSubjectsResponse} */
  let res;
  try {
    res = await ctx.api(ctx.opPath('/top-subjects'), { query: { fromSec: range.fromSec, toSec: range.toSec, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, q: q || undefined } });
  } catch (err) {
    stats.replaceChildren();
    topBox.replaceChildren(errorBox(err, 'top subjects'));
    chartBox.replaceChildren();
    return;
  }
  if (!ctx.isCurrent()) return;
  const subjects = res.subjects || [];
  const total = Number(res.total || 0);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const busiest = page === 1 ? subjects[0] : undefined;
  setChildren(stats,
    stat(q ? `Subjects matching "${q}"` : 'Subjects with traffic', formatCount(total), total > PAGE_SIZE ? `${PAGE_SIZE} a page, by bytes` : 'all shown, by bytes'),
    busiest ? stat(`Busiest: ${busiest.label || busiest.subjectId}, in`, formatBps(busiest.avgBpsIn), `average over ${formatSpan(busiest.coveredSec)} with data`) : null,
    busiest ? stat(`Busiest: ${busiest.label || busiest.subjectId}, out`, formatBps(busiest.avgBpsOut), `average over ${formatSpan(busiest.coveredSec)} with data`) : null,
  );
  /** @type {{label: string, num?: boolean, value: (s: TopSubjectRow) => any, title?: (s: TopSubjectRow) => string}[]} */
  const columns = [
    { label: 'Subject', value: (s) => h('button', { type: 'button', class: 'linkish subject-link', onclick: () => void showSubject(s) }, s.label || s.subjectId), title: (s) => s.subjectId },
    { label: 'Avg in', num: true, value: (s) => formatBps(s.avgBpsIn) },
    { label: 'Avg out', num: true, value: (s) => formatBps(s.avgBpsOut) },
    { label: 'Averaged over', num: true, value: (s) => formatSpan(s.coveredSec), title: (s) => `${s.coveredSec / 300} five-minute buckets with data, ${formatUtc(Number(s.firstDataSec) * 1000)} – ${formatUtc(Number(s.lastDataEndSec) * 1000)}` },
    { label: 'Peak in', num: true, value: (s) => formatBps(s.peakBpsIn) },
    { label: 'Peak out', num: true, value: (s) => formatBps(s.peakBpsOut) },
    { label: 'Bytes in', num: true, value: (s) => formatBytes(s.bytesIn) },
    { label: 'Bytes out', num: true, value: (s) => formatBytes(s.bytesOut) },
  ];
  topBox.replaceChildren(table(columns, subjects, {
    id: 'top-table',
    empty: q ? `No subject matching "${q}" has traffic in this range.` : 'No traffic in this range yet: check Sources for edges and exporters.',
  }));
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  pager.replaceChildren(
    h('button', { type: 'button', class: 'secondary', id: 'page-prev', disabled: page <= 1, onclick: () => go({ page: page - 1 > 1 ? page - 1 : undefined, subject: undefined }) }, '‹ Previous'),
    h('span', { class: 'muted', id: 'page-info' }, `${formatCount(first)}–${formatCount((page - 1) * PAGE_SIZE + subjects.length)} of ${formatCount(total)} · page ${page} of ${pages}`),
    h('button', { type: 'button', class: 'secondary', id: 'page-next', disabled: page >= pages, onclick: () => go({ page: page + 1, subject: undefined }) }, 'Next ›'),
  );
  if (subjects.length > 0) {
    tableCsv.removeAttribute('disabled');
    tableCsv.onclick = () => downloadCsv(`flowbill-top-subjects-${rangeTag}${q ? `-q_${q.replace(/[^A-Za-z0-9._-]+/g, '_')}` : ''}-p${page}.csv`,
      toCsv(['rank', 'subject_id', 'label', 'kind', 'avg_in_bps', 'avg_out_bps', 'averaged_over_sec', 'first_data_utc', 'peak_in_bps', 'peak_out_bps', 'bytes_in', 'bytes_out', 'range_from_utc', 'range_to_utc'],
        subjects.map((s, i) => [first + i, s.subjectId, s.label, s.kind, s.avgBpsIn, s.avgBpsOut, s.coveredSec,
          s.firstDataSec === null ? '' : new Date(s.firstDataSec * 1000).toISOString(), s.peakBpsIn, s.peakBpsOut, s.bytesIn, s.bytesOut,
          new Date(range.fromSec * 1000).toISOString(), new Date(range.toSec * 1000).toISOString()])));
  }
  if (subjects.length > 0) await showSubject(subjects.find((s) => s.subjectId === query.subject) || subjects[0]);
  else chartBox.replaceChildren(h('p', { class: 'empty' }, 'No subject to show.'));
}

/** @param {string} label @param {string} value @param {string} [sub] */
function stat(label, value, sub) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), sub ? h('div', { class: 'muted' }, sub) : null);
}
