import t from 'tap';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { createManualTimers } from '../../../common/ticker';
import { createMailer, outboxDirOf } from '../../../hub/mail/create-mailer';
import { envelopeOfEml } from '../../../hub/mail/eml-envelope';
import { createMailModule, MAIL_SWEEP_INTERVAL_MS } from '../../../hub/mail/mail-module';
import { retryDelayMs } from '../../../hub/mail/mail-retry-policy';
import { captureAllLogs, startSmtpTestServer } from './smtp-test-server';

const T0 = Date.UTC(2026, 10, 3, 12);
const DAY_MS = 86_400_000;
const mode = async (p: string) => (await stat(p)).mode & 0o777;
const outboxFiles = async (dataDir: string) => (await readdir(outboxDirOf({ dataDir })).catch(() => [] as string[])).sort();

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

t.test('the outbox is the hub user\'s only: folder 0700, files 0600, even with umask 000', async (t) => {
  const dataDir = t.testdir({});
  const old = process.umask(0);
  t.teardown(() => { process.umask(old); });
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example' }, silentLogger);
  const { id } = await mailer.send({ to: ['a@b.example'], subject: 's', text: 'secret' });
  t.equal(await mode(outboxDirOf({ dataDir })), 0o700);
  t.equal(await mode(path.join(outboxDirOf({ dataDir }), `${id}.eml`)), 0o600);
});

t.test('prepare() tightens what an older hub left (0755 folder, 0644 files), drops torn temporaries, leaves foreign files', async (t) => {
  const dataDir = t.testdir({});
  const dir = outboxDirOf({ dataDir });
  await mkdir(dir, { mode: 0o755 });
  await chmod(dir, 0o755);
  const old = path.join(dir, `${T0}-0123456789ab.eml`);
  await writeFile(old, 'From: a@b.example\r\nTo: c@d.example\r\n\r\nPassword: x\r\n', { mode: 0o644 });
  await chmod(old, 0o644);
  await writeFile(path.join(dir, `${T0}-ba9876543210.eml.tmp`), 'half a mess');
  await writeFile(path.join(dir, 'README.txt'), 'not ours');
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example' }, silentLogger, { clock: createManualClock(T0) });
  t.same(await mailer.prepare(), { waiting: 1 });
  t.equal(await mode(dir), 0o700);
  t.equal(await mode(old), 0o600);
  t.same(await outboxFiles(dataDir), [`${T0}-0123456789ab.eml`, 'README.txt'].sort());
});

t.test('a hub that never sends mail makes no outbox folder', async (t) => {
  const dataDir = t.testdir({});
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example' }, silentLogger);
  t.same(await mailer.prepare(), { waiting: 0 });
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 0, waiting: 0 });
  t.same(await readdir(dataDir), []);
});

t.test('no SMTP: the outbox is the delivery; a file is deleted once it is older than the retention (by the clock)', async (t) => {
  const dataDir = t.testdir({});
  const clock = createManualClock(T0);
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example', mailOutboxRetentionDays: 7 }, silentLogger, { clock });
  await mailer.send({ to: ['a@b.example'], subject: 'old', text: 'x' });
  clock.advanceMs(3 * DAY_MS);
  const { id: young } = await mailer.send({ to: ['a@b.example'], subject: 'young', text: 'y' });
  clock.advanceMs(4 * DAY_MS - 1);
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 0, waiting: 2 }, 'a millisecond before: both kept');
  clock.advanceMs(1);
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 1, waiting: 1 });
  t.same(await outboxFiles(dataDir), [`${young}.eml`]);
});

