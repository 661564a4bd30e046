/**
 * Runs the commerce jobs: catch-up on start (each job whose scheduled run was missed while the hub
 * was down runs once, decided purely by job-schedule.ts from the persisted last run), then node-cron
 * in UTC while the hub is up. A job's last run is recorded only after it completed.
 */
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { CommerceRepository } from './commerce-repository';
import type { CommerceService } from './commerce-service';
import type { CommerceJobName } from './job-schedule';
import { COMMERCE_JOBS, isDue } from './job-schedule';

export function createCommerceJobs(deps: { repo: CommerceRepository; service: CommerceService; clock: Clock; log: Logger }) {
  const { repo, service, log } = deps;
  let tasks: ScheduledTask[] = [];

  async function runJob(name: CommerceJobName, nowMs: number): Promise<unknown> {
    const result = await service.runJob(name, nowMs);
    await repo.setJobLastRun(name, nowMs);
    log.debug({ job: name, nowMs, result }, 'commerce job completed');
    return result;
  }

  /**
   * The job if a scheduled run lies in (last completed run, nowMs], in the job's critical section:
   * with several hubs every one's cron fires, the first runs it and records the run, the others then
   * find it done (once per due instant across the cluster; common/critical-sections.ts).
   */
  function runIfDue(job: (typeof COMMERCE_JOBS)[number], nowMs: number): Promise<boolean> {
    return repo.sections.section(`job:${job.name}`).run(async () => {
      if (!isDue(job, await repo.getJobLastRun(job.name), nowMs)) return false;
      await runJob(job.name, nowMs);
      return true;
    });
  }

  /** Run, once each, the jobs with a scheduled run in (last completed run, nowMs]; returns those that completed. */
  async function runDueJobs(nowMs: number): Promise<CommerceJobName[]> {
    const ran: CommerceJobName[] = [];
    for (const job of COMMERCE_JOBS) {
      try {
        if (await runIfDue(job, nowMs)) ran.push(job.name);
      } catch (err) {
        // Not recorded as run, so the next schedule or start retries it; the other jobs still run.
        log.error({ err, job: job.name }, 'commerce job failed during catch-up');
      }
    }
    return ran;
  }

  return {
    runJob,
    runDueJobs,
    /** Catch up, then schedule. */
    async start(schedule: boolean): Promise<void> {
      const ran = await runDueJobs(deps.clock.nowMs());
      if (ran.length > 0) log.info({ jobs: ran }, 'commerce: caught up on jobs missed while the hub was down');
      if (!schedule) return;
      tasks = COMMERCE_JOBS.map((job) => cron.schedule(job.cron, async () => {
        try {
          await runIfDue(job, deps.clock.nowMs());
        } catch (err) {
          log.error({ err, job: job.name }, 'commerce job failed; it runs again at its next schedule or on restart');
        }
      }, { timezone: 'Etc/UTC', name: `commerce-${job.name}`, noOverlap: true }));
    },
    async stop(): Promise<void> {
      for (const t of tasks) await t.destroy();
      tasks = [];
    },
  };
}
