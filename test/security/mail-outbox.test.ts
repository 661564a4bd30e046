/**
 * Issue 9, passwords left in clear in files. The hole: the welcome mail (POST
 * .../access-records/:id/welcome-mail) carries the customer's NetFlow password, and the hub wrote it
 * to <dataDir>/mail-outbox/*.eml with mode 0644 (any local user could read it) and kept it forever;
 * with SMTP the outbox was only a fallback, never retried. Now the outbox folder is 0700 and its files
 * 0600; with SMTP a message is spooled, handed over, and deleted as soon as the server accepted it (a
 * failed one is retried with backoff, then deleted); without SMTP a file is deleted after
 * FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS.
 *
 * Against the real hub (test/hub/spine/hub-harness.ts with every module, LevelDB in the data folder)
 * and a real SMTP server (smtp-server on 127.0.0.1). The outbox job is run by hand (its timer is
 * tested in test/hub/mail/mailer.test.ts); time moves on the hub's manual clock.
 */
import t, { type Test } from 'tap';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { createHubModules } from '../../hub/hub-modules';
import { outboxDirOf } from '../../hub/mail/create-mailer';
import type { createMailModule } from '../../hub/mail/mail-module';
import { retryDelayMs } from '../../hub/mail/mail-retry-policy';
import { startTestHub } from '../hub/spine/hub-harness';
import { captureAllLogs, startSmtpTestServer } from '../hub/mail/smtp-test-server';

const OP = 'isp1';
const PW = 'alice-netflow-pw-1';
const SMTP_PW = 'smtp-relay-pw-42';
const DAY_MS = 86_400_000;
type MailModule = ReturnType<typeof createMailModule>;

const mode = async (p: string) => (await stat(p)).mode & 0o777;

/** Every file under dir, recursively (LevelDB's tables and log included). */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

/** Whether the bytes hold the password as written, or inside quoted-printable soft line breaks. */
const holds = (bytes: Buffer, secret: string) => bytes.includes(secret) || bytes.toString('latin1').replace(/=\r?\n/g, '').includes(secret);

/** The files under dataDir that hold the password in clear. */
async function filesHolding(dataDir: string, secret: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await allFiles(dataDir)) if (holds(await readFile(f), secret)) hits.push(path.relative(dataDir, f));
  return hits;
}

