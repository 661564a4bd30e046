import t from 'tap';
import { stackDir } from '../../helpers/stack-dir';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freeTcpPort } from '../../helpers/free-ports';
import { waitForPort } from '../../helpers/mosquitto';
import os from 'node:os';
import mqtt from 'mqtt';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { loadHubConfig } from '../../../hub/config';
import { createHub } from '../../../hub/create-hub';
import { ackCodec, AckStatus, storedBatchCodec } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { nextMessage } from './hub-harness';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined && spawnSync('mosquitto_passwd', ['-h']).error === undefined;



t.test('the hub ingests through an external mosquitto with the documented ACL', { skip: hasMosquitto ? false : 'mosquitto not installed' }, async (t) => {
  const dir = stackDir(t);
  const port = await freeTcpPort();
  const nowMs = Date.UTC(2026, 10, 3, 12);
  const kv = createMemoryKvStore();
  const hubSecret = 'hub-secret-for-test';
  const config = loadHubConfig({}, { httpPort: 0, mqttPort: 0, externalMqttUrl: `mqtt://flowbill-hub:${hubSecret}@127.0.0.1:${port}`, adminPassword: 'admin-pw', jobsEnabled: false });
  const hub = createHub({ config, kv, clock: createManualClock(nowMs), log: silentLogger });
  await hub.services.identity.createOperator('isp1', 'ISP 1', nowMs);
  const a = await hub.services.edges.createEdge('isp1', 'pop-a');
  const b = await hub.services.edges.createEdge('isp1', 'pop-b');
  const consumer = (await hub.services.edges.createConsumer('isp1', 'billing')).credentials;

  const passwd = `${dir}/passwd`;
  writeFileSync(passwd, '');
  for (const [u, p] of [['flowbill-hub', hubSecret], [a.credentials.username, a.credentials.password], [b.credentials.username, b.credentials.password], [consumer.username, consumer.password]]) {
    t.equal(spawnSync('mosquitto_passwd', ['-b', passwd, u, p]).status, 0);
  }
  writeFileSync(`${dir}/acl`, [
    'user flowbill-hub', 'topic read flowbill/v1/+/+/summaries', 'topic read flowbill/v1/+/+/status', 'topic read flowbill/v1/+/+/live',
    'topic write flowbill/v1/+/+/ack', 'topic write flowbill/v1/+/+/config', 'topic write flowbill/v1/+/+/stored', '',
    `user ${consumer.username}`, 'topic read flowbill/v1/isp1/+/summaries', 'topic read flowbill/v1/isp1/+/status', 'topic read flowbill/v1/isp1/+/live',
    'topic read flowbill/v1/isp1/+/stored', '',
    'pattern write flowbill/v1/+/%u/summaries', 'pattern write flowbill/v1/+/%u/status', 'pattern write flowbill/v1/+/%u/live',
    'pattern read flowbill/v1/+/%u/ack', 'pattern read flowbill/v1/+/%u/config', '',
  ].join('\n'));
  writeFileSync(`${dir}/mosquitto.conf`, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${dir}/acl`, 'persistence false',
    // hub/broker/README.md: client ids bound to credentials, and a maximum packet size.
    'use_username_as_clientid true', 'max_packet_size 2097152',
    `user ${os.userInfo().username}`, 'log_dest stderr', 'log_type error', '',
  ].join('\n'));
  const broker = spawn('mosquitto', ['-c', `${dir}/mosquitto.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { broker.kill('SIGTERM'); });
  let stderr = '';
  broker.stderr!.on('data', (d) => { stderr += d; });
  await waitForPort(port, () => stderr);

  await hub.start();
  t.teardown(() => hub.stop());

  const agentClientId = `flowbill-edge-isp1-${a.edge.edgeId}`; // what the edge agent sends
  const edge = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: a.credentials.username, password: a.credentials.password, clientId: agentClientId, reconnectPeriod: 0 });
  t.teardown(() => edge.end(true));
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  await edge.subscribeAsync(`${base}/ack`, { qos: 1 });
  const reader = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: consumer.username, password: consumer.password, clientId: consumer.username, clean: false, reconnectPeriod: 0 });
  t.teardown(() => reader.end(true));
  await reader.subscribeAsync('flowbill/v1/isp1/+/stored', { qos: 1 });
  const storedMsgs: Buffer[] = [];
  reader.on('message', (topic, payload) => { if (topic === `${base}/stored`) storedMsgs.push(payload); });
  // The ACL has no write on stored for edges: mosquitto drops a forged StoredBatch.
  const bucket = nowMs / 1000 - 3600;
  await edge.publishAsync(`${base}/stored`, Buffer.from(storedBatchCodec.encode({ edgeId: a.edge.edgeId, tenantId: 'isp1', storedSeq: 1, edgeSeq: 1, storedAtMs: 0, summaries: [makeSummary('if:10.9.9.9/1', bucket, 10 ** 12)] })), { qos: 1 });
  const ackMsg = nextMessage(edge, `${base}/ack`);
  const storedMsg = nextMessage(reader, `${base}/stored`);
  await edge.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, [makeSummary('if:10.9.9.9/1', bucket, 4242)]))), { qos: 1 });
  t.equal(ackCodec.decode(await ackMsg).status, AckStatus.STORED);
  t.same(storedBatchCodec.decode(await storedMsg).summaries.map((s) => s.bytesIn), [4242], 'the consumer reads what the hub stored');
  t.equal(storedMsgs.length, 1, 'and nothing forged by the edge');
  // mosquitto drops a publish to another edge's topic (MQTT 3.1.1 has no negative PUBACK).
  await edge.publishAsync(`flowbill/v1/isp1/${b.edge.edgeId}/summaries`, Buffer.from(encodeBatch(makeBatch(b.edge.edgeId, 'isp1', 1, [makeSummary('if:10.9.9.9/1', bucket, 1)]))), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  t.same((await hub.services.seriesReader.readSeries('isp1', 'if:10.9.9.9/1', bucket, bucket + 300)).map((p) => p.bytesIn), [4242]);

  // use_username_as_clientid: edge B asking for edge A's client id gets its own username instead,
  // so it cannot take over (or squat) A's session.
  const squatter = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: b.credentials.username, password: b.credentials.password, clientId: agentClientId, reconnectPeriod: 0 });
  t.teardown(() => squatter.end(true));
  await new Promise((r) => setTimeout(r, 300));
  t.ok(edge.connected, 'edge A was not knocked off');
});
