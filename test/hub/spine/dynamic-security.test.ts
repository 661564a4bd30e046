/**
 * FLOWBILL_MQTT_DYNSEC=on against a real Mosquitto 2 with its dynamic-security plugin: the hub pushes
 * credentials and ACLs over $CONTROL/dynamic-security/v1 when an edge or consumer is provisioned,
 * rotated or revoked (hub/broker/dynamic-security.ts), and the broker then enforces mqtt-acl.ts's rules.
 * The broker is set up as hub/broker/README.md says: edges on a listener with use_username_as_clientid,
 * hubs on their own listener (each hub its own client id), the plugin global.
 */
import t, { type Test } from 'tap';
import mqtt, { type MqttClient } from 'mqtt';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { consumerAcls, createDynamicSecurity, createDynsecControl, edgeAcls } from '../../../hub/broker/dynamic-security';
import { loadHubConfig } from '../../../hub/config';
import { createHub } from '../../../hub/create-hub';
import { ackCodec, AckStatus } from '../../../proto/codec';
import { dynsecPlugin, hasMosquitto, startMosquitto } from '../../helpers/mosquitto';
import { nextMessage } from './hub-harness';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';

const skip = !hasMosquitto ? 'mosquitto not installed' : !dynsecPlugin ? 'mosquitto_dynamic_security.so not installed' : false;
const admin = { username: 'flowbill-hub', password: 'admin-secret-for-test' };

async function startBroker(t: Test) {
  const { ports: [edgePort, hubPort] } = await startMosquitto(t, {
    listeners: [{ lines: ['use_username_as_clientid true'] }, {}],
    lines: ['allow_anonymous false'],
    dynsecAdmin: admin,
  });
  return { edgeUrl: `mqtt://127.0.0.1:${edgePort}`, hubUrl: `mqtt://${admin.username}:${admin.password}@127.0.0.1:${hubPort}` };
}

async function login(t: Test, url: string, username: string, password: string, clientId = username): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { username, password, clientId, reconnectPeriod: 0, connectTimeout: 3000 });
  t.teardown(() => c.end(true));
  return c;
}
const refused = (url: string, username: string, password: string) =>
  mqtt.connectAsync(url, { username, password, clientId: username, reconnectPeriod: 0, connectTimeout: 3000 }).then((c) => { c.end(true); return false; }, () => true);
const subscribeOk = (c: MqttClient, filter: string) => c.subscribeAsync(filter, { qos: 1 }).then(() => true, () => false);
const closed = (c: MqttClient) => new Promise<void>((resolve) => { if (!c.connected) resolve(); else c.once('close', () => resolve()); });

