import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { MailMessage } from '../ports';
import { envelopeOfEml, type MailEnvelope } from './eml-envelope';
import type { HubMailer, MailSweepReport } from './hub-mailer';
import { DAY_MS, isExpired, retryDelayMs } from './mail-retry-policy';
import { spoolSweeper, type MailSpool, type SpooledMail } from './mail-spool';
import { renderEml } from './render-eml';

/** The one call of a nodemailer transport used here (an SMTP transport in the hub). */
export interface RawMailTransport {
  sendMail(mail: { envelope: MailEnvelope; raw: Buffer }): Promise<{ rejected?: unknown[] }>;
}

/**
 * The Mailer of a hub with an SMTP server. A message is spooled to the outbox first (so a crash or a
 * refusal loses nothing), handed to SMTP as those exact bytes, and its file is deleted as soon as the
 * server accepted it: a password is on disk only while SMTP has not taken it. A failed message stays
 * spooled; sweep() tries it again with backoff (mail-retry-policy.ts) and deletes it once accepted. One
 * that could not be delivered for retentionMs is reported at error level and deleted.
 *
 * Two back-offs: per message (the server answered with a refusal), and for the server (no answer at
 * all: connection refused, timeout), so an SMTP server that is down is knocked on once per delay, not
 * once per waiting message. A send() from an operator always tries at once.
 */
export function createSmtpMailer(opts: { spool: MailSpool; transport: RawMailTransport; from: string; clock: Clock; retentionMs: number; log: Logger }): HubMailer {
  const { spool, transport, log, clock } = opts;
  /** Failures so far and the earliest next attempt, per spooled id. An id not here is due (e.g. after a restart). */
  const retries = new Map<string, { failures: number; nextAttemptMs: number }>();
  /** Being sent by send() or the sweep: the other must not send it again. */
  const inFlight = new Set<string>();
  /** Accepted by SMTP, but the delete failed: delete, never send again. */
  const undeleted = new Set<string>();
  let serverFailures = 0;
  let serverRetryAtMs = 0;

  async function remove(mail: SpooledMail) {
    try {
      await spool.remove(mail);
      undeleted.delete(mail.id);
    } catch (err) {
      undeleted.add(mail.id);
      log.error({ mailId: mail.id, err: (err as Error).message }, 'mail delivered but its outbox file could not be deleted; the outbox job tries again');
    }
  }

  /** Hands the spooled bytes to SMTP; true when accepted (and the file is then deleted). Caller holds inFlight. */
  async function deliver(mail: SpooledMail, eml: Buffer, envelope: MailEnvelope, retry: boolean): Promise<boolean> {
    let info: { rejected?: unknown[] };
    try {
      info = await transport.sendMail({ envelope, raw: eml });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      const failures = (retries.get(mail.id)?.failures ?? 0) + 1;
      const nowMs = clock.nowMs();
      retries.set(mail.id, { failures, nextAttemptMs: nowMs + retryDelayMs(failures) });
      if (typeof e.responseCode !== 'number') {
        serverFailures++;
        serverRetryAtMs = nowMs + retryDelayMs(serverFailures);
      }
      // The error's message, never the transport's options: the SMTP URL may carry its password.
      log.error({ mailId: mail.id, to: envelope.to, failures, code: e.code, responseCode: e.responseCode, err: e.message, retryInSec: retryDelayMs(failures) / 1000 },
        'SMTP send failed; the message stays in the outbox and is retried');
      return false;
    }
    serverFailures = 0;
    serverRetryAtMs = 0;
    retries.delete(mail.id);
    if (info.rejected?.length) log.warn({ mailId: mail.id, rejected: info.rejected }, 'SMTP accepted the mail for some recipients only');
    await remove(mail);
    if (retry) log.info({ mailId: mail.id, to: envelope.to }, 'mail from the outbox delivered on retry');
    return true;
  }

  /** Runs fn with the id claimed, so send() and the sweep never hand one message to SMTP twice. */
  async function claimed<T>(id: string, fn: () => Promise<T>): Promise<T> {
    inFlight.add(id);
    try { return await fn(); } finally { inFlight.delete(id); }
  }

  async function pass(): Promise<MailSweepReport> {
    const report: MailSweepReport = { delivered: 0, failed: 0, purged: 0, waiting: 0 };
    const spooled = await spool.list();
    const present = new Set(spooled.map((m) => m.id));
    for (const id of retries.keys()) if (!present.has(id)) retries.delete(id);
    for (const id of undeleted) if (!present.has(id)) undeleted.delete(id);
    for (const mail of spooled) {
      if (inFlight.has(mail.id)) { report.waiting++; continue; }
      if (undeleted.has(mail.id)) { await remove(mail); continue; }
      const nowMs = clock.nowMs();
      if (isExpired(mail.spooledAtMs, nowMs, opts.retentionMs)) {
        const envelope = envelopeOfEml(await spool.read(mail).catch(() => Buffer.alloc(0)));
        log.error({ mailId: mail.id, to: envelope?.to, spooledAtMs: mail.spooledAtMs, failures: retries.get(mail.id)?.failures },
          `mail could not be delivered for ${Math.round(opts.retentionMs / DAY_MS)} days; deleted from the outbox (FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS)`);
        await spool.remove(mail);
        retries.delete(mail.id);
        report.purged++;
        continue;
      }
      report.waiting++;
      if ((retries.get(mail.id)?.nextAttemptMs ?? 0) > nowMs || serverRetryAtMs > nowMs) continue;
      let eml: Buffer;
      try { eml = await spool.read(mail); } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') { report.waiting--; continue; } // taken by hand
        throw err;
      }
      const envelope = envelopeOfEml(eml);
      if (!envelope) {
        // Not sendable as it is; it stays for a person until its retention ends. Logged once.
        retries.set(mail.id, { failures: 0, nextAttemptMs: Number.POSITIVE_INFINITY });
        log.error({ mailId: mail.id }, 'outbox file names no sender or recipient; not retried, deleted after the retention period');
        continue;
      }
      if (await claimed(mail.id, () => deliver(mail, eml, envelope, true))) { report.delivered++; report.waiting--; } else report.failed++;
    }
    return report;
  }

  return {
    mode: 'smtp',
    outboxDir: spool.dir,
    async send(message: MailMessage) {
      const eml = await renderEml(message, opts.from);
      const mail = spool.allocate();
      await claimed(mail.id, async () => {
        await spool.write(mail, eml);
        // The envelope read back from the bytes, as a retry will: mailFrom may carry a display name.
        await deliver(mail, eml, envelopeOfEml(eml) ?? { from: opts.from, to: message.to }, false);
      });
      return { id: mail.id };
    },
    ...spoolSweeper(spool, pass),
  };
}
