import nodemailer from 'nodemailer';
import type { MailMessage } from '../ports';

// streamTransport builds the exact bytes an SMTP server would receive (MIME, attachments, Message-ID).
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

/** The message as an RFC 5322 .eml (CRLF line ends): what is spooled, and what SMTP is handed as `raw`. */
export async function renderEml(message: MailMessage, from: string): Promise<Buffer> {
  const info = await composer.sendMail(toNodemailer(message, from));
  return info.message as Buffer;
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
