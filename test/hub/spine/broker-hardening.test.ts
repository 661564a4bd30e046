// Issue 8 (hostile input) against the REAL embedded broker over TCP on 127.0.0.1. Raw sockets with
// hand-built MQTT 3.1.1 packets where mqtt.js cannot produce the attack.
import t, { type Test } from 'tap';
import net from 'node:net';
import mqtt from 'mqtt';
import { silentLogger, type Logger } from '../../../common/logger';
import type { HubConfig } from '../../../hub/config';
import { ackCodec, AckStatus } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { grantedQos, nextMessage, startTestHub, waitForClose } from './hub-harness';

const NOW_MS = Date.UTC(2026, 10, 3, 12);
const BUCKET = NOW_MS / 1000 - 3600;

function captureLog() {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const log: Logger = { ...silentLogger, warn: (obj, msg) => { warnings.push({ obj: obj as Record<string, unknown>, msg: String(msg) }); }, child: () => log };
  return { log, warnings, count: (re: RegExp) => warnings.filter((w) => re.test(w.msg)).length };
}

async function setup(t: Test, opts: { config?: Partial<HubConfig> } = {}) {
  const cap = captureLog();
  const h = await startTestHub({ nowMs: NOW_MS, config: opts.config, log: cap.log });
  t.teardown(() => h.close());
  for (const id of ['isp1', 'isp2']) await h.admin('POST', '/api/v1/operators', { operatorId: id, name: id });
  const a = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-a' })).body;
  const b = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-b' })).body;
  const consumer = (await h.admin('POST', '/api/v1/operators/isp1/consumers', { name: 'export' })).body;
  const { port } = new URL(h.mqttUrl);
  const counters = async () => (await h.admin('GET', '/api/v1/hub/counters')).body.counters.broker as Record<string, number>;
  return { h, a, b, consumer, port: Number(port), counters, ...cap };
}

// ---- hand-built MQTT 3.1.1 packets ----
const vbi = (n: number) => { const out: number[] = []; do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b); } while (n > 0); return Buffer.from(out); };
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const mqttString = (s: string) => { const b = Buffer.from(s); return Buffer.concat([u16(b.length), b]); };
function connectPacket(o: { clientId: string; username?: string; password?: string }): Buffer {
  const flags = 0x02 | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    mqttString('MQTT'), Buffer.from([4, flags]), u16(30), mqttString(o.clientId),
    o.username !== undefined ? mqttString(o.username) : Buffer.alloc(0), o.password !== undefined ? mqttString(o.password) : Buffer.alloc(0),
  ]);
  return Buffer.concat([Buffer.from([0x10]), vbi(body.length), body]);
}

function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}
/** Sends a CONNECT and resolves with the CONNACK return code, or 'closed'. */
async function rawConnect(port: number, o: { clientId: string; username?: string; password?: string }): Promise<number | 'closed'> {
  const s = await openSocket(port);
  s.on('error', () => {});
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 4) { resolve(buf[0] === 0x20 ? buf[3] : -1); s.destroy(); } });
    s.once('close', () => resolve('closed'));
    s.write(connectPacket(o));
  });
}

