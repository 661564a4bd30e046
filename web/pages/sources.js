// @ts-check
// Sources: the operator's edges and, per edge, the exporters it hears (from the retained EdgeStatus).
// API (hub/edges/edge-routes.ts): GET /operators/:op/edges → {edges:[{edgeId, name, revoked, createdAtMs,
//      status:{state, online, lastSeenMs, session, softwareVersion, configVersion, collectionPaused,
//      counters:{sequenceGaps, decodeErrors, outboxDepth, batchesRejected, flowsOutOfBounds, tableEvictions, …} | null, exporters:[{address, netflowVersion,
//      packets, flows, bytes, sequenceGaps, lastSeenMs, templates, samplingRate, protocol ('netflow'|'ipfix'|'sflow', '' from older
//      edges), datagramsLost, samplesDropped, ifCounters:[{ifIndex, ifSpeed, inOctets, outOctets, inErrors, outErrors, inDiscards,
//      outDiscards, ifStatus, lastSeenMs}] (sFlow counter samples)}]}}]}
//      POST /operators/:op/enrollment-tokens {ttlHours?} → {token, expiresAtMs}; POST …/edges/:edgeId/revoke
// Exporter rates are derived here from two successive polls (the status carries running totals).
import { h, table, section, badge, errorBox } from '../dom.js';
import { formatAgo, formatBps, formatCount, formatUtc } from '../format.js';

/** @typedef {import('../../common/api/edges').EdgesResponse} EdgesResponse */
/** @typedef {import('../../common/api/edges').EdgeWithStatusView} EdgeWithStatusView */
/** @typedef {import('../../common/api/edges').EdgeStatusView} EdgeStatusView */
/** @typedef {import('../../common/api/edges').EdgeCountersView} EdgeCountersView */
/** @typedef {import('../../common/api/edges').ExporterStatusView} ExporterStatusView */
/** @typedef {import('../../common/api/edges').InterfaceCountersView} InterfaceCountersView */
/** @typedef {import('../../common/api/edges').EnrollmentTokenResponse} EnrollmentTokenResponse */
/** @typedef {import('../../common/api/session').Role} Role */
/** Rates derived here from two polls, not sent by the hub. @typedef {{ bitsPerSec: number, flowsPerSec: number }} ExporterRate */
/** @typedef {ExporterStatusView & { rate?: ExporterRate }} ExporterRow */

const REFRESH_MS = 15_000;