t.test('SMTP: the message is spooled, handed over as those bytes, and its file deleted once accepted', async (t) => {
  const smtp = await startSmtpTestServer({ user: 'hub', password: 'smtp-pass-Q7' });
  t.teardown(() => smtp.stop());
  const dataDir = t.testdir({});
  const { log, lines } = captureAllLogs();
  const mailer = createMailer({ dataDir, smtpUrl: smtp.url(), mailFrom: 'Billing <billing@isp.example>' }, log, { clock: createManualClock(T0) });
  t.equal(mailer.mode, 'smtp');
  const { id } = await mailer.send({ to: ['noc@customer.example'], subject: 'Welcome', text: 'Password: cust-secret-9' });
  t.equal(smtp.received.length, 1);
  t.same(smtp.received[0]!.to, ['noc@customer.example']);
  t.equal(smtp.received[0]!.from, 'billing@isp.example', 'envelope sender is the address, not the display name');
  t.match(smtp.received[0]!.raw, /Password: cust-secret-9/);
  t.match(id, /^\d+-[0-9a-f]{12}$/);
  t.same(await outboxFiles(dataDir), [], 'nothing left on disk');
  t.notOk(lines.some((l) => /cust-secret-9|smtp-pass-Q7/.test(l)), 'neither the body nor the SMTP URL is logged');
});

t.test('an SMTP server that refuses the connection does not lose the message: it stays in the outbox, 0600', async (t) => {
  // A "server" that closes every connection at once.
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const dataDir = t.testdir({});
  const { log, lines } = captureAllLogs();
  const mailer = createMailer({ dataDir, smtpUrl: `smtp://hub:smtp-pass-Q7@127.0.0.1:${port}`, mailFrom: 'billing@isp.example' }, log);
  await mailer.send({ to: ['a@b.example'], subject: 'kept', text: 'body-words-77' });
  const files = await outboxFiles(dataDir);
  t.equal(files.length, 1);
  t.equal(await mode(path.join(outboxDirOf({ dataDir }), files[0]!)), 0o600);
  t.ok(lines.some((l) => /SMTP send failed/.test(l)), 'the failure is logged');
  t.notOk(lines.some((l) => /smtp-pass-Q7|body-words-77/.test(l)), 'without the SMTP URL or the body');
});

t.test('SMTP down: spooled, retried with backoff by sweep(), delivered once when it is back, then deleted', async (t) => {
  const smtp = await startSmtpTestServer();
  t.teardown(() => smtp.stop());
  const url = smtp.url();
  await smtp.stop();
  const dataDir = t.testdir({});
  const clock = createManualClock(T0);
  const mailer = createMailer({ dataDir, smtpUrl: url, mailFrom: 'billing@isp.example' }, silentLogger, { clock });
  await mailer.send({ to: ['a@b.example'], subject: 'one', text: 'first' });
  await mailer.send({ to: ['c@d.example'], subject: 'two', text: 'second' });
  t.equal((await outboxFiles(dataDir)).length, 2);

  clock.advanceMs(retryDelayMs(2) - 1);
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 0, waiting: 2 }, 'the server is not knocked on before its backoff ends');
  clock.advanceMs(1);
  t.same(await mailer.sweep(), { delivered: 0, failed: 1, purged: 0, waiting: 2 }, 'one connection attempt per pass while the server is down');

  await smtp.start();
  clock.advanceMs(retryDelayMs(3));
  t.same(await mailer.sweep(), { delivered: 2, failed: 0, purged: 0, waiting: 0 });
  t.same(smtp.received.map((m) => m.to[0]).sort(), ['a@b.example', 'c@d.example'], 'each delivered exactly once');
  t.same(await outboxFiles(dataDir), []);
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 0, waiting: 0 });
  t.equal(smtp.received.length, 2);
});

