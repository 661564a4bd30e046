import cron from 'node-cron';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createSerialQueue, type SerialQueue } from '../../common/serial-queue';

/**
 * The bill run's schedule: every hour at minute 20 (node-cron, UTC), and once at start so a hub
 * that was down catches up. What is due is computed from the persisted last run (due-bills.ts), so
 * the run itself is idempotent; overlapping ticks are skipped while a run is busy, and never do two
 * runs go at once (each would mail the same pending report).
 */
export const BILL_RUN_CRON = '20 * * * *';

export function createBillingJobs<R>(deps: { clock: Clock; log: Logger; runDueJobs(nowMs: number): Promise<R>; section?: SerialQueue }) {
  let task: ReturnType<typeof cron.schedule> | undefined;
  // With several hubs, the run's critical section (common/critical-sections.ts): every hub's tick runs
  // in turn, and after the first the others find nothing due (the run is idempotent).
  const runs = deps.section ?? createSerialQueue();
  let queued = 0;
  const run = (nowMs?: number): Promise<R> => {
    queued++;
    const result = runs.run(async () => {
      try { return await deps.runDueJobs(nowMs ?? deps.clock.nowMs()); } finally { queued--; }
    });
    result.then((r) => deps.log.info({ result: r }, 'bill run finished'), (err) => deps.log.error({ err: (err as Error).message }, 'bill run failed'));
    return result;
  };
  const tick = (): Promise<void> => (queued > 0 ? runs.idle() : run().then(() => undefined, () => undefined));
  return {
    start(): Promise<void> {
      task = cron.schedule(BILL_RUN_CRON, () => { void tick(); }, { timezone: 'UTC', name: 'billing-run', noOverlap: true });
      return tick();
    },
    async stop(): Promise<void> {
      await task?.stop();
      await task?.destroy();
      task = undefined;
      await runs.idle();
    },
    /**
     * A run at nowMs (default: the clock's now when it starts), after the one in progress: for callers
     * that need this instant's result, e.g. the hub after its clock was moved (hub/ops/due-jobs.ts).
     */
    runNow: (nowMs?: number): Promise<R> => run(nowMs),
    /** Waits for the run in progress, if any (tests). */
    idle: () => runs.idle(),
  };
}
