import addressparser from 'nodemailer/lib/addressparser';

/** The SMTP envelope of a spooled message: MAIL FROM and RCPT TO. */
export type MailEnvelope = {
  from: string;
  to: string[];
};

/**
 * Reads the envelope back from a spooled .eml's header (From; To and Cc), so a retry after a restart
 * needs nothing but the file. Header lines are unfolded first (RFC 5322 §2.2.3); addresses are parsed
 * by nodemailer's own addressparser, the one that wrote them. The body is never looked at.
 * Returns undefined when the header names no sender or no recipient.
 */
export function envelopeOfEml(eml: Buffer): MailEnvelope | undefined {
  const text = eml.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const header = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const field = (name: string) => header.split(/\r?\n/)
    .filter((line) => line.slice(0, name.length + 1).toLowerCase() === `${name.toLowerCase()}:`)
    .map((line) => line.slice(name.length + 1).trim());
  const addresses = (values: string[]) => values.flatMap((v) => addressparser(v, { flatten: true }).map((a) => a.address).filter(Boolean));
  const from = addresses(field('From'))[0];
  const to = addresses([...field('To'), ...field('Cc')]);
  if (!from || to.length === 0) return undefined;
  return { from, to };
}