/** An exporter silent this long is shown as stale, even if its edge is online. */
const EXPORTER_STALE_MS = 5 * 60_000;
/** @type {Role[]} */
const WRITERS = ['super_admin', 'operator_admin'];

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const updated = h('span', { class: 'muted', id: 'sources-updated' });
  const body = h('div', { id: 'sources' });
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'sources-message' });
  const enroll = canWrite ? h('button', { type: 'button', class: 'secondary', id: 'enrollment-token', onclick: async () => {
    try {
      /** @type {EnrollmentTokenResponse} */
      const res = await ctx.api(ctx.opPath('/enrollment-tokens'), { method: 'POST', body: {} });
      // Shown once: the hub keeps only its hash.
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, 'One-time enrollment token for a new edge (valid until ', formatUtc(res.expiresAtMs), '): ', h('code', { id: 'enrollment-token-value' }, res.token)));
    } catch (err) { message.replaceChildren(errorBox(err, 'edge enrollment')); }
  } }, 'New enrollment token') : null;
  ctx.el.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Sources'), h('span', { class: 'spacer' }), updated, enroll), message, body);

  /** @param {EdgeWithStatusView} edge */
  async function revoke(edge) {
    if (!confirm(`Revoke ${edge.name || edge.edgeId}? It is disconnected and its credentials stop working.`)) return;
    try {
      await ctx.api(ctx.opPath(`/edges/${encodeURIComponent(edge.edgeId)}/revoke`), { method: 'POST', body: {} });
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${edge.name || edge.edgeId} revoked.`));
    } catch (err) { message.replaceChildren(errorBox(err, 'edge revocation')); }
    await load();
  }

  /**
   * Previous poll's totals per edge/exporter, for rates.
   * @type {Map<string, { lastSeenMs: number, bytes: number, flows: number, rate: ExporterRate | undefined }>}
   */
  const previous = new Map();

  async function load() {
    /** @type {EdgesResponse} */
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
      ...(canWrite ? [{ label: '', value: (/** @type {EdgeWithStatusView} */ e) => (e.revoked ? '' : h('button', { type: 'button', class: 'danger', onclick: () => void revoke(e) }, 'Revoke')) }] : []),
    ], edges, { id: 'edges-table', rowAttrs: (e) => ({ 'data-edge': e.edgeId }) })),
    ...edges.map((e) => section(`Exporters of ${e.name || e.edgeId}`, exportersTable(e, nowMs))),
    ...edges.flatMap((e) => exportersOf(e).filter((x) => (x.ifCounters || []).length > 0)
      .map((x) => section(`Interface counters of ${x.address} (sFlow, ${e.name || e.edgeId})`, ifCountersTable(x, nowMs)))));
  }

  await load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

/**
 * @param {EdgeWithStatusView} edge
 * @returns {Partial<EdgeStatusView>} empty for a hub that sent no status
 */
function st(edge) {
  return edge.status || {};
}

/**
 * @param {EdgeWithStatusView} edge
 * @returns {ExporterRow[]}
 */
function exportersOf(edge) {
  return st(edge).exporters || [];
}

/**
 * @param {EdgeWithStatusView} edge
 * @param {keyof EdgeCountersView} name
 */
function counter(edge, name) {
  const c = st(edge).counters;
  return c ? c[name] : undefined;
}

/** A counter that should stay 0: a badge when it is not; '—' when the edge does not report it (older edges). */
/**
 * @param {number | undefined} n
 * @param {'warn' | 'bad'} kind
 */
function alarming(n, kind) {
  if (n === undefined || n === null) return '—';
  return Number(n) > 0 ? badge(formatCount(n), kind) : '0';
}

/** @param {EdgeWithStatusView} e */
function edgeState(e) {
  const s = st(e);
  const main = e.revoked ? badge('revoked', 'bad') : s.online ? badge('online', 'ok') : s.lastSeenMs ? badge('offline', 'bad') : badge('never seen', 'muted');
  return h('span', {}, main, s.collectionPaused ? [' ', badge('collection paused', 'warn')] : null);
}

/**
 * @param {EdgeWithStatusView} edge
 * @param {number} nowMs
 */
function exportersTable(edge, nowMs) {
  return table([
    { label: 'Exporter', value: (x) => h('code', {}, x.address) },
    { label: 'Protocol', value: (x) => protocolName(x) },
    { label: 'State', value: (x) => (st(edge).online && nowMs - Number(x.lastSeenMs) < EXPORTER_STALE_MS ? badge('active', 'ok') : badge('silent', 'warn')) },
    { label: 'Last seen', value: (x) => h('span', { title: formatUtc(x.lastSeenMs, { seconds: true }) }, formatAgo(x.lastSeenMs, nowMs)) },
    { label: 'Rate', num: true, value: (x) => (x.rate ? formatBps(x.rate.bitsPerSec) : '—'), title: (x) => (x.rate ? `${x.rate.flowsPerSec.toFixed(1)} flows/s` : 'rate shows after the next status update') },
    { label: 'Flows', num: true, value: (x) => formatCount(x.flows) },
    { label: 'Export datagrams', num: true, value: (x) => formatCount(x.packets), title: () => 'NetFlow/IPFIX/sFlow export packets received from this exporter (not traffic packets)' },
    { label: 'Sequence gaps', num: true, value: (x) => (Number(x.sequenceGaps) > 0 ? badge(formatCount(x.sequenceGaps), 'warn') : '0'),
      title: (x) => (isSflow(x) ? `sFlow: flow samples lost (by each source's sample numbers); ${formatCount(x.datagramsLost ?? 0)} datagrams lost` : 'Export packets (v9) / records (v5, IPFIX) lost on the way') },
    { label: 'Agent drops', num: true, value: (x) => (isSflow(x) ? (Number(x.samplesDropped) > 0 ? badge(formatCount(x.samplesDropped), 'warn') : '0') : 'n/a'),
      title: () => 'sFlow: packets the agent meant to sample but could not (overloaded); not billed. Raise the sampling rate if this grows.' },
    { label: 'Templates', num: true, value: (x) => (isSflow(x) ? 'n/a (sFlow)' : Number(x.netflowVersion) === 5 ? 'n/a (v5)' : Number(x.templates) > 0 ? String(x.templates) : badge('none yet', 'warn')) },
    { label: 'Sampling', num: true, value: (x) => (Number(x.samplingRate) > 1 ? `1:${x.samplingRate}` : 'unsampled') },
  ], exportersOf(edge), { empty: 'This edge has not heard from any exporter yet.', rowAttrs: (x) => ({ 'data-exporter': x.address }) });
}

/** @param {ExporterStatusView} x */
function isSflow(x) {
  return x.protocol === 'sflow';
}

/** sFlow counter samples (if_counters): the link's own counters, next to the sampled estimate. */
/**
 * @param {ExporterStatusView} x
 * @param {number} nowMs
 */
function ifCountersTable(x, nowMs) {
  const up = (/** @type {InterfaceCountersView} */ c) => ((Number(c.ifStatus) & 2) !== 0 ? badge('up', 'ok') : (Number(c.ifStatus) & 1) !== 0 ? badge('down', 'bad') : badge('admin down', 'muted'));
  const errs = (/** @type {number} */ n) => (Number(n) > 0 ? badge(formatCount(n), 'warn') : '0');
  return table([
    { label: 'ifIndex', num: true, value: (c) => String(c.ifIndex) },
    { label: 'Status', value: up },
    { label: 'Speed', num: true, value: (c) => (Number(c.ifSpeed) > 0 ? formatBps(Number(c.ifSpeed)) : '—') },
    { label: 'In octets', num: true, value: (c) => formatCount(c.inOctets) },
    { label: 'Out octets', num: true, value: (c) => formatCount(c.outOctets) },
    { label: 'In errors', num: true, value: (c) => errs(c.inErrors) },
    { label: 'Out errors', num: true, value: (c) => errs(c.outErrors) },
    { label: 'In discards', num: true, value: (c) => errs(c.inDiscards) },
    { label: 'Out discards', num: true, value: (c) => errs(c.outDiscards) },
    { label: 'Updated', value: (c) => h('span', { title: formatUtc(c.lastSeenMs, { seconds: true }) }, formatAgo(c.lastSeenMs, nowMs)) },
  ], x.ifCounters, { rowAttrs: (c) => ({ 'data-if-index': String(c.ifIndex) }) });
}

/** @param {ExporterStatusView} x */
function protocolName(x) {
  if (isSflow(x)) return `sFlow v${Number(x.netflowVersion) || 5}`;
  const v = Number(x.netflowVersion);
  if (v === 10) return 'IPFIX';
  if (v === 5 || v === 9) return `NetFlow v${v}`;
  return v ? `v${v}` : '—';
}