t.test('a CONNECT announcing 200 MB is refused from its header: RSS does not grow, the hub keeps serving', async (t) => {
  const { h, a, port, counters, warnings, count } = await setup(t);
  const announced = 200 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 0x41);
  const rssBefore = process.memoryUsage().rss;
  const attacks = [];
  for (let i = 0; i < 2; i++) {
    attacks.push((async () => {
      const s = await openSocket(port);
      s.on('error', () => {});
      let sentBytes = 0;
      const closed = closedWithin(s, 10_000);
      s.write(Buffer.concat([Buffer.from([0x10]), vbi(announced)]));
      // Keep streaming the announced body (as the reproduction did) until the hub closes the socket.
      while (!s.destroyed && sentBytes < announced) {
        const ok = s.write(chunk);
        sentBytes += chunk.length;
        if (!ok) await new Promise<void>((r) => { const done = () => r(); s.once('drain', done); s.once('close', done); });
      }
      t.ok(await closed, 'the hub closed the socket');
      return sentBytes;
    })());
  }
  const sent = await Promise.all(attacks);
  const rssAfter = process.memoryUsage().rss;
  const growthMb = (rssAfter - rssBefore) / 1048576;
  t.comment(`RSS before ${(rssBefore / 1048576).toFixed(1)} MB, after 2 x 200 MB CONNECT announcements ${(rssAfter / 1048576).toFixed(1)} MB (+${growthMb.toFixed(1)} MB); client managed to send ${sent.map((b) => (b / 1048576).toFixed(0)).join(' and ')} MB before being cut off`);
  t.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB, not by the announced 2 x 200 MB`);
  const c = await counters();
  t.equal(c.connectPacketsTooLarge, 2);
  t.equal(count(/packet larger than the limit/), 1, 'logged once for the address');
  t.match(warnings.find((w) => /larger than the limit/.test(w.msg))?.obj, { announcedBytes: announced, limitBytes: 64 * 1024, authenticated: false });

  // The hub still serves edges: connect, publish, get the STORED ack.
  const edge = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId);
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  await edge.subscribeAsync(`${base}/ack`, { qos: 1 });
  const ack = nextMessage(edge, `${base}/ack`);
  await edge.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, [makeSummary('ipg:x', BUCKET, 7)]))), { qos: 1 });
  t.equal(ackCodec.decode(await ack).status, AckStatus.STORED);
});

t.test('after authentication, a packet above mqttMaxPacketBytes closes the connection; one below it passes', async (t) => {
  const { h, a, counters, count } = await setup(t, { config: { mqttMaxPacketBytes: 256 * 1024 } });
  const edge = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId);
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  await edge.subscribeAsync(`${base}/ack`, { qos: 1 });
  const summaries = Array.from({ length: 2000 }, (_, i) => makeSummary(`ipg:g${i}`, BUCKET, 1));
  const payload = Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, summaries)));
  t.ok(payload.length < 256 * 1024, `a 2,000-summary batch is ${payload.length} bytes`);
  const ack = nextMessage(edge, `${base}/ack`);
  await edge.publishAsync(`${base}/summaries`, payload, { qos: 1 });
  t.equal(ackCodec.decode(await ack).status, AckStatus.STORED);
  const closed = waitForClose(edge);
  edge.publish(`${base}/live`, Buffer.alloc(300 * 1024), { qos: 0 });
  await closed;
  t.equal((await counters()).packetsTooLarge, 1);
  t.equal(count(/packet larger than the limit/), 1);
});

t.test('a socket that sends nothing, or never completes its CONNECT, is closed after mqttConnectTimeoutMs', async (t) => {
  const { h, a, port, counters, count } = await setup(t, { config: { mqttConnectTimeoutMs: 1500 } });
  const silent = await openSocket(port);
  const partial = await openSocket(port);
  for (const s of [silent, partial]) s.on('error', () => {});
  partial.write(connectPacket({ clientId: 'x', username: 'nobody', password: 'y' }).subarray(0, 9)); // slow-loris
  const started = Date.now();
  t.same(await Promise.all([closedWithin(silent, 10_000), closedWithin(partial, 10_000)]), [true, true]);
  const elapsedMs = Date.now() - started;
  t.ok(elapsedMs >= 1000 && elapsedMs < 8000, `closed after ${elapsedMs} ms`);
  t.equal((await counters()).connectTimeouts, 2);
  t.equal(count(/no successful CONNECT in time/), 1, 'one line for the address');
  const edge = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId);
  t.ok(edge.connected, 'a client that authenticates in time is not affected');
  await new Promise((r) => setTimeout(r, 2000));
  t.ok(edge.connected, 'and the deadline does not apply once authenticated');
});

t.test('client ids are bound to credentials: a consumer cannot squat an offline edge id', async (t) => {
  const { h, a, b, consumer, port, counters, count } = await setup(t);
  const c = consumer.credentials;
  const bAgentId = `flowbill-edge-isp1-${b.edge.edgeId}`;
  // Edge B is offline. The consumer tries its ids: the agent's, the bare edgeId, and a prefixed one.
  for (const clientId of [bAgentId, b.edge.edgeId, `${b.edge.edgeId}-x`]) {
    t.equal(await rawConnect(port, { clientId, username: c.username, password: c.password }), 2, `consumer as ${clientId}: CONNACK 0x02`);
  }
  await t.rejects(h.connect(a.credentials.username, a.credentials.password, bAgentId), /Identifier rejected/i, 'edge A cannot take B\'s id either');
  await t.rejects(h.connect(c.username, c.password, 'mqttjs_1a2b3c4d'), /Identifier rejected/i, 'an id not prefixed by the username');
  await t.rejects(h.connect(a.credentials.username, a.credentials.password, 'flowbill-hub'), /Identifier rejected/i, "the hub's id");
  // B connects with the id the edge agent uses, and stays connected.
  const edgeB = await h.connect(b.credentials.username, b.credentials.password, bAgentId);
  t.ok(edgeB.connected);
  const cons = await h.connect(c.username, c.password, `${c.username}-node-red`);
  t.ok(cons.connected, 'a consumer with <username>-<suffix>');
  t.equal(await rawConnect(port, { clientId: '', username: c.username, password: c.password }), 0, 'a zero-length id (server-assigned) is fine');
  t.equal((await counters()).clientIdsRejected, 6);
  t.ok(count(/client id refused/) >= 1 && count(/client id refused/) <= 3, 'one line per identity per minute');
  t.ok(edgeB.connected, 'B was never knocked off');
});

t.test('wrong passwords lock the username and the address; a known-good pair still connects; the lock expires', async (t) => {
  const { h, a, b, consumer, port, counters, count, warnings } = await setup(t);
  const edgeA = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId); // A@127.0.0.1 is known-good
  edgeA.end(true);
  // 200 wrong passwords for B (the reproduction): 10 are checked, 190 refused while locked.
  const started = Date.now();
  const codes: (number | 'closed')[] = [];
  for (let i = 0; i < 200; i++) codes.push(await rawConnect(port, { clientId: b.edge.edgeId, username: b.credentials.username, password: `wrong-${i}` }));
  t.comment(`200 wrong passwords answered in ${Date.now() - started} ms`);
  t.same(codes.slice(0, 10), new Array(10).fill(4), 'bad username or password');
  t.same(codes.slice(10), new Array(190).fill(5), 'then not authorized (locked), without checking the password');
  let c = await counters();
  t.match(c, { authFailures: 10, authLockouts: 2, authRefusedLocked: 190, lockedNow: 2 });
  t.equal(count(/locked after repeated failures/), 2, 'one line per lock: the username and the address');
  t.match(warnings.filter((w) => /locked after/.test(w.msg)).map((w) => w.obj.scope).sort(), ['address', 'username']);
  t.equal(count(/bad username or password/), 1, 'failures: one line per address per minute');

  await t.rejects(h.connect(b.credentials.username, b.credentials.password, b.edge.edgeId), /Not authorized/i, 'B is locked even with its right password');
  await t.rejects(h.connect(consumer.credentials.username, consumer.credentials.password), /Not authorized/i, 'the address is locked for others');
  const again = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId);
  t.ok(again.connected, 'A, which connected from here before, is exempt');
  for (let i = 0; i < 12; i++) await rawConnect(port, { clientId: 'flowbill-hub', username: 'flowbill-hub', password: `guess-${i}` });
  t.equal(await rawConnect(port, { clientId: 'flowbill-hub', username: 'flowbill-hub', password: 'guess' }), 4,
    "the hub's own username is never locked (its secret is checked without scrypt), so nobody can keep the hub from reconnecting");

  h.clock.advanceMs(15 * 60_000);
  const edgeB = await h.connect(b.credentials.username, b.credentials.password, b.edge.edgeId);
  t.ok(edgeB.connected, 'the lock expired after 15 minutes');
  c = await counters();
  t.equal(c.lockedNow, 0);
  t.equal(c.authFailures, 23);
});

t.test('unknown usernames cost the same as known ones (no user enumeration by timing)', async (t) => {
  const { a, port } = await setup(t, { config: { mqttAuthMaxFailures: 10_000 } });
  const time = async (username: string) => {
    const t0 = process.hrtime.bigint();
    await rawConnect(port, { clientId: username, username, password: 'wrong' });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 12; i++) {
    known.push(await time(a.credentials.username));
    unknown.push(await time(`edge-${i.toString(16).padStart(12, '0')}`));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  t.comment(`median answer: known username ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
  t.ok(median(unknown) > 0.5 * median(known), 'an unknown username is not answered measurably faster');
});

