/**
 * Which billing subjects stop being managed by a change of the operator's collection, as a pure
 * function (no KV, no clock). The spec: "when a subject is unmanaged or deleted, its bill is
 * generated at that instant". A subject is managed while the hub collects it:
 *   - an interface "if:<exporter>/<ifIndex>" while the interface selection covers it (allInterfaces,
 *     or listed) AND a live (not revoked) edge of the operator reports its exporter;
 *   - an IP group "ipg:<name>" while the group exists. IP groups are operator-wide: every edge
 *     classifies them, so revoking an edge (even the last one) does not unmanage a group; the
 *     operator's next edge collects it again.
 * There is no "remove exporter" operation in the API: an exporter that goes quiet stays managed
 * (silence and removal cannot be told apart).
 */
import { interfaceSubjectId, ipGroupSubjectId, parseSubjectId } from '../../common/subject-id';
import type { InterfaceSelection } from './collection-config-store';

export type ManagementChange =
  /** PUT interface-selection: from `before` to `after`. */
  | { kind: 'interface_deselected'; before: InterfaceSelection; after: InterfaceSelection }
  /** DELETE ip-groups/<name>. */
  | { kind: 'ip_group_deleted'; groupName: string }
  /**
   * An edge was revoked: `orphanedExporters` are the exporters it reported that no other live edge
   * of the operator reports (orphanedExporters below); `selection` is the one in force.
   */
  | { kind: 'edge_revoked'; orphanedExporters: string[]; selection: InterfaceSelection };

export type UnmanageCause = ManagementChange['kind'];

/** Does the selection cover this interface? allInterfaces covers every one. */
export function selectionCovers(selection: InterfaceSelection, exporter: string, ifIndex: number): boolean {
  return selection.allInterfaces || selection.interfaces.some((r) => r.exporter === exporter && r.ifIndex === ifIndex);
}

/**
 * The subjects that stop being managed, sorted and distinct. `knownSubjectIds` are the subjects the
 * hub knows of for the operator (its series, and those held by bill plans): under allInterfaces the
 * managed interfaces are not listed anywhere else. An interface listed explicitly is managed even
 * if it never reported.
 */
export function unmanagedSubjects(change: ManagementChange, knownSubjectIds: Iterable<string>): string[] {
  const out = new Set<string>();
  switch (change.kind) {
    case 'ip_group_deleted':
      out.add(ipGroupSubjectId(change.groupName));
      break;
    case 'interface_deselected': {
      const { before, after } = change;
      if (after.allInterfaces) break; // everything is covered afterwards
      const candidates = [...knownSubjectIds, ...before.interfaces.map((r) => interfaceSubjectId(r.exporter, r.ifIndex))];
      for (const id of candidates) {
        const s = parseSubjectId(id);
        if (s?.kind !== 'interface') continue;
        if (selectionCovers(before, s.exporter, s.ifIndex) && !selectionCovers(after, s.exporter, s.ifIndex)) out.add(id);
      }
      break;
    }
    case 'edge_revoked': {
      const orphaned = new Set(change.orphanedExporters);
      const candidates = [...knownSubjectIds, ...change.selection.interfaces.map((r) => interfaceSubjectId(r.exporter, r.ifIndex))];
      for (const id of candidates) {
        const s = parseSubjectId(id);
        if (s?.kind === 'interface' && orphaned.has(s.exporter) && selectionCovers(change.selection, s.exporter, s.ifIndex)) out.add(id);
      }
      break;
    }
  }
  return [...out].sort();
}

/** The revoked edge's exporters that no other live edge of the operator reports. */
export function orphanedExporters(revokedEdgeExporters: Iterable<string>, otherLiveEdgesExporters: Iterable<string>): string[] {
  const kept = new Set(otherLiveEdgesExporters);
  return [...new Set(revokedEdgeExporters)].filter((e) => !kept.has(e)).sort();
}