/** A real hub (every module) on LevelDB in a fresh data folder, with an operator and a customer with a NetFlow password. */
async function mailHub(t: Test, opts: { dataDir?: string; smtpUrl?: string; seed?: boolean } = {}) {
  const dataDir = opts.dataDir ?? await mkdtemp(path.join(os.tmpdir(), 'flowbill-mail-'));
  if (!opts.dataDir) t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const kv = await openLevelKvStore(path.join(dataDir, 'db'));
  const captured = captureAllLogs();
  let mail: MailModule | undefined;
  const h = await startTestHub({
    kv, log: captured.log,
    modules: (ctx) => {
      const composed = createHubModules(ctx);
      mail = composed.mail;
      return composed;
    },
    config: { dataDir, smtpUrl: opts.smtpUrl, mailOutboxRetentionDays: 7 },
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await h.close();
    await kv.close();
  };
  t.teardown(close);
  const ok = async (method: string, route: string, body?: unknown) => {
    const res = await h.admin(method, `/api/v1${route}`, body);
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  let recordId = '';
  if (opts.seed !== false) {
    await ok('POST', '/operators', { operatorId: OP, name: 'ISP One' });
    await ok('POST', `/operators/${OP}/clients`, { clientId: 'alice', name: 'Alice Ltd', email: 'alice@customer.example' });
    await ok('POST', `/operators/${OP}/services`, { serviceId: 'vps-alice', clientId: 'alice', type: 'vps', label: 'VPS Small' });
    recordId = (await ok('POST', `/operators/${OP}/access-records`, { serviceId: 'vps-alice', username: 'alice', password: PW, group: { kind: 'ip_group', value: 'alice' } })).record.recordId;
  }
  const welcome = () => h.admin('POST', `/api/v1/operators/${OP}/access-records/${recordId}/welcome-mail`, {});
  return { ...h, ...captured, mail: mail!, dataDir, outbox: outboxDirOf({ dataDir }), close, welcome };
}

t.test('no SMTP: the welcome mail\'s .eml is 0600 in a 0700 folder, and deleted after the retention period', async (t) => {
  const h = await mailHub(t);
  const res = await h.welcome();
  t.equal(res.status, 200);
  const files = await readdir(h.outbox);
  t.equal(files.length, 1, 'the outbox is the delivery: one .eml');
  const eml = path.join(h.outbox, files[0]!);
  t.ok(holds(await readFile(eml), PW), 'control: the file holds the password (so the grep below would see it)');
  t.equal(await mode(eml), 0o600, 'readable by the hub\'s user only');
  t.equal(await mode(h.outbox), 0o700);

  h.clock.advanceMs(7 * DAY_MS - 1);
  t.equal((await h.mail.sweepOutbox()).purged, 0, 'kept for a person to pick up within the retention');
  h.clock.advanceMs(1);
  t.equal((await h.mail.sweepOutbox()).purged, 1);
  t.same(await readdir(h.outbox), []);
  await h.close();
  t.same(await filesHolding(h.dataDir, PW), [], 'no file under the data folder holds the password');
  t.notOk(h.lines.some((l) => l.includes(PW)), 'nor does any log line');
});

t.test('an outbox left by an older hub (0755 folder, 0644 files) is tightened at start, and says how many mails wait', async (t) => {
  const first = await mailHub(t);
  await first.welcome();
  await first.close();
  const [name] = await readdir(first.outbox);
  await chmod(first.outbox, 0o755);
  await chmod(path.join(first.outbox, name!), 0o644);

  const again = await mailHub(t, { dataDir: first.dataDir, seed: false });
  t.equal(await mode(again.outbox), 0o700);
  t.equal(await mode(path.join(again.outbox, name!)), 0o600);
  t.ok(again.lines.some((l) => /1 mail\(s\) waiting in the outbox to be picked up; each is deleted 7 days after/.test(l)), 'the start says what waits');
});

t.test('SMTP: the customer receives the password; no file under the data folder keeps it; logs hold neither it nor the SMTP URL', async (t) => {
  const smtp = await startSmtpTestServer({ user: 'hub', password: SMTP_PW });
  t.teardown(() => smtp.stop());
  const h = await mailHub(t, { smtpUrl: smtp.url() });
  const res = await h.welcome();
  t.equal(res.status, 200);
  t.equal(smtp.received.length, 1);
  t.same(smtp.received[0]!.to, ['alice@customer.example']);
  t.ok(holds(Buffer.from(smtp.received[0]!.raw), PW), 'the mail carries the password to the customer');
  t.same(await readdir(h.outbox), [], 'the spooled copy is gone once SMTP accepted it');
  await h.close();
  t.same(await filesHolding(h.dataDir, PW), [], 'no file under the data folder (LevelDB included) holds the password');
  t.notOk(h.lines.some((l) => l.includes(PW) || l.includes(SMTP_PW)), 'no log line holds the password or the SMTP URL');
});

t.test('SMTP down: the mail is spooled 0600, retried with backoff, delivered when the server is back, then deleted', async (t) => {
  const smtp = await startSmtpTestServer();
  t.teardown(() => smtp.stop());
  const url = smtp.url();
  await smtp.stop();
  const h = await mailHub(t, { smtpUrl: url });
  t.equal((await h.welcome()).status, 200, 'the operator\'s request does not fail: the mail is queued');
  const [name, ...more] = await readdir(h.outbox);
  t.same(more, []);
  t.equal(await mode(path.join(h.outbox, name!)), 0o600, 'spooled for the hub\'s user only');
  t.equal(await mode(h.outbox), 0o700);
  t.ok(h.lines.some((l) => l.startsWith('error') && /SMTP send failed/.test(l)), 'the failure is reported');

  h.clock.advanceMs(retryDelayMs(1));
  t.match(await h.mail.sweepOutbox(), { delivered: 0, failed: 1, waiting: 1 }, 'still down: retried, kept');
  await smtp.start();
  h.clock.advanceMs(retryDelayMs(2) - 1);
  t.match(await h.mail.sweepOutbox(), { delivered: 0, failed: 0, waiting: 1 }, 'not before its backoff');
  h.clock.advanceMs(1);
  t.match(await h.mail.sweepOutbox(), { delivered: 1, failed: 0, waiting: 0 });
  t.equal(smtp.received.length, 1);
  t.ok(holds(Buffer.from(smtp.received[0]!.raw), PW));
  t.same(await readdir(h.outbox), [], 'deleted after delivery');
  t.match(await h.mail.sweepOutbox(), { delivered: 0, waiting: 0 });
  t.equal(smtp.received.length, 1, 'delivered once');
  await h.close();
  t.same(await filesHolding(h.dataDir, PW), []);
});
