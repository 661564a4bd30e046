import type { Clock } from '../../common/clock';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import type { Logger } from '../../common/logger';
import type { CollectionConfigStore, InterfaceSelection } from './collection-config-store';
import type { EdgeExporterIndex } from './edge-exporter-index';
import type { EdgeRecord } from './edge-registry';
import { createUnmanageOutbox, type UnmanageIntent } from './unmanage-outbox';
import { orphanedExporters, unmanagedSubjects, type ManagementChange, type UnmanageCause } from './unmanaged-subjects';

export interface SubjectManagementDeps {
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  configs: CollectionConfigStore;
  exporters: EdgeExporterIndex;
  /** The operator's edges (the registry's listEdges). */
  listEdges(operatorId: string): Promise<Pick<EdgeRecord, 'edgeId' | 'revoked'>[]>;
  /** Subject ids the hub knows for the operator: its series and those the modules hold (bill plans). */
  knownSubjects(operatorId: string): Promise<Iterable<string>>;
  /** Tells the modules that the subject stopped being managed at atMs (billing bills it up to then). Idempotent. */
  unmanage(operatorId: string, subjectId: string, atMs: number): Promise<void>;
}


/**
 * Every way a subject stops being managed, in one place: PUT interface-selection (each interface it
 * deselects), DELETE of an IP group, and the revocation of an edge (the interfaces of exporters only
 * that edge reported). Each computes the subjects with the pure rule (unmanaged-subjects.ts) and
 * writes them as intents in the same atomic write as the change (unmanage-outbox.ts); once the edges
 * were told, drain() delivers them to the modules, which bill each subject at the instant of the change.
 *
 * Order: the change and its intents are stored first, billing follows. Billing first would leave a
 * subject billed and out of its plan while still collected when the change then fails; storing the
 * change alone first would lose the bills if billing failed (a retried PUT finds nothing left to
 * diff). With the intents in the same write, nothing is lost either way, a retried request bills
 * nothing twice (the diff is empty, and billing ignores a subject no plan holds), and a failed bill
 * is retried at its recorded instant. Changes and drains of one operator run one at a time.
 */
export function createSubjectManagement(deps: SubjectManagementDeps) {
  // Per operator, across hub processes on a shared store (common/critical-sections.ts).
  const sections = sectionsOf(deps.kv);
  const queue = { run: <T>(operatorId: string, task: () => Promise<T>): Promise<T> => sections.section(`subjects:${operatorId}`).run(task) };
  const outbox = createUnmanageOutbox({
    kv: deps.kv, log: deps.log,
    deliver: (i: UnmanageIntent) => deps.unmanage(i.operatorId, i.subjectId, i.atMs),
  });

  async function intentOps(operatorId: string, change: ManagementChange, atMs: number): Promise<{ ops: KvOp[]; subjectIds: string[] }> {
    const subjectIds = unmanagedSubjects(change, change.kind === 'ip_group_deleted' ? [] : await deps.knownSubjects(operatorId));
    return { ops: await outbox.opsFor(operatorId, subjectIds, atMs, change.kind satisfies UnmanageCause), subjectIds };
  }

  /** Delivers the operator's pending intents; returns the subjects whose bill is still pending. */
  async function drain(operatorId: string): Promise<{ billingPendingSubjectIds: string[] }> {
    const { delivered, failed } = await queue.run(operatorId, () => outbox.drain(operatorId));
    if (delivered.length || failed.length) {
      deps.log.info({ operatorId, billed: delivered.length, billingPending: failed.length }, 'subjects that stopped being managed were handed to billing at their instant');
    }
    return { billingPendingSubjectIds: failed.map((i) => i.subjectId) };
  }

  return {
    /** PUT interface-selection: stores it with the intents of the interfaces it deselects (drain() bills them). */
    async putSelection(operatorId: string, body: Record<string, unknown>): Promise<{ selection: InterfaceSelection; unmanagedSubjectIds: string[] }> {
      let subjectIds: string[] = [];
      const selection = await queue.run(operatorId, () => deps.configs.putSelection(operatorId, body, async (before, after) => {
        const r = await intentOps(operatorId, { kind: 'interface_deselected', before, after }, deps.clock.nowMs());
        subjectIds = r.subjectIds;
        return r.ops;
      }));
      return { selection, unmanagedSubjectIds: subjectIds };
    },

    /** DELETE ip-groups/<name>: deletes it with the intent of its subject (drain() bills it). */
    async deleteGroup(operatorId: string, name: string): Promise<{ unmanagedSubjectIds: string[] }> {
      let subjectIds: string[] = [];
      await queue.run(operatorId, () => deps.configs.deleteGroup(operatorId, name, async () => {
        const r = await intentOps(operatorId, { kind: 'ip_group_deleted', groupName: name }, deps.clock.nowMs());
        subjectIds = r.subjectIds;
        return r.ops;
      }));
      return { unmanagedSubjectIds: subjectIds };
    },

    /**
     * For the edge registry, inside its revocation write: the intents of the interfaces whose
     * exporters only this edge reported, at the revocation instant. IP groups stay managed.
     */
    async revocationOps(edge: EdgeRecord): Promise<KvOp[]> {
      return queue.run(edge.operatorId, async () => {
        const others = (await deps.listEdges(edge.operatorId)).filter((e) => e.edgeId !== edge.edgeId && !e.revoked);
        const otherExporters = (await Promise.all(others.map((e) => deps.exporters.exportersOf(e.edgeId)))).flat();
        const change: ManagementChange = {
          kind: 'edge_revoked',
          orphanedExporters: orphanedExporters(await deps.exporters.exportersOf(edge.edgeId), otherExporters),
          selection: await deps.configs.getSelection(edge.operatorId),
        };
        if (change.orphanedExporters.length === 0) return [];
        return (await intentOps(edge.operatorId, change, edge.revokedAtMs ?? deps.clock.nowMs())).ops;
      });
    },

    /** Delivers the operator's pending intents (after each change, once the edges were told): billing bills each at its instant. */
    drain,

    /** Delivers every operator's pending intents: at start and on the retry tick. Never throws. */
    async drainAll(): Promise<number> {
      const operators = [...new Set((await outbox.pending()).map((i) => i.operatorId))];
      let failed = 0;
      for (const op of operators) failed += (await drain(op)).billingPendingSubjectIds.length;
      return failed;
    },

    /** The pending intents (for the API and tests). */
    pending: (operatorId?: string) => outbox.pending(operatorId),
  };
}

export type SubjectManagement = ReturnType<typeof createSubjectManagement>;
