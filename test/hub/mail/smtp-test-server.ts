import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../../../common/logger';

export interface ReceivedMail { from: string; to: string[]; raw: string }

/**
 * A real SMTP peer (smtp-server, from the nodemailer project) on 127.0.0.1: plain SMTP, no STARTTLS,
 * optional AUTH PLAIN/LOGIN with one user. stop() and start() again on the same port play "the mail
 * server is down, then back". refuseWith(code) makes it answer DATA with that code (451, 550…).
 */
export async function startSmtpTestServer(opts: { user?: string; password?: string } = {}) {
  const received: ReceivedMail[] = [];
  let refusal: number | undefined;
  let server: SMTPServer | undefined;
  let port = 0;

  async function start() {
    server = new SMTPServer({
      secure: false,
      disabledCommands: opts.user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !opts.user,
      allowInsecureAuth: true,
      logger: false,
      closeTimeout: 100,
      onAuth(auth, _session, cb) {
        if (auth.username === opts.user && auth.password === opts.password) cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (refusal !== undefined) {
            cb(Object.assign(new Error('refused by the test server'), { responseCode: refusal }));
            return;
          }
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => { s.off('error', reject); resolve(); });
    });
    port = (s.server.address() as AddressInfo).port;
  }

  await start();
  return {
    received,
    get port() { return port; },
    url(): string { return opts.user ? `smtp://${opts.user}:${opts.password}@127.0.0.1:${port}` : `smtp://127.0.0.1:${port}`; },
    refuseWith(code: number | undefined) { refusal = code; },
    start,
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

/** A Logger keeping every line at every level, serialised, to prove what is (not) logged. */
export function captureAllLogs() {
  const lines: string[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))}`);
  };
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child() { return log; } };
  return { log, lines };
}