t.test('SMTP refuses one message: its own backoff doubles; after the retention it is reported and deleted', async (t) => {
  const smtp = await startSmtpTestServer();
  t.teardown(() => smtp.stop());
  smtp.refuseWith(451);
  const dataDir = t.testdir({});
  const clock = createManualClock(T0);
  const { log, lines } = captureAllLogs();
  const mailer = createMailer({ dataDir, smtpUrl: smtp.url(), mailFrom: 'billing@isp.example', mailOutboxRetentionDays: 2 }, log, { clock });
  await mailer.send({ to: ['a@b.example'], subject: 's', text: 'x' });
  clock.advanceMs(retryDelayMs(1));
  t.equal((await mailer.sweep()).failed, 1, 'second attempt after 1 min');
  clock.advanceMs(retryDelayMs(2) - 1);
  t.equal((await mailer.sweep()).failed, 0, 'third not before 2 more min');
  clock.advanceMs(1);
  t.equal((await mailer.sweep()).failed, 1);
  clock.setMs(T0 + 2 * DAY_MS);
  t.same(await mailer.sweep(), { delivered: 0, failed: 0, purged: 1, waiting: 0 });
  t.same(await outboxFiles(dataDir), []);
  t.ok(lines.some((l) => l.startsWith('error') && /could not be delivered for 2 days/.test(l) && /a@b\.example/.test(l)), 'reported with its recipients');
  t.equal(smtp.received.length, 0);
});

t.test('a restarted hub sends what the last one left in the outbox', async (t) => {
  const smtp = await startSmtpTestServer();
  t.teardown(() => smtp.stop());
  const dataDir = t.testdir({});
  const clock = createManualClock(T0);
  const down = createMailer({ dataDir, smtpUrl: 'smtp://127.0.0.1:1', mailFrom: 'billing@isp.example' }, silentLogger, { clock });
  await down.send({ to: ['a@b.example', 'Bob <b@c.example>'], subject: 'left', text: 'from before' });
  const next = createMailer({ dataDir, smtpUrl: smtp.url(), mailFrom: 'billing@isp.example' }, silentLogger, { clock });
  t.same(await next.prepare(), { waiting: 1 });
  t.equal((await next.sweep()).delivered, 1, 'due at once: the new process knows no backoff for it');
  t.same(smtp.received[0]!.to, ['a@b.example', 'b@c.example']);
  t.match(smtp.received[0]!.raw, /from before/);
  t.same(await outboxFiles(dataDir), []);
});

t.test('the mail module: logs what waits at start, runs the outbox job on its (injected) timer, stops it', async (t) => {
  const dataDir = t.testdir({});
  const clock = createManualClock(T0);
  const timers = createManualTimers();
  const { log, lines } = captureAllLogs();
  const config = { dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example', mailOutboxRetentionDays: 1 };
  const first = createMailModule({ config, clock, log: silentLogger, startJobs: false });
  await first.mailer.send({ to: ['a@b.example'], subject: 's', text: 'x' });
  const mail = createMailModule({ config, clock, log, startJobs: true, timers });
  await mail.start();
  t.ok(lines.some((l) => /1 mail\(s\) waiting in the outbox to be picked up/.test(l)));
  t.equal(timers.active(), 1);
  await mail.mailer.idle(); // the first pass, run at start
  t.equal((await outboxFiles(dataDir)).length, 1, 'still young at start');
  clock.advanceMs(DAY_MS);
  await timers.tick(MAIL_SWEEP_INTERVAL_MS);
  await mail.mailer.idle();
  t.same(await outboxFiles(dataDir), [], 'the timer ran the job');
  await mail.stop();
  t.equal(timers.active(), 0);
});

t.test('envelopeOfEml reads folded From/To/Cc headers, never the body', async (t) => {
  const eml = Buffer.from('From: "Billing" <billing@isp.example>\r\nTo: a@b.example,\r\n "Bob, Jr." <bob@c.example>\r\nCc: d@e.example\r\nSubject: x\r\n\r\nTo: evil@x.example\r\n');
  t.same(envelopeOfEml(eml), { from: 'billing@isp.example', to: ['a@b.example', 'bob@c.example', 'd@e.example'] });
  t.equal(envelopeOfEml(Buffer.from('Subject: none\r\n\r\n')), undefined);
});
