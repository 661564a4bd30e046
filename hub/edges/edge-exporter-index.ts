import type { KeyValueStore } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { parseSubjectId } from '../../common/subject-id';

const PREFIX = 'edge-exp/';
const keyOf = (edgeId: string, exporter: string) => `${PREFIX}${edgeId}/${encodeURIComponent(exporter)}`;
const EMPTY = new Uint8Array(0);

/**
 * Which exporters each edge has reported interfaces of ("if:<exporter>/<ifIndex>" subjects it had
 * stored), so that revoking an edge can tell which interfaces only that edge collected (they stop
 * being managed: hub/edges/unmanaged-subjects.ts). The series are per operator, not per edge, so
 * this is the one place that remembers the edge.
 *
 * Key: edge-exp/<edgeId>/<encoded exporter>, empty value. Written after ingest stored a batch, only
 * for exporters this process has not recorded for that edge yet (a set per edge), so a steady edge
 * costs no write; after a restart the first batch of each edge writes its exporters again (puts are
 * idempotent).
 */
export function createEdgeExporterIndex(kv: KeyValueStore) {
  const recorded = new Map<string, Set<string>>();
  return {
    /** Records the exporters of the interface subjects among subjectIds, stored from edgeId. */
    async record(edgeId: string, subjectIds: Iterable<string>): Promise<void> {
      const seen = recorded.get(edgeId);
      const fresh = new Set<string>();
      for (const id of subjectIds) {
        if (!id.startsWith('if:')) continue;
        const s = parseSubjectId(id);
        if (s?.kind === 'interface' && !seen?.has(s.exporter)) fresh.add(s.exporter);
      }
      if (fresh.size === 0) return;
      await kv.write([...fresh].map((e) => ({ type: 'put' as const, key: keyOf(edgeId, e), value: EMPTY })));
      const set = seen ?? new Set<string>();
      for (const e of fresh) set.add(e);
      recorded.set(edgeId, set);
    },

    /** Every exporter the edge has reported interfaces of, sorted by key. */
    async exportersOf(edgeId: string): Promise<string[]> {
      const prefix = `${PREFIX}${edgeId}/`;
      return (await collect(kv, prefixRange(prefix))).map(([k]) => decodeURIComponent(k.slice(prefix.length)));
    },
  };
}

export type EdgeExporterIndex = ReturnType<typeof createEdgeExporterIndex>;
