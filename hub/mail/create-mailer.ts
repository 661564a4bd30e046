import path from 'node:path';
import nodemailer from 'nodemailer';
import { systemClock, type Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import type { HubMailer } from './hub-mailer';
import { DAY_MS } from './mail-retry-policy';
import { createMailSpool } from './mail-spool';
import { createOutboxMailer } from './outbox-mailer';
import { createSmtpMailer, type RawMailTransport } from './smtp-mailer';

/** The outbox folder: every message is spooled here first; without SMTP it is the delivery. */
export function outboxDirOf(config: Pick<HubConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'mail-outbox');
}

export type MailerConfig = Pick<HubConfig, 'dataDir' | 'smtpUrl' | 'mailFrom'> & Partial<Pick<HubConfig, 'mailOutboxRetentionDays'>>;

/**
 * The hub's Mailer: SMTP (nodemailer) when config.smtpUrl is set, spooling through the outbox until
 * the server accepts; else .eml files in <dataDir>/mail-outbox. See hub-mailer.ts.
 */
export function createMailer(config: MailerConfig, log: Logger, opts: { clock?: Clock; transport?: RawMailTransport } = {}): HubMailer {
  const mailLog = log.child({ module: 'mail' });
  const clock = opts.clock ?? systemClock;
  const spool = createMailSpool({ dir: outboxDirOf(config), clock });
  const retentionMs = (config.mailOutboxRetentionDays ?? 7) * DAY_MS;
  if (!config.smtpUrl && !opts.transport) return createOutboxMailer({ spool, from: config.mailFrom, clock, retentionMs, log: mailLog });
  const transport = opts.transport ?? nodemailer.createTransport(config.smtpUrl);
  return createSmtpMailer({ spool, transport, from: config.mailFrom, clock, retentionMs, log: mailLog });
}
