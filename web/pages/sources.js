// Sources: the operator's edges and, per edge, the exporters it hears (from the retained EdgeStatus).
// API (hub/edges/edge-routes.ts): GET /operators/:op/edges → {edges:[{edgeId, name, revoked, createdAtMs,
//      status:{state, online, lastSeenMs, session, softwareVersion, configVersion, collectionPaused,
//      counters:{sequenceGaps, decodeErrors, outboxDepth, batchesRejected, flowsOutOfBounds, tableEvictions, …} | null, exporters:[{address, netflowVersion,
//      packets, flows, bytes, sequenceGaps, lastSeenMs, templates, samplingRate}]}}]}
//      POST /operators/:op/enrollment-tokens {ttlHours?} → {token, expiresAtMs}; POST …/edges/:edgeId/revoke
// Exporter rates are derived here from two successive polls (the status carries running totals).
import { h, table, section, badge, errorBox } from '../dom.js';
import { formatAgo, formatBps, formatCount, formatUtc } from '../format.js';

const REFRESH_MS = 15_000;

/** An exporter silent this long is shown as stale, even if its edge is online. */
const EXPORTER_STALE_MS = 5 * 60_000;
const WRITERS = ['super_admin', 'operator_admin'];

export async function render(ctx) {
  const updated = h('span', { class: 'muted', id: 'sources-updated' });
  const body = h('div', { id: 'sources' });
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'sources-message' });
  const enroll = canWrite ? h('button', { type: 'button', class: 'secondary', id: 'enrollment-token', onclick: async () => {
    try {
      const res = await ctx.api(ctx.opPath('/enrollment-tokens'), { method: 'POST', body: {} });
      // Shown once: the hub keeps only its hash.
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, 'One-time enrollment token for a new edge (valid until ', formatUtc(res.expiresAtMs), '): ', h('code', { id: 'enrollment-token-value' }, res.token)));
    } catch (err) { message.replaceChildren(errorBox(err, 'edge enrollment')); }
  } }, 'New enrollment token') : null;
  ctx.el.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Sources'), h('span', { class: 'spacer' }), updated, enroll), message, body);

  async function revoke(edge) {
    if (!confirm(`Revoke ${edge.name || edge.edgeId}? It is disconnected and its credentials stop working.`)) return;
    try {
      await ctx.api(ctx.opPath(`/edges/${encodeURIComponent(edge.edgeId)}/revoke`), { method: 'POST', body: {} });
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${edge.name || edge.edgeId} revoked.`));
    } catch (err) { message.replaceChildren(errorBox(err, 'edge revocation')); }
    await load();
  }

  /** Previous poll's totals per edge/exporter, for rates: key → {atMs, bytes, flows}. */
  const previous = new Map();

  async function load() {
    let res;
    try {
      res = await ctx.api(ctx.opPath('/edges'));
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'edge status'));
      return;
    }
    if (!ctx.isCurrent()) return;
    const nowMs = Date.now();
    const edges = res.edges || [];
    for (const e of edges) {
      for (const x of exportersOf(e)) {
        const key = `${e.edgeId}|${x.address}`;
        const prev = previous.get(key);
        const lastSeenMs = Number(x.lastSeenMs);
        if (prev && lastSeenMs > prev.lastSeenMs && Number(x.bytes) >= prev.bytes) {
          const sec = (lastSeenMs - prev.lastSeenMs) / 1000;
          x.rate = { bitsPerSec: ((Number(x.bytes) - prev.bytes) * 8) / sec, flowsPerSec: (Number(x.flows) - prev.flows) / sec };
        } else if (prev && prev.rate && lastSeenMs === prev.lastSeenMs) {
          x.rate = prev.rate; // no new status since the last poll: keep showing the last known rate
        }
        previous.set(key, { lastSeenMs, bytes: Number(x.bytes), flows: Number(x.flows), rate: x.rate });
      }
    }
    updated.textContent = `updated ${formatUtc(nowMs, { seconds: true })}`;
    if (edges.length === 0) {
      body.replaceChildren(h('p', { class: 'empty' }, 'No edge has enrolled for this operator yet.'));
      return;
    }
    body.replaceChildren(section(null, table([
      { label: 'Edge', value: (e) => h('span', {}, h('strong', {}, e.name || e.edgeId), e.name ? h('div', { class: 'muted' }, e.edgeId) : null,
        st(e).softwareVersion ? h('div', { class: 'muted edge-version' }, `version ${st(e).softwareVersion}`) : null) },
      { label: 'State', value: (e) => edgeState(e) },
      { label: 'Last seen', value: (e) => h('span', { title: formatUtc(st(e).lastSeenMs, { seconds: true }) }, formatAgo(st(e).lastSeenMs, nowMs)) },
      { label: 'Exporters', num: true, value: (e) => String(exportersOf(e).length) },
      { label: 'Sequence gaps', num: true, value: (e) => formatCount(counter(e, 'sequenceGaps')) },
      { label: 'Decode errors', num: true, value: (e) => formatCount(counter(e, 'decodeErrors')) },
      { label: 'Outbox', num: true, value: (e) => formatCount(counter(e, 'outboxDepth')) },
      { label: 'Rejected batches', num: true, value: (e) => alarming(counter(e, 'batchesRejected'), 'bad'),
        title: () => 'Summary batches the hub answered REJECTED: never stored, dropped by the edge (the edge and the hub log each reason at error level)' },
      { label: 'Refused flows', num: true, value: (e) => alarming(counter(e, 'flowsOutOfBounds'), 'warn'),
        title: () => "Decoded flows refused by the edge's sanity bounds (time window, counters, sampling)" },
      { label: 'Evictions', num: true, value: (e) => alarming(counter(e, 'tableEvictions'), 'warn'),
        title: () => "Entries evicted or refused because one of the edge's bounded tables (exporters, templates, buckets, subjects) was full" },
      canWrite ? { label: '', value: (e) => (e.revoked ? '' : h('button', { type: 'button', class: 'danger', onclick: () => void revoke(e) }, 'Revoke')) } : null,
    ].filter(Boolean), edges, { id: 'edges-table', rowAttrs: (e) => ({ 'data-edge': e.edgeId }) })),
    ...edges.map((e) => section(`Exporters of ${e.name || e.edgeId}`, exportersTable(e, nowMs))));
  }

  await load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

function st(edge) {
  return edge.status || {};
}

function exportersOf(edge) {
  return st(edge).exporters || [];
}

function counter(edge, name) {
  const c = st(edge).counters;
  return c ? c[name] : undefined;
}

/** A counter that should stay 0: a badge when it is not; '—' when the edge does not report it (older edges). */
function alarming(n, kind) {
  if (n === undefined || n === null) return '—';
  return Number(n) > 0 ? badge(formatCount(n), kind) : '0';
}

function edgeState(e) {
  const s = st(e);
  const main = e.revoked ? badge('revoked', 'bad') : s.online ? badge('online', 'ok') : s.lastSeenMs ? badge('offline', 'bad') : badge('never seen', 'muted');
  return h('span', {}, main, s.collectionPaused ? [' ', badge('collection paused', 'warn')] : null);
}

function exportersTable(edge, nowMs) {
  return table([
    { label: 'Exporter', value: (x) => h('code', {}, x.address) },
    { label: 'Protocol', value: (x) => protocolName(x.netflowVersion) },
    { label: 'State', value: (x) => (st(edge).online && nowMs - Number(x.lastSeenMs) < EXPORTER_STALE_MS ? badge('active', 'ok') : badge('silent', 'warn')) },
    { label: 'Last seen', value: (x) => h('span', { title: formatUtc(x.lastSeenMs, { seconds: true }) }, formatAgo(x.lastSeenMs, nowMs)) },
    { label: 'Rate', num: true, value: (x) => (x.rate ? formatBps(x.rate.bitsPerSec) : '—'), title: (x) => (x.rate ? `${x.rate.flowsPerSec.toFixed(1)} flows/s` : 'rate shows after the next status update') },
    { label: 'Flows', num: true, value: (x) => formatCount(x.flows) },
    { label: 'Export datagrams', num: true, value: (x) => formatCount(x.packets), title: () => 'NetFlow/IPFIX export packets received from this exporter (not traffic packets)' },
    { label: 'Sequence gaps', num: true, value: (x) => (Number(x.sequenceGaps) > 0 ? badge(formatCount(x.sequenceGaps), 'warn') : '0') },
    { label: 'Templates', num: true, value: (x) => (Number(x.netflowVersion) === 5 ? 'n/a (v5)' : Number(x.templates) > 0 ? String(x.templates) : badge('none yet', 'warn')) },
    { label: 'Sampling', num: true, value: (x) => (Number(x.samplingRate) > 1 ? `1:${x.samplingRate}` : 'unsampled') },
  ], exportersOf(edge), { empty: 'This edge has not heard from any exporter yet.', rowAttrs: (x) => ({ 'data-exporter': x.address }) });
}

function protocolName(version) {
  const v = Number(version);
  if (v === 10) return 'IPFIX';
  if (v === 5 || v === 9) return `NetFlow v${v}`;
  return v ? `v${v}` : '—';
}
