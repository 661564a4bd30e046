import Router from '@koa/router';
import type {
  ExporterInterfacesView, InterfaceNameResponse, InterfacesResponse, InterfaceView, IpGroupEntryCheck, IpGroupMatchedAddress,
  IpGroupOverlap, IpGroupPreviewResponse,
} from '../../common/api/subjects';
import { cleanInterfaceName } from '../../common/interface-name';
import { canonicalIpGroupEntry, ipEntrySpan, normalizeAddressOrSubnet, parseIpGroupEntry, type IpSpan } from '../../common/ip-prefix';
import { interfaceSubjectId, parseSubjectId } from '../../common/subject-id';
import { hubError } from '../errors';
import { assertOperatorAccess, OPERATOR_WRITERS } from '../http/principal';
import { readBody } from '../http/request-body';
import type { CollectionConfigStore } from './collection-config-store';
import type { EdgeRegistry } from './edge-registry';
import type { EdgeStatusTracker } from './edge-status-tracker';
import type { InterfaceNameStore } from './interface-name-store';
import type { LiveFlowsCache } from './live-flows-cache';

export interface SubjectRoutesDeps {
  registry: Pick<EdgeRegistry, 'listEdges'>;
  status: Pick<EdgeStatusTracker, 'view'>;
  configs: CollectionConfigStore;
  names: InterfaceNameStore;
  liveFlows: LiveFlowsCache;
  /** Subject ids the hub holds series for (the summary store's listSubjects). */
  subjectIdsWithSeries(operatorId: string): Promise<string[]>;
}

/** What a preview reads at most: it answers while the operator types. */
const MAX_PREVIEW_ENTRIES = 2_000;
const MAX_MATCHED = 50;
const MAX_OVERLAPS = 100;

/**
 * The Subjects page's reads (issue 11): interfaces per exporter with names and selection, an IP group
 * preview (the hub's one grammar, overlaps, live-flow addresses it would match), and the operator's
 * interface names. Changing selection and groups stays on edge-routes.ts (subject-management.ts bills
 * what stops being managed).
 */
