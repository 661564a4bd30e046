import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { silentLogger } from '../../../common/logger';
import { createMailer, outboxDirOf } from '../../../hub/mail/create-mailer';

t.test('with no SMTP configured, a message with an attachment is written to the outbox as an .eml file', async (t) => {
  const dataDir = t.testdir({});
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example' }, silentLogger);
  const pdf = Buffer.from('%PDF-1.3 fake report');
  const { id } = await mailer.send({
    to: ['noc@customer.example', 'acct@customer.example'], subject: 'Bill 7', text: 'Your bill is attached.',
    attachments: [{ filename: 'bill-7.pdf', content: pdf, contentType: 'application/pdf' }],
  });
  const files = await readdir(outboxDirOf({ dataDir }));
  t.same(files, [`${id}.eml`], 'one finished file, no temporary left behind');
  const eml = await readFile(path.join(outboxDirOf({ dataDir }), files[0]!), 'utf8');
  t.match(eml, /^From: billing@isp\.example\r\n/m);
  t.match(eml, /^To: noc@customer\.example, acct@customer\.example\r\n/m);
  t.match(eml, /^Subject: Bill 7\r\n/m);
  t.match(eml, /Your bill is attached\./);
  t.match(eml, /filename=bill-7\.pdf/);
  t.match(eml, new RegExp(pdf.toString('base64')), 'attachment body is in the file');
});

t.test('an SMTP server that refuses the message does not lose it: it lands in the outbox', async (t) => {
  // A "server" that closes every connection at once.
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const dataDir = t.testdir({});
  const mailer = createMailer({ dataDir, smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: 'billing@isp.example' }, silentLogger);
  await mailer.send({ to: ['a@b.example'], subject: 'kept', text: 'x' });
  const files = await readdir(outboxDirOf({ dataDir }));
  t.equal(files.length, 1);
});
