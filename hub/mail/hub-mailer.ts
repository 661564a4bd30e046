import type { Mailer } from '../ports';

/** What one pass of the outbox job did. */
export interface MailSweepReport {
  /** Handed to SMTP and deleted from the outbox (SMTP mode). */
  delivered: number;
  /** Tried and refused or unreachable again; still spooled (SMTP mode). */
  failed: number;
  /** Deleted because they outlived FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS. */
  purged: number;
  /** Still in the outbox after the pass. */
  waiting: number;
}

/**
 * The hub's Mailer plus the outbox's upkeep. Every message is first written to the outbox folder
 * (mail-spool.ts: 0700 / 0600). With SMTP it is deleted as soon as the server accepted it, and a
 * failed one is retried by sweep(); without SMTP the file is the delivery (a person picks it up)
 * and sweep() deletes it after the retention period. Logs carry ids and recipients, never a body
 * or the SMTP URL (it may hold the SMTP password; a welcome mail holds the customer's).
 */
export interface HubMailer extends Mailer {
  readonly mode: 'smtp' | 'outbox';
  readonly outboxDir: string;
  /** For start: tightens the folder and its files, drops torn temporaries; how many mails wait. */
  prepare(): Promise<{ waiting: number }>;
  /** One pass of the outbox job. Overlapping calls share the pass that is running. */
  sweep(): Promise<MailSweepReport>;
  /** Resolves when no pass is running (for stop; starts none). */
  idle(): Promise<void>;
}