t.test('edge and consumer credentials follow the registry into mosquitto dynamic-security', { skip }, async (t) => {
  const { edgeUrl, hubUrl } = await startBroker(t);
  const nowMs = Date.UTC(2026, 10, 3, 12);
  const config = loadHubConfig({}, {
    httpPort: 0, mqttPort: 0, externalMqttUrl: hubUrl, mqttDynsec: true, hubId: 'hub-1', publicMqttUrl: edgeUrl, adminPassword: 'admin-pw', jobsEnabled: false,
  });
  const hub = createHub({ config, kv: createMemoryKvStore(), clock: createManualClock(nowMs), log: silentLogger });
  await hub.services.identity.createOperator('isp1', 'ISP 1', nowMs);
  // Issued before the hub started: the control connection opens on first use.
  const a = await hub.services.edges.createEdge('isp1', 'pop-a');
  // A leftover on the broker (revoked while the broker was unreachable): start() removes it.
  const control = createDynsecControl({ url: hubUrl, clientId: 'test-control', log: silentLogger });
  t.teardown(() => control.close());
  await createDynamicSecurity({ control, shareGroup: 'flowbill-hubs', log: silentLogger }).putEdge({ edgeId: 'edge-0123456789ab', operatorId: 'isp1' }, 'stale');
  await hub.start();
  t.teardown(() => hub.stop());
  t.ok(await refused(edgeUrl, 'edge-0123456789ab', 'stale'), 'start() removed what the registry no longer has');

  // provision: the edge connects and is held to its own topics
  const b = await hub.services.edges.createEdge('isp1', 'pop-b');
  const edge = await login(t, edgeUrl, a.credentials.username, a.credentials.password, `flowbill-edge-isp1-${a.edge.edgeId}`);
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  t.ok(await subscribeOk(edge, `${base}/ack`), 'its own ack');
  t.ok(await subscribeOk(edge, `${base}/config`), 'its own config');
  t.notOk(await subscribeOk(edge, `flowbill/v1/isp1/${b.edge.edgeId}/ack`), 'not another edge\'s ack');
  t.notOk(await subscribeOk(edge, 'flowbill/v1/isp1/+/ack'), 'no wildcard');
  t.notOk(await subscribeOk(edge, `${base}/stored`), 'not stored');
  const bucket = nowMs / 1000 - 3600;
  // The hub's role lets it take summaries through the share group and answer with an ack.
  const ack = nextMessage(edge, `${base}/ack`);
  await edge.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, [makeSummary('if:10.9.9.9/1', bucket, 4242)]))), { qos: 1 });
  t.equal(ackCodec.decode(await ack).status, AckStatus.STORED, 'a batch on its own topic is stored');
  // Publishing on another edge's topic: mosquitto drops it (MQTT 3.1.1 has no negative PUBACK).
  await edge.publishAsync(`flowbill/v1/isp1/${b.edge.edgeId}/summaries`, Buffer.from(encodeBatch(makeBatch(b.edge.edgeId, 'isp1', 1, [makeSummary('if:10.9.9.9/1', bucket, 1)]))), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  t.same((await hub.services.seriesReader.readSeries('isp1', 'if:10.9.9.9/1', bucket, bucket + 300)).map((p) => p.bytesIn), [4242], 'nothing stored from another edge\'s topic');
  // use_username_as_clientid on the edges' listener: edge B asking for A's client id cannot knock A off.
  await login(t, edgeUrl, b.credentials.username, b.credentials.password, `flowbill-edge-isp1-${a.edge.edgeId}`);
  await new Promise((r) => setTimeout(r, 200));
  t.ok(edge.connected, 'edge A was not knocked off');

  // rotate: old password refused, new accepted
  const rotated = await hub.services.edges.rotate('isp1', a.edge.edgeId);
  await closed(edge);
  t.pass('dynsec closes the connection made with the old password (the embedded broker keeps it until it reconnects)');
  t.ok(await refused(edgeUrl, a.credentials.username, a.credentials.password), 'the old password is refused');
  t.notOk(await refused(edgeUrl, a.credentials.username, rotated.credentials.password), 'the new one is accepted');
  // provisioning re-run with the same name (createOrRotateByName) rotates too
  const again = await hub.services.edges.createEdge('isp1', 'pop-a');
  t.ok(await refused(edgeUrl, a.credentials.username, rotated.credentials.password), 'a re-run provisioning retires the rotated password');
  const edge2 = await login(t, edgeUrl, again.credentials.username, again.credentials.password);

  // revoke: the live connection is closed and the next login refused
  const gone = closed(edge2);
  await hub.services.edges.revoke('isp1', a.edge.edgeId);
  await gone;
  t.pass('the revoked edge was disconnected');
  t.ok(await refused(edgeUrl, again.credentials.username, again.credentials.password), 'and cannot log in again');
  await hub.services.edges.revoke('isp1', a.edge.edgeId); // repeating a revoke is harmless

  // consumers: read-only on their tenant
  const { consumer, credentials } = await hub.services.edges.createConsumer('isp1', 'billing');
  const reader = await login(t, edgeUrl, credentials.username, credentials.password);
  t.ok(await subscribeOk(reader, 'flowbill/v1/isp1/+/stored'), 'a consumer reads its tenant\'s stored');
  t.ok(await subscribeOk(reader, `flowbill/v1/isp1/${b.edge.edgeId}/summaries`), 'and one edge\'s summaries');
  t.notOk(await subscribeOk(reader, 'flowbill/v1/+/+/stored'), 'not every tenant\'s');
  t.notOk(await subscribeOk(reader, 'flowbill/v1/isp1/#'), 'no #');
  t.notOk(await subscribeOk(reader, `flowbill/v1/isp1/${b.edge.edgeId}/ack`), 'no acks');
  const readerGone = closed(reader);
  await hub.services.edges.revokeConsumer('isp1', consumer.username);
  await readerGone;
  t.ok(await refused(edgeUrl, credentials.username, credentials.password), 'a revoked consumer is disconnected and refused');
});

t.test('the roles are mqtt-acl.ts\'s rules', async (t) => {
  t.same(edgeAcls('isp1', 'edge-01').map((a) => `${a.acltype} ${a.topic}`), [
    'publishClientSend flowbill/v1/isp1/edge-01/summaries', 'publishClientSend flowbill/v1/isp1/edge-01/status', 'publishClientSend flowbill/v1/isp1/edge-01/live',
    'subscribeLiteral flowbill/v1/isp1/edge-01/ack', 'subscribeLiteral flowbill/v1/isp1/edge-01/config',
  ]);
  t.same(consumerAcls('isp1').map((a) => a.topic), ['summaries', 'status', 'live', 'stored'].map((k) => `flowbill/v1/isp1/+/${k}`));
  t.throws(() => consumerAcls('isp1/#'), /unsafe/);
});

t.test('a broker without the plugin: no answer, the call fails with BROKER_UNAVAILABLE after the timeout', { skip: hasMosquitto ? false : 'mosquitto not installed' }, async (t) => {
  const { ports: [port] } = await startMosquitto(t, { lines: ['allow_anonymous true'] });
  const control = createDynsecControl({ url: `mqtt://127.0.0.1:${port}`, clientId: 'test-control', timeoutMs: 300, log: silentLogger });
  t.teardown(() => control.close());
  const dynsec = createDynamicSecurity({ control, shareGroup: 'g', log: silentLogger });
  await t.rejects(dynsec.putEdge({ edgeId: 'edge-01', operatorId: 'isp1' }, 'pw'), { code: 'BROKER_UNAVAILABLE', status: 503, message: /no answer from the broker's dynamic-security plugin within 300 ms/ });
});

t.test('a command the broker refuses fails the call, naming it; "already so" answers do not', async (t) => {
  const answering = (responses: { command: string; error?: string }[]) => ({ send: async () => responses, close: async () => {} });
  const refusing = createDynamicSecurity({ control: answering([{ command: 'createRole' }, { command: 'createClient', error: 'Invalid password' }]), shareGroup: 'g', log: silentLogger });
  await t.rejects(refusing.putEdge({ edgeId: 'edge-01', operatorId: 'isp1' }, 'pw'), { code: 'BROKER_UNAVAILABLE', message: /createClient \(Invalid password\)/ });
  const gone = createDynamicSecurity({ control: answering([{ command: 'deleteClient', error: 'Client not found' }, { command: 'deleteRole', error: 'Role not found' }]), shareGroup: 'g', log: silentLogger });
  await t.resolves(gone.removeEdge('edge-01'));
});
