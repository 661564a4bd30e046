// Live flows: the top talkers the edges publish every few seconds (QoS 0, best effort), merged
// across the operator's edges and refreshed while the page is open.
// API (hub/edges/edge-routes.ts): GET /operators/:op/live-flows → {edges:[{edgeId, receivedAtMs,
//      flows:{edgeId, atMs, windowSec, talkers:[{src,dst,protocol,srcPort,dstPort,bytes,packets,bitsPerSec,exporter}]}}]}
import { h, table, errorBox, badge, setChildren } from '../dom.js';
import { formatBps, formatBytes, formatCount, formatUtc } from '../format.js';

export const LIVE_REFRESH_MS = 3000;
const SHOW = 25;
/** Edges publish every few seconds; a snapshot older than this is labelled stale. */
const STALE_MS = 30_000;

const PROTOCOLS = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 58: 'ICMPv6', 132: 'SCTP' };

export async function render(ctx) {
  const status = h('span', { class: 'live-meta', id: 'live-updated' }, 'connecting…');
  const pause = h('button', { type: 'button', class: 'secondary', id: 'live-pause' }, 'Pause');
  const body = h('div', { id: 'live' });
  ctx.el.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Live flows'), h('span', { class: 'spacer' }), status, pause), body);
  let paused = false;
  let refreshes = 0;
  pause.addEventListener('click', () => { paused = !paused; pause.textContent = paused ? 'Resume' : 'Pause'; });

  async function load() {
    if (paused) return;
    let res;
    try {
      res = await ctx.api(ctx.opPath('/live-flows'));
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'live flows'));
      return;
    }
    if (!ctx.isCurrent()) return;
    refreshes++;
    const nowMs = Date.now();
    const edges = (res.edges || []).map((e) => ({ edgeId: e.edgeId, atMs: Number(e.receivedAtMs || (e.flows && e.flows.atMs) || 0), talkers: (e.flows && e.flows.talkers) || [] }));
    const talkers = edges.flatMap((e) => (e.talkers || []).map((t) => ({ ...t, edgeId: e.edgeId })))
      .sort((a, b) => Number(b.bitsPerSec) - Number(a.bitsPerSec)).slice(0, SHOW);
    const newest = Math.max(0, ...edges.map((e) => Number(e.atMs) || 0));
    status.textContent = `snapshot ${newest ? formatUtc(newest, { seconds: true }) : '—'} · refreshed ${formatUtc(nowMs, { seconds: true })}`;
    status.dataset.refreshes = String(refreshes);
    const stale = edges.filter((e) => nowMs - Number(e.atMs) > STALE_MS);
    setChildren(body,
      stale.length ? h('div', { class: 'notice' }, badge('stale', 'warn'), ` no live data for ${Math.round(STALE_MS / 1000)} s from: ${stale.map((e) => e.edgeId).join(', ')}`) : null,
      table([
        { label: '#', num: true, value: (_t) => '' },
        { label: 'Source', value: (t) => endpoint(t.src, t.srcPort) },
        { label: 'Destination', value: (t) => endpoint(t.dst, t.dstPort) },
        { label: 'Protocol', value: (t) => PROTOCOLS[t.protocol] || String(t.protocol ?? '') },
        { label: 'Rate', num: true, value: (t) => formatBps(t.bitsPerSec) },
        { label: 'Bytes', num: true, value: (t) => formatBytes(t.bytes) },
        { label: 'Packets', num: true, value: (t) => formatCount(t.packets) },
        { label: 'Exporter', value: (t) => t.exporter || '' },
        { label: 'Edge', value: (t) => t.edgeId },
      ], talkers, { id: 'talkers', empty: 'No live flows right now (edges publish top talkers every few seconds).' }),
    );
    body.querySelectorAll('#talkers tbody tr').forEach((tr, i) => { tr.firstChild.textContent = String(i + 1); });
  }

  await load();
  const timer = setInterval(() => void load(), LIVE_REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

function endpoint(addr, port) {
  if (!addr) return '';
  const a = String(addr).includes(':') ? `[${addr}]` : addr;
  return h('code', {}, port ? `${a}:${port}` : String(addr));
}