t.test('5,000 forbidden filters in one SUBSCRIBE: one log line with the count, every filter counted', async (t) => {
  const { h, consumer, counters, warnings, count } = await setup(t);
  const c = await h.connect(consumer.credentials.username, consumer.credentials.password);
  const filters = Array.from({ length: 5000 }, (_, i) => `flowbill/v1/isp2/edge-${i}/summaries`);
  const granted = await grantedQos(c, filters);
  t.equal(granted.filter((g) => g === 128).length, 5000);
  t.equal(count(/subscriptions refused/), 1);
  const line = warnings.find((w) => /subscriptions refused/.test(w.msg))!;
  t.match(line.obj, { refused: 5000, examples: ['flowbill/v1/isp2/edge-0/summaries', 'flowbill/v1/isp2/edge-1/summaries', 'flowbill/v1/isp2/edge-2/summaries'] });
  t.same(await grantedQos(c, ['#', 'flowbill/v1/isp1/+/summaries']), [128, 1]);
  t.equal(count(/subscriptions refused/), 1, 'a second SUBSCRIBE within the minute is only counted');
  t.equal((await counters()).subscriptionsRefused, 5001);

  // Refused publishes close the connection; each is counted, one line per identity per minute.
  for (let i = 0; i < 3; i++) {
    const p = await h.connect(consumer.credentials.username, consumer.credentials.password);
    const closed = waitForClose(p);
    p.publish('flowbill/v1/isp1/x/summaries', Buffer.from('x'), { qos: 1 });
    await closed;
  }
  t.equal((await counters()).publishesRefused, 3);
  t.equal(count(/publish refused/), 1);
});

t.test('the broker counters appear with the hub counters (super_admin Operators page)', async (t) => {
  const { h } = await setup(t);
  const res = await h.admin('GET', '/api/v1/hub/counters');
  t.equal(res.status, 200);
  t.match(res.body.counters.broker, {
    connectTimeouts: 0, connectPacketsTooLarge: 0, packetsTooLarge: 0, malformedPackets: 0, authFailures: 0, authLockouts: 0,
    authRefusedLocked: 0, clientIdsRejected: 0, subscriptionsRefused: 0, publishesRefused: 0, clientsConnected: 1, lockedNow: 0,
  });
  t.ok(res.body.counters.ingest && res.body.counters.mqtt, 'the existing groups are still there');
  // mqtt.js cannot send a zero-length id with clean=false; the broker refuses it per [MQTT-3.1.3-8].
  await t.rejects(mqtt.connectAsync(h.mqttUrl, { clientId: '', clean: false, username: 'x', password: 'y', reconnectPeriod: 0, connectTimeout: 3000 }));
});
