import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createSafeTicker, type Timers } from '../../common/ticker';
import type { HubConfig } from '../config';
import { createMailer, type MailerConfig } from './create-mailer';
import type { HubMailer, MailSweepReport } from './hub-mailer';

/** How often the outbox job looks at the folder (a readdir; sends only what its backoff made due). */
export const MAIL_SWEEP_INTERVAL_MS = 60_000;

export interface MailModuleDeps {
  config: MailerConfig & Pick<HubConfig, 'mailOutboxRetentionDays'>;
  clock: Clock;
  log: Logger;
  /** Run the outbox job (HubConfig.jobsEnabled); tests leave it off and call sweepOutbox(). */
  startJobs: boolean;
  /** The job's interval timer (common/ticker.ts); tests pass createManualTimers(). */
  timers?: Timers;
}

/**
 * The hub's mail: the Mailer other modules send through, and the outbox job. start() tightens the
 * outbox (0700 folder, 0600 files, whatever an older hub left), logs how many mails wait, and with
 * jobs on runs a first pass at once and then one every MAIL_SWEEP_INTERVAL_MS: with SMTP it retries
 * what failed, without SMTP it deletes files past FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS.
 */
export function createMailModule(deps: MailModuleDeps) {
  const log = deps.log.child({ module: 'mail' });
  const mailer: HubMailer = createMailer(deps.config, deps.log, { clock: deps.clock });
  const ticker = createSafeTicker({ log, clock: deps.clock, timers: deps.timers });
  return {
    name: 'mail' as const,
    mailer,
    /** One pass of the outbox job, as the timer runs it. */
    sweepOutbox: (): Promise<MailSweepReport> => mailer.sweep(),
    async start() {
      const { waiting } = await mailer.prepare();
      const days = deps.config.mailOutboxRetentionDays;
      if (mailer.mode === 'smtp') log.info({ waiting, outboxDir: mailer.outboxDir }, `${waiting} mail(s) waiting in the outbox to be sent again`);
      else log.info({ waiting, outboxDir: mailer.outboxDir }, `no SMTP configured: ${waiting} mail(s) waiting in the outbox to be picked up; each is deleted ${days} days after it was written`);
      if (!deps.startJobs) return;
      ticker.every('mail-outbox', MAIL_SWEEP_INTERVAL_MS, () => mailer.sweep(), { unref: true });
      void mailer.sweep().catch((err: unknown) => ticker.errors.record('mail-outbox', err));
    },
    async stop() {
      ticker.stopAll();
      // Let a pass that is sending finish, so a file is not half handled when the hub stops.
      await mailer.idle();
    },
  };
}
