import { cleanInterfaceName } from '../../common/interface-name';
import { interfaceSubjectId, subjectLabel } from '../../common/subject-id';
import type { SeriesReader } from '../ports';
import type { EdgeRegistry } from './edge-registry';
import type { EdgeStatusTracker } from './edge-status-tracker';
import type { InterfaceNameStore } from './interface-name-store';

export interface InterfaceLabelDeps {
  registry: Pick<EdgeRegistry, 'listEdges'>;
  status: Pick<EdgeStatusTracker, 'view'>;
  names: Pick<InterfaceNameStore, 'list'>;
}

/**
 * Interface subject id → the name to show: the operator's own name, else the ifName (or ifDescr) the
 * exporter sent in options data, as the operator's edges last reported it.
 */
export async function interfaceNamesOf(deps: InterfaceLabelDeps, operatorId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const edge of await deps.registry.listEdges(operatorId)) {
    if (edge.revoked) continue;
    for (const x of deps.status.view(edge.edgeId).exporters) {
      for (const n of x.interfaceNames ?? []) {
        const name = cleanInterfaceName(String(n.name ?? '')) || cleanInterfaceName(String(n.description ?? ''));
        if (name) out.set(interfaceSubjectId(x.address, n.ifIndex), name);
      }
    }
  }
  for (const n of await deps.names.list(operatorId)) out.set(interfaceSubjectId(n.exporter, n.ifIndex), n.name);
  return out;
}

/**
 * The series reader with interface labels that carry the interface's name ("Transit A (192.0.2.1
 * ifIndex 3)"), so the dashboard's top-N and its search show and find names; the address and ifIndex
 * stay in the label. Everything else is the store's.
 */
export function withInterfaceLabels(series: SeriesReader, deps: InterfaceLabelDeps): SeriesReader {
  return {
    readSeries: (op, id, from, to) => series.readSeries(op, id, from, to),
    reportedBucketCount: (op, from, to) => series.reportedBucketCount(op, from, to),
    readSlotColumns: (op, id, firstSlotSec, n, into) => series.readSlotColumns(op, id, firstSlotSec, n, into),
    async listSubjects(operatorId) {
      const [subjects, names] = await Promise.all([series.listSubjects(operatorId), interfaceNamesOf(deps, operatorId)]);
      return subjects.map((s) => {
        const name = s.kind === 'interface' ? names.get(s.subjectId) : undefined;
        return name ? { ...s, label: `${name} (${subjectLabel(s.subjectId)})` } : s;
      });
    },
  };
}
