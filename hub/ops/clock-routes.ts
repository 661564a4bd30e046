/**
 * The hub's clock control, for tests that drive the real program through time (README, "Running the
 * hub at a chosen time"). Mounted only with FLOWBILL_CLOCK=<instant> and FLOWBILL_CLOCK_CONTROL=on;
 * super_admin only.
 *
 *   GET  /api/v1/hub/clock                      → {clock}
 *   POST /api/v1/hub/clock {advanceMs} | {toIso} [, runDueJobs] → {clock, jobs}
 *
 * Time only moves forward (CLOCK_BACKWARDS otherwise): job schedules, ingest's dedup horizon and the
 * session and login windows assume it. After a move the jobs due at the new time run before the
 * answer (ops/due-jobs.ts), so "advance 16 days" answers with the trial already expired; runDueJobs
 * defaults to FLOWBILL_JOBS (false: move only, e.g. to look at the state before any job ran).
 */
import Router from '@koa/router';
import { parseIsoInstant, type ControllableClock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { hubError } from '../errors';
import { requireRole } from '../http/principal';
import { readBody } from '../http/request-body';
import type { DueJobsRunner } from './due-jobs';

export interface ClockRoutesDeps {
  clock: ControllableClock;
  /** Where the clock started (FLOWBILL_CLOCK), for the view. */
  startMs: number;
  dueJobs: DueJobsRunner;
  /** The default of runDueJobs: FLOWBILL_JOBS. */
  jobsEnabled: boolean;
  log: Logger;
}

/** What GET /api/v1/hub/clock and /api/v1/health show of a clock that is not the system clock. */
export function shiftedClockView(clock: { nowMs(): number }, startMs: number, control: boolean) {
  const nowMs = clock.nowMs();
  return { source: 'shifted' as const, startedAt: new Date(startMs).toISOString(), nowMs, now: new Date(nowMs).toISOString(), control };
}

export function createClockRoutes(deps: ClockRoutesDeps): Router {
  const { clock } = deps;
  const router = new Router({ prefix: '/api/v1/hub' });

  router.get('/clock', requireRole('super_admin'), async (ctx) => {
    ctx.body = { clock: shiftedClockView(clock, deps.startMs, true) };
  });

  router.post('/clock', requireRole('super_admin'), async (ctx) => {
    const { advanceMs, toIso, runDueJobs = deps.jobsEnabled } = readBody(ctx);
    if ((advanceMs === undefined) === (toIso === undefined)) throw hubError('VALIDATION_FAILED', 'give exactly one of advanceMs (milliseconds) or toIso (an ISO 8601 instant with its zone)');
    if (typeof runDueJobs !== 'boolean') throw hubError('VALIDATION_FAILED', 'runDueJobs: expected true or false');
    const fromMs = clock.nowMs();
    if (advanceMs !== undefined) {
      if (typeof advanceMs !== 'number' || !Number.isSafeInteger(advanceMs)) throw hubError('VALIDATION_FAILED', 'advanceMs: expected an integer number of milliseconds');
      if (advanceMs < 0) throw hubError('CLOCK_BACKWARDS', 'advanceMs: the hub\'s time only moves forward');
      clock.advanceMs(advanceMs);
    } else {
      const atMs = typeof toIso === 'string' ? parseIsoInstant(toIso) : undefined;
      if (atMs === undefined) throw hubError('VALIDATION_FAILED', 'toIso: expected an ISO 8601 instant with its zone, e.g. 2027-02-01T00:20:00Z');
      try {
        clock.advanceToMs(atMs);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        throw hubError('CLOCK_BACKWARDS', `toIso ${toIso} is before the hub's now (${new Date(clock.nowMs()).toISOString()}); its time only moves forward`);
      }
    }
    deps.log.warn({ from: new Date(fromMs).toISOString(), to: new Date(clock.nowMs()).toISOString(), runDueJobs }, 'the hub\'s clock was moved forward (FLOWBILL_CLOCK_CONTROL)');
    const jobs = runDueJobs ? await deps.dueJobs.runNow() : null;
    ctx.body = { clock: shiftedClockView(clock, deps.startMs, true), jobs };
  });

  return router;
}
