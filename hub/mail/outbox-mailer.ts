import { mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../common/logger';
import type { MailMessage, Mailer } from '../ports';

/**
 * A Mailer that writes each message as an RFC 5322 .eml file (MIME, attachments included) into a
 * folder, for hubs with no SMTP server: nothing is lost, and a person can open the files in any mail
 * client. nodemailer's streamTransport builds the exact bytes an SMTP server would have received.
 * Files are written to a temporary name and renamed, so a reader never sees half a message.
 */
export function createOutboxMailer(opts: { outboxDir: string; from: string; log: Logger }): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let dirReady: Promise<unknown> | undefined;
  return {
    async send(message: MailMessage) {
      dirReady ??= mkdir(opts.outboxDir, { recursive: true });
      await dirReady;
      const info = await transport.sendMail(toNodemailer(message, opts.from));
      const id = `${Date.now()}-${randomBytes(6).toString('hex')}`;
      const file = path.join(opts.outboxDir, `${id}.eml`);
      await writeFile(`${file}.tmp`, info.message as Buffer);
      await rename(`${file}.tmp`, file);
      opts.log.info({ file, to: message.to, subject: message.subject }, 'mail written to outbox (no SMTP configured)');
      return { id };
    },
  };
}

export function toNodemailer(message: MailMessage, from: string) {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    attachments: (message.attachments ?? []).map((a) => ({ filename: a.filename, content: Buffer.from(a.content), contentType: a.contentType })),
  };
}
