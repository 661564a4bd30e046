import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import type { Logger } from '../../common/logger';
import type { UnmanageCause } from './unmanaged-subjects';

/** A subject stopped being managed at atMs; the modules (billing) have not been told yet. */
export interface UnmanageIntent { operatorId: string; subjectId: string; atMs: number; cause: UnmanageCause }

const PREFIX = 'unmanage/';
const operatorPrefix = (operatorId: string) => `${PREFIX}${operatorId}/`;
const keyOf = (operatorId: string, subjectId: string) => `${operatorPrefix(operatorId)}${encodeURIComponent(subjectId)}`;

export interface UnmanageOutboxDeps {
  kv: KeyValueStore;
  log: Logger;
  /** Tells the modules (billing bills the subject up to atMs). Must be idempotent: it may run again after a crash. */
  deliver(intent: UnmanageIntent): Promise<void>;
}

/**
 * The durable list of "subject X stopped being managed at instant T" not yet handed to billing.
 * Intents are written in the SAME atomic write as the change that causes them (the new interface
 * selection, the deleted IP group, the revoked edge), then delivered and deleted one by one. So a
 * change is never stored without its bills following, even if billing fails or the hub crashes in
 * between: what is left is delivered at the next change, at start and by the hub's retry tick, still
 * at its recorded instant. Keys: unmanage/<operatorId>/<encoded subjectId> → UnmanageIntent.
 * Callers serialize per operator (subject-management.ts), so read-then-write here does not race.
 */
export function createUnmanageOutbox(deps: UnmanageOutboxDeps) {
  const { kv, log } = deps;
  return {
    /**
     * The puts for new intents. A subject that already has one keeps it: it stopped being managed at
     * that earlier instant, and a later change cannot move its bill.
     */
    async opsFor(operatorId: string, subjectIds: string[], atMs: number, cause: UnmanageCause): Promise<KvOp[]> {
      if (subjectIds.length === 0) return [];
      const existing = await kv.getMany(subjectIds.map((s) => keyOf(operatorId, s)));
      return subjectIds.flatMap((subjectId, i) => (existing[i] ? [] : [{
        type: 'put' as const, key: keyOf(operatorId, subjectId), value: encodeJson({ operatorId, subjectId, atMs, cause } satisfies UnmanageIntent),
      }]));
    },

    async pending(operatorId?: string): Promise<UnmanageIntent[]> {
      return (await collect(kv, prefixRange(operatorId === undefined ? PREFIX : operatorPrefix(operatorId)))).map(([, v]) => decodeJson<UnmanageIntent>(v));
    },

    /**
     * Delivers every pending intent (of one operator, or all), oldest instant first, deleting each
     * once delivered. A failure is logged and left for the next drain; the others go on.
     */
    async drain(operatorId?: string): Promise<{ delivered: UnmanageIntent[]; failed: UnmanageIntent[] }> {
      const intents = (await this.pending(operatorId)).sort((a, b) => a.atMs - b.atMs);
      const delivered: UnmanageIntent[] = [];
      const failed: UnmanageIntent[] = [];
      for (const intent of intents) {
        try {
          await deps.deliver(intent);
          await kv.write([{ type: 'del', key: keyOf(intent.operatorId, intent.subjectId) }]);
          delivered.push(intent);
        } catch (err) {
          failed.push(intent);
          log.error({ operatorId: intent.operatorId, subjectId: intent.subjectId, atMs: intent.atMs, cause: intent.cause, err: (err as Error).message },
            'a subject that stopped being managed could not be billed yet; retried at the next change, the next start and the retry tick');
        }
      }
      return { delivered, failed };
    },
  };
}

export type UnmanageOutbox = ReturnType<typeof createUnmanageOutbox>;
