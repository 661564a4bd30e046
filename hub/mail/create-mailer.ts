import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import type { MailMessage, Mailer } from '../ports';
import { createOutboxMailer, toNodemailer } from './outbox-mailer';

/** Where messages go when there is no SMTP server, or when it refuses them. */
export function outboxDirOf(config: Pick<HubConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'mail-outbox');
}

/**
 * The hub's Mailer: SMTP (nodemailer) when config.smtpUrl is set, else .eml files in
 * <dataDir>/mail-outbox. An SMTP failure does not lose the message: it is written to the outbox and
 * logged once per failure, so a report can still be found and forwarded by hand.
 */
export function createMailer(config: Pick<HubConfig, 'dataDir' | 'smtpUrl' | 'mailFrom'>, log: Logger): Mailer {
  const mailLog = log.child({ module: 'mail' });
  const outbox = createOutboxMailer({ outboxDir: outboxDirOf(config), from: config.mailFrom, log: mailLog });
  if (!config.smtpUrl) return outbox;
  const smtp = nodemailer.createTransport(config.smtpUrl);
  return {
    async send(message: MailMessage) {
      try {
        const info = await smtp.sendMail(toNodemailer(message, config.mailFrom));
        return { id: String(info.messageId) };
      } catch (err) {
        // Never the URL: it may carry the SMTP password.
        mailLog.error({ err: (err as Error).message, to: message.to, subject: message.subject }, 'SMTP send failed; message kept in the outbox');
        return outbox.send(message);
      }
    },
  };
}
