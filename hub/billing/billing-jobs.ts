import cron from 'node-cron';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';

/**
 * The bill run's schedule: every hour at minute 20 (node-cron, UTC), and once at start so a hub
 * that was down catches up. What is due is computed from the persisted last run (due-bills.ts), so
 * the run itself is idempotent; overlapping ticks are skipped while a run is busy.
 */
export const BILL_RUN_CRON = '20 * * * *';

export function createBillingJobs(deps: { clock: Clock; log: Logger; runDueJobs(nowMs: number): Promise<unknown> }) {
  let task: ReturnType<typeof cron.schedule> | undefined;
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running) return running;
    running = deps.runDueJobs(deps.clock.nowMs())
      .then((r) => deps.log.info({ result: r }, 'bill run finished'))
      .catch((err) => deps.log.error({ err: (err as Error).message }, 'bill run failed'))
      .finally(() => { running = undefined; });
    return running;
  };
  return {
    start(): Promise<unknown> {
      task = cron.schedule(BILL_RUN_CRON, () => { void tick(); }, { timezone: 'UTC', name: 'billing-run', noOverlap: true });
      return tick();
    },
    async stop(): Promise<void> {
      await task?.stop();
      await task?.destroy();
      task = undefined;
      await running;
    },
    /** Waits for the run in progress, if any (tests). */
    idle: () => running ?? Promise.resolve(),
  };
}
