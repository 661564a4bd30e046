import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { MailMessage } from '../ports';
import type { HubMailer, MailSweepReport } from './hub-mailer';
import { isExpired } from './mail-retry-policy';
import { spoolSweeper, type MailSpool } from './mail-spool';
import { renderEml } from './render-eml';

/**
 * The Mailer of a hub with no SMTP server: each message is an .eml file in the outbox folder, which a
 * person opens in any mail client or forwards. The folder is the delivery, so nothing is retried; but
 * a welcome mail carries a customer's password, so a file is deleted retentionMs after it was written
 * (sweep) instead of being kept forever.
 */
export function createOutboxMailer(opts: { spool: MailSpool; from: string; clock: Clock; retentionMs: number; log: Logger }): HubMailer {
  const { spool, log } = opts;

  async function pass(): Promise<MailSweepReport> {
    const nowMs = opts.clock.nowMs();
    let purged = 0;
    let waiting = 0;
    for (const mail of await spool.list()) {
      if (!isExpired(mail.spooledAtMs, nowMs, opts.retentionMs)) { waiting++; continue; }
      await spool.remove(mail);
      purged++;
    }
    if (purged > 0) log.info({ purged, waiting, outboxDir: spool.dir }, 'outbox mails past their retention deleted (FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS)');
    return { delivered: 0, failed: 0, purged, waiting };
  }

  return {
    mode: 'outbox',
    outboxDir: spool.dir,
    async send(message: MailMessage) {
      const mail = spool.allocate();
      await spool.write(mail, await renderEml(message, opts.from));
      // Recipients and id only: the subject and body are the operator's templates and may hold a password.
      log.info({ mailId: mail.id, to: message.to }, 'mail written to the outbox (no SMTP configured)');
      return { id: mail.id };
    },
    ...spoolSweeper(spool, pass),
  };
}
