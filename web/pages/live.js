// @ts-check
// Live flows: the top talkers the edges publish every few seconds (QoS 0, best effort), merged
// across the operator's edges and refreshed while the page is open. Filters (exporter, IP group,
// address as CIDR or text) and the breakdowns by protocol and by service port run on the hub
// (hub/edges/live-flows-query.ts), over those published top talkers only: the page says so.
// API shapes: common/api/live.ts.
import { h, table, errorBox, badge, setChildren } from '../dom.js';
import { formatBps, formatBytes, formatCount, formatUtc } from '../format.js';

/** @typedef {import('../../common/api/live').LiveFlowsResponse} LiveFlowsResponse */
/** @typedef {import('../../common/api/live').LiveTalkerView} LiveTalkerView */
/** @typedef {import('../../common/api/live').ProtocolShare} ProtocolShare */
/** @typedef {import('../../common/api/live').PortShare} PortShare */

export const LIVE_REFRESH_MS = 3000;
const SHOW = 25;
/** Edges publish every few seconds; a snapshot older than this is labelled stale. */
const STALE_MS = 30_000;

const PROTOCOLS = /** @type {Record<number, string>} */ ({ 1: 'ICMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 58: 'ICMPv6', 132: 'SCTP' });

/** @param {any} ctx */
export async function render(ctx) {
  const status = h('span', { class: 'live-meta', id: 'live-updated' }, 'connecting…');
  const pause = h('button', { type: 'button', class: 'secondary', id: 'live-pause' }, 'Pause');
  const exporterSel = /** @type {HTMLSelectElement} */ (h('select', { id: 'live-exporter', 'aria-label': 'Exporter' }, h('option', { value: '' }, 'All exporters')));
  const subjectSel = /** @type {HTMLSelectElement} */ (h('select', { id: 'live-subject', 'aria-label': 'IP group' }, h('option', { value: '' }, 'All IP groups')));
  const addressInput = /** @type {HTMLInputElement} */ (h('input', { type: 'search', id: 'live-address', placeholder: 'Address, CIDR or text', 'aria-label': 'Address (CIDR, range, address or text)' }));
  const clear = h('button', { type: 'button', class: 'secondary', id: 'live-clear' }, 'Clear filters');
  const filters = h('form', { class: 'toolbar live-filters', id: 'live-filters' },
    h('label', {}, 'Exporter ', exporterSel), h('label', {}, 'IP group ', subjectSel), h('label', {}, 'Address ', addressInput),
    h('button', { type: 'submit', class: 'secondary', id: 'live-apply' }, 'Filter'), clear);
  const breakdowns = h('div', { class: 'grid live-breakdowns', id: 'live-breakdowns' });
  const body = h('div', { id: 'live' });
  ctx.el.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Live flows'), h('span', { class: 'spacer' }), status, pause), filters,
    h('p', { class: 'muted' }, 'The biggest flows of the last few seconds, as each edge publishes them (its top talkers, not all traffic). ',
      'A subject filter takes IP groups; flows carry no interface index, so interfaces cannot be matched here.'),
    breakdowns, body);

  let paused = false;
  let refreshes = 0;
  /** @type {{exporter?: string, subject?: string, address?: string}} */
  let filter = {};
  let loadSeq = 0;
  pause.addEventListener('click', () => { paused = !paused; pause.textContent = paused ? 'Resume' : 'Pause'; });
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    filter = { exporter: exporterSel.value || undefined, subject: subjectSel.value || undefined, address: addressInput.value.trim() || undefined };
    void load(true);
  });
  exporterSel.addEventListener('change', () => filters.requestSubmit());
  subjectSel.addEventListener('change', () => filters.requestSubmit());
  clear.addEventListener('click', () => { exporterSel.value = ''; subjectSel.value = ''; addressInput.value = ''; filters.requestSubmit(); });

  /** Keep the picker's options in step with what the hub lists, without losing the selection. @param {HTMLSelectElement} sel @param {{value: string, label: string}[]} options @param {string} allLabel */
  function syncOptions(sel, options, allLabel) {
    const current = sel.value;
    const values = options.map((o) => o.value);
    if (current && !values.includes(current)) options = [...options, { value: current, label: current }];
    const want = ['', ...options.map((o) => o.value)].join('\n');
    const have = [...sel.options].map((o) => o.value).join('\n');
    if (want === have) return;
    sel.replaceChildren(h('option', { value: '' }, allLabel), ...options.map((o) => h('option', { value: o.value }, o.label)));
    sel.value = current;
  }

  /** @param {boolean} [force] a filter change loads even while paused */
  async function load(force = false) {
    if (paused && !force) return;
    const seq = ++loadSeq;
    /** @type {LiveFlowsResponse} */
    let res;
    try {
      res = await ctx.api(ctx.opPath('/live-flows'), { query: filter });
    } catch (err) {
      if (ctx.isCurrent() && seq === loadSeq) { breakdowns.replaceChildren(); body.replaceChildren(errorBox(err, 'live flows')); }
      return;
    }
    if (!ctx.isCurrent() || seq !== loadSeq) return;
    refreshes++;
    const nowMs = Date.now();
    const edges = (res.edges || []).map((e) => ({ edgeId: e.edgeId, atMs: Number(e.receivedAtMs || (e.flows && e.flows.atMs) || 0) }));
    syncOptions(exporterSel, (res.exporters || []).map((x) => ({ value: x, label: x })), 'All exporters');
    syncOptions(subjectSel, (res.subjects || []).map((s) => ({ value: s.subjectId, label: s.label })), 'All IP groups');
    const talkers = (res.talkers || []).slice(0, SHOW);
    const newest = Math.max(0, ...edges.map((e) => e.atMs));
    status.textContent = `snapshot ${newest ? formatUtc(newest, { seconds: true }) : '—'} · refreshed ${formatUtc(nowMs, { seconds: true })}`;
    status.dataset.refreshes = String(refreshes);
    const stale = edges.filter((e) => nowMs - e.atMs > STALE_MS);
    const totalBps = Number(res.totalBitsPerSec || 0);
    const active = [filter.exporter && `exporter ${filter.exporter}`, filter.subject && `IP group ${filter.subject.replace(/^ipg:/, '')}`, filter.address && `address ${filter.address}`].filter(Boolean);
    setChildren(breakdowns,
      section2('By protocol', 'live-protocols', table([
        { label: 'Protocol', value: (/** @type {ProtocolShare} */ p) => p.name },
        { label: 'Rate', num: true, value: (p) => formatBps(p.bitsPerSec) },
        { label: 'Share', num: true, value: (p) => share(p.bitsPerSec, totalBps) },
        { label: 'Flows', num: true, value: (p) => formatCount(p.flows) },
      ], res.byProtocol || [], { id: 'protocol-table', empty: 'No flows.' })),
      section2('Top ports', 'live-ports', table([
        { label: 'Port', value: (/** @type {PortShare} */ p) => `${p.port}/${(PROTOCOLS[p.protocol] || String(p.protocol)).toLowerCase()}` },
        { label: 'Service', value: (p) => p.name || '' },
        { label: 'Rate', num: true, value: (p) => formatBps(p.bitsPerSec) },
        { label: 'Share', num: true, value: (p) => share(p.bitsPerSec, totalBps) },
        { label: 'Flows', num: true, value: (p) => formatCount(p.flows) },
      ], res.topPorts || [], { id: 'ports-table', empty: 'No TCP, UDP or SCTP flows.' })),
    );
    setChildren(body,
      stale.length ? h('div', { class: 'notice' }, badge('stale', 'warn'), ` no live data for ${Math.round(STALE_MS / 1000)} s from: ${stale.map((e) => e.edgeId).join(', ')}`) : null,
      h('p', { class: 'muted', id: 'live-summary' },
        `${formatCount(res.matched || 0)} flow${res.matched === 1 ? '' : 's'}${active.length ? ` matching ${active.join(', ')}` : ''}, ${formatBps(totalBps)} together`,
        (res.matched || 0) > talkers.length ? `; the ${talkers.length} fastest shown.` : '.'),
      Number(res.samplingOneIn) > 1 ? h('p', { class: 'muted', id: 'live-sampling' },
        `Estimated from about 1 in ${formatCount(Number(res.samplingOneIn))} flow records (busy edge); billing counts every record.`) : null,
      table([
        { label: '#', num: true, value: (_t) => '' },
        { label: 'Source', value: (/** @type {LiveTalkerView} */ t) => endpoint(t.src, t.srcPort) },
        { label: 'Destination', value: (t) => endpoint(t.dst, t.dstPort) },
        { label: 'Protocol', value: (t) => PROTOCOLS[t.protocol] || String(t.protocol ?? '') },
        { label: 'Rate', num: true, value: (t) => formatBps(t.bitsPerSec) },
        { label: 'Bytes', num: true, value: (t) => formatBytes(t.bytes) },
        { label: 'Packets', num: true, value: (t) => formatCount(t.packets) },
        { label: 'Exporter', value: (t) => t.exporter || '' },
        { label: 'Edge', value: (t) => t.edgeId },
      ], talkers, { id: 'talkers', empty: active.length ? 'No live flow matches these filters right now.' : 'No live flows right now (edges publish top talkers every few seconds).' }),
    );
    body.querySelectorAll('#talkers tbody tr').forEach((tr, i) => { if (tr.firstChild) tr.firstChild.textContent = String(i + 1); });
  }

  await load();
  const timer = setInterval(() => void load(), LIVE_REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

/** @param {string} title @param {string} id @param {Node} content */
function section2(title, id, content) {
  return h('section', { class: 'card', id }, h('h2', {}, title), content);
}

/** A share of the filtered total as a percentage and a meter (no inline style: the CSP forbids it).
 * @param {number} bps @param {number} totalBps */
function share(bps, totalBps) {
  const f = totalBps > 0 ? bps / totalBps : 0;
  return h('span', { class: 'share' }, h('meter', { min: 0, max: 1, value: f.toFixed(4), 'aria-hidden': 'true' }), ` ${(f * 100).toFixed(1)}%`);
}

/** @param {string} addr @param {number} port */
function endpoint(addr, port) {
  if (!addr) return '';
  const a = String(addr).includes(':') ? `[${addr}]` : addr;
  return h('code', {}, port ? `${a}:${port}` : String(addr));
}
