/**
 * "Run every job due now", across the hub's modules: how scheduled work follows a hub whose clock is
 * not the system clock (FLOWBILL_CLOCK=<instant>).
 *
 * node-cron fires on wall time: with a shifted clock the invoice run would come on the real 1st, not
 * the hub's. But every module job computes its work from its persisted last run and the instant it is
 * given (commerce/job-schedule.ts isDue, billing/due-bills.ts), so one call at the hub's now catches up
 * on any number of missed runs, and a second call finds nothing left. The hub calls this after each
 * move of its clock (ops/clock-routes.ts) and once a minute of real time while its clock is shifted;
 * node-cron keeps firing too, harmlessly (idempotent, and each module keeps its runs from overlapping).
 */
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createSerialQueue } from '../../common/serial-queue';

/** The part of a hub module this needs (HubModule.runDueJobs). */
export interface DueJobsModule {
  name: string;
  runDueJobs?(nowMs: number): Promise<unknown>;
}

export interface DueJobsRunner {
  /** Runs each module's due jobs at the clock's now, after any run in progress; per module, its result or {error}. */
  runNow(): Promise<Record<string, unknown>>;
  /** The minute tick: nothing when a run is in progress (the next tick catches up). */
  tick(): Promise<void>;
  /** Waits for the run in progress, if any. */
  idle(): Promise<void>;
}

export function createDueJobsRunner(deps: { modules: () => readonly DueJobsModule[]; clock: Clock; log: Logger }): DueJobsRunner {
  const runs = createSerialQueue();
  let queued = 0;

  async function runAll(): Promise<Record<string, unknown>> {
    const nowMs = deps.clock.nowMs();
    const results: Record<string, unknown> = {};
    for (const m of deps.modules()) {
      if (!m.runDueJobs) continue;
      try {
        results[m.name] = await m.runDueJobs(nowMs);
      } catch (err) {
        // Not fatal: the module's job did not record a completed run, so the next call retries it.
        deps.log.error({ err, module: m.name, nowMs }, 'due jobs failed; retried at the next run');
        results[m.name] = { error: (err as Error).message };
      }
    }
    deps.log.info({ hubTime: new Date(nowMs).toISOString(), results }, 'ran the jobs due at the hub\'s time');
    return results;
  }

  const run = (): Promise<Record<string, unknown>> => {
    queued++;
    return runs.run(async () => { try { return await runAll(); } finally { queued--; } });
  };
  return {
    runNow: run,
    tick: () => (queued > 0 ? Promise.resolve() : run().then(() => undefined)),
    idle: () => runs.idle(),
  };
}