export function createSubjectRoutes(deps: SubjectRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const op = '/operators/:operatorId';

  router.get(`${op}/interfaces`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId);
    const selection = await deps.configs.getSelection(operatorId);
    const selected = new Set(selection.interfaces.map((r) => `${r.exporter}/${r.ifIndex}`));
    const exporters = new Map<string, { protocol: string; edgeNames: Set<string>; interfaces: Map<number, InterfaceView> }>();
    const exporterOf = (address: string) => {
      let e = exporters.get(address);
      if (!e) exporters.set(address, (e = { protocol: '', edgeNames: new Set(), interfaces: new Map() }));
      return e;
    };
    const interfaceOf = (address: string, ifIndex: number) => {
      const e = exporterOf(address);
      let i = e.interfaces.get(ifIndex);
      if (!i) {
        i = {
          ifIndex, name: '', operatorName: '', exporterName: '', exporterDescription: '', hasTraffic: false,
          selected: selection.allInterfaces || selected.has(`${address}/${ifIndex}`), subjectId: interfaceSubjectId(address, ifIndex),
        };
        e.interfaces.set(ifIndex, i);
      }
      return i;
    };
    for (const edge of await deps.registry.listEdges(operatorId)) {
      if (edge.revoked) continue;
      for (const x of deps.status.view(edge.edgeId).exporters) {
        const e = exporterOf(x.address);
        e.edgeNames.add(edge.name);
        e.protocol ||= x.protocol || (x.netflowVersion === 10 ? 'ipfix' : 'netflow');
        for (const c of x.ifCounters ?? []) interfaceOf(x.address, c.ifIndex);
        for (const n of x.interfaceNames ?? []) {
          // Cleaned again here: the status message came from an edge, and older or foreign ones do not bound it.
          const i = interfaceOf(x.address, n.ifIndex);
          i.exporterName = cleanInterfaceName(String(n.name ?? ''));
          i.exporterDescription = cleanInterfaceName(String(n.description ?? ''));
        }
      }
    }
    for (const id of await deps.subjectIdsWithSeries(operatorId)) {
      const s = parseSubjectId(id);
      if (s?.kind === 'interface') interfaceOf(s.exporter, s.ifIndex).hasTraffic = true;
    }
    for (const r of selection.interfaces) interfaceOf(r.exporter, r.ifIndex);
    for (const n of await deps.names.list(operatorId)) interfaceOf(n.exporter, n.ifIndex).operatorName = n.name;
    const list: ExporterInterfacesView[] = [...exporters.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([address, e]) => ({
      address, protocol: e.protocol, edgeNames: [...e.edgeNames].sort(),
      interfaces: [...e.interfaces.values()].sort((a, b) => a.ifIndex - b.ifIndex).map((i) => ({ ...i, name: i.operatorName || i.exporterName || i.exporterDescription })),
    }));
    ctx.body = { allInterfaces: selection.allInterfaces, exporters: list } satisfies InterfacesResponse;
  });

  router.put(`${op}/interface-names`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    ctx.body = (await deps.names.put(operatorId, readBody(ctx))) satisfies InterfaceNameResponse;
  });

  router.post(`${op}/ip-groups/preview`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId);
    const body = readBody(ctx);
    if (!Array.isArray(body.prefixes) || body.prefixes.length > MAX_PREVIEW_ENTRIES) throw hubError('VALIDATION_FAILED', `prefixes: a list of at most ${MAX_PREVIEW_ENTRIES} entries`);
    const own = typeof body.name === 'string' ? body.name : '';
    const entries: IpGroupEntryCheck[] = [];
    const spans: { entry: string; span: IpSpan }[] = [];
    for (const raw of body.prefixes as unknown[]) {
      const input = typeof raw === 'string' ? raw : JSON.stringify(raw);
      try {
        if (typeof raw !== 'string') throw new Error(`${input}: not a string`);
        const canonical = canonicalIpGroupEntry(raw);
        entries.push({ input, canonical });
        spans.push({ entry: canonical, span: ipEntrySpan(parseIpGroupEntry(canonical)) });
      } catch (err) {
        entries.push({ input, error: (err as Error).message });
      }
    }
    const overlaps: IpGroupOverlap[] = [];
    const addOverlap = (o: IpGroupOverlap) => { if (overlaps.length < MAX_OVERLAPS) overlaps.push(o); };
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        if (overlap(spans[i].span, spans[j].span)) addOverlap({ entry: spans[j].entry, group: own, groupEntry: spans[i].entry });
      }
    }
    const groups = await deps.configs.listGroups(operatorId);
    const groupSpans = groups.flatMap((g) => g.prefixes.map((p) => ({ group: g.name, entry: p, span: ipEntrySpan(parseIpGroupEntry(p)) })));
    for (const s of spans) {
      for (const g of groupSpans) if (g.group !== own && overlap(s.span, g.span)) addOverlap({ entry: s.entry, group: g.group, groupEntry: g.entry });
    }
    // Addresses of the live top talkers (src and dst), at their highest rate seen in the cached windows.
    const rates = new Map<string, number>();
    for (const { flows } of deps.liveFlows.forOperator(operatorId)) {
      for (const t of flows.talkers) {
        for (const a of [t.src, t.dst]) rates.set(a, Math.max(rates.get(a) ?? 0, t.bitsPerSec));
      }
    }
    const matched: IpGroupMatchedAddress[] = [];
    for (const [address, bitsPerSec] of rates) {
      const a = normalizeAddressOrSubnet(address);
      if (!a.ok || !spans.some((s) => overlap(s.span, a.span))) continue;
      matched.push({ address: a.text, bitsPerSec, currentGroups: [...new Set(groupSpans.filter((g) => overlap(g.span, a.span)).map((g) => g.group))] });
    }
    matched.sort((a, b) => b.bitsPerSec - a.bitsPerSec);
    ctx.body = {
      entries, valid: entries.length > 0 && entries.every((e) => e.error === undefined), overlaps,
      matchedAddresses: matched.slice(0, MAX_MATCHED), addressesLookedAt: rates.size,
    } satisfies IpGroupPreviewResponse;
  });

  return router;
}

function overlap(a: IpSpan, b: IpSpan): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}
