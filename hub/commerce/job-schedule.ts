/**
 * The commerce jobs' schedules, as data: node-cron runs them while the hub is up, and on start the
 * hub computes purely from (last completed run, now) whether a scheduled run was missed, then runs
 * each missed job once. Every job is idempotent and processes everything due as of its run instant,
 * so one catch-up run covers any number of missed runs.
 */
import { periodContaining } from './invoice-period';

export type CommerceJobName = 'trial-expiry' | 'period-end' | 'invoices' | 'retention';

export interface JobSchedule {
  name: CommerceJobName;
  /** node-cron expression, evaluated in UTC. */
  cron: string;
  /** The latest scheduled instant at or before nowMs. */
  previousRunMs(nowMs: number): number;
  description: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function monthlyAt(offsetMs: number) {
  return (nowMs: number): number => {
    const p = periodContaining(nowMs);
    const thisMonth = p.startMs + offsetMs;
    return nowMs >= thisMonth ? thisMonth : periodContaining(p.startMs - 1).startMs + offsetMs;
  };
}

export const COMMERCE_JOBS: readonly JobSchedule[] = Object.freeze([
  {
    name: 'trial-expiry', cron: '* * * * *', description: 'every minute: expire trials, pause collection, push edge configs',
    previousRunMs: (nowMs: number) => Math.floor(nowMs / MINUTE_MS) * MINUTE_MS,
  },
  {
    name: 'period-end', cron: '0 0 1 * *', description: '00:00 UTC on the 1st: end cancelled or non-renewing add-ons, push edge configs',
    previousRunMs: monthlyAt(0),
  },
  {
    name: 'invoices', cron: '5 0 1 * *', description: '00:05 UTC on the 1st: one invoice per operator for every ended, uninvoiced period',
    previousRunMs: monthlyAt(5 * MINUTE_MS),
  },
  {
    name: 'retention', cron: '0 * * * *', description: 'hourly: purge data of collections stopped longer than the retention period',
    previousRunMs: (nowMs: number) => Math.floor(nowMs / HOUR_MS) * HOUR_MS,
  },
] satisfies JobSchedule[]);

export function jobByName(name: string): JobSchedule | undefined {
  return COMMERCE_JOBS.find((j) => j.name === name);
}

/**
 * Was a scheduled run missed? A job that never completed is due (it is idempotent, so a first run
 * costs nothing); otherwise it is due when a scheduled instant lies in (lastRunMs, nowMs].
 */
export function isDue(schedule: JobSchedule, lastRunMs: number | undefined, nowMs: number): boolean {
  if (lastRunMs === undefined) return true;
  return schedule.previousRunMs(nowMs) > lastRunMs;
}
