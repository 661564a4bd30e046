import t, { type Test } from 'tap';
import { ackCodec, AckStatus, edgeConfigCodec } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { grantedQos, nextMessage, startTestHub, waitForClose } from './hub-harness';

const NOW_MS = Date.UTC(2026, 10, 3, 12);
const BUCKET = NOW_MS / 1000 - 3600;

async function setup(t: Test) {
  const h = await startTestHub({ nowMs: NOW_MS });
  t.teardown(() => h.close());
  for (const id of ['isp1', 'isp2']) await h.admin('POST', '/api/v1/operators', { operatorId: id, name: id });
  const a = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-a' })).body;
  const b = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-b' })).body;
  const c = (await h.admin('POST', '/api/v1/operators/isp2/edges', { name: 'pop-c' })).body;
  return { h, a, b, c };
}

t.test('an edge publishes summaries and gets a STORED ack on its own ack topic; its config is retained', async (t) => {
  const { h, a } = await setup(t);
  t.match(a.credentials, { edgeId: a.edge.edgeId, tenantId: 'isp1', username: a.edge.edgeId, mqttUrl: /^mqtt:\/\// });
  const edge = await h.connect(a.credentials.username, a.credentials.password);
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  const configMsg = nextMessage(edge, `${base}/config`);
  const granted = await edge.subscribeAsync([`${base}/ack`, `${base}/config`], { qos: 1 });
  t.same(granted.map((g) => g.qos), [1, 1]);
  t.equal(edgeConfigCodec.decode(await configMsg).allInterfaces, true, 'retained config delivered on subscribe');
  const ackMsg = nextMessage(edge, `${base}/ack`);
  await edge.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, [makeSummary('if:10.1.1.1/2', BUCKET, 1500)]))), { qos: 1 });
  t.same(ackCodec.decode(await ackMsg), { edgeId: a.edge.edgeId, seq: 1, status: AckStatus.STORED, reason: '' });

  const series = await h.admin('GET', `/api/v1/operators/isp1/subjects/${encodeURIComponent('if:10.1.1.1/2')}/series?fromSec=${BUCKET}&toSec=${BUCKET + 600}`);
  t.equal(series.status, 200);
  t.same(series.body.points, [{ bucketStartSec: BUCKET, bytesIn: 1500, bytesOut: 1, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1, bpsIn: 40, bpsOut: 0 }]);
  t.same(series.body.totals, { bytesIn: 1500, bytesOut: 1, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 });

  // A config change is pushed as a new retained version.
  const next = nextMessage(edge, `${base}/config`);
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-1', prefixes: ['192.0.2.0/24'] })).status, 201);
  const cfg = edgeConfigCodec.decode(await next);
  t.same([cfg.version, cfg.ipGroups], [2, [{ name: 'cust-1', prefixes: ['192.0.2.0/24'] }]]);
});

t.test('an edge cannot publish to another edge topic, nor subscribe to another edge or tenant', async (t) => {
  const { h, a, b, c } = await setup(t);
  const edge = await h.connect(a.credentials.username, a.credentials.password);
  const granted = await grantedQos(edge, [
    `flowbill/v1/isp1/${b.edge.edgeId}/ack`, `flowbill/v1/isp2/${c.edge.edgeId}/config`, 'flowbill/v1/isp1/+/ack', '#',
    `flowbill/v1/isp1/${a.edge.edgeId}/summaries`, `flowbill/v1/isp1/${a.edge.edgeId}/stored`,
  ]);
  t.same(granted, [128, 128, 128, 128, 128, 128]);
  const closed = waitForClose(edge);
  edge.publish(`flowbill/v1/isp1/${b.edge.edgeId}/summaries`, Buffer.from(encodeBatch(makeBatch(b.edge.edgeId, 'isp1', 1, [makeSummary('ipg:x', BUCKET, 99)]))), { qos: 1 });
  await closed;
  t.pass('the broker closed the connection of the offending edge');
  await new Promise((r) => setTimeout(r, 100));
  t.same((await h.admin('GET', '/api/v1/operators/isp1/subjects')).body.subjects, [], 'nothing was stored');
});

t.test('consumer credentials are read-only and limited to their tenant', async (t) => {
  const { h, a } = await setup(t);
  const res = await h.admin('POST', '/api/v1/operators/isp1/consumers', { name: 'billing export' });
  t.equal(res.status, 201);
  const consumer = await h.connect(res.body.credentials.username, res.body.credentials.password);
  const granted = await grantedQos(consumer, [
    'flowbill/v1/isp1/+/summaries', 'flowbill/v1/isp1/+/status', 'flowbill/v1/isp1/+/stored', 'flowbill/v1/isp2/+/summaries', 'flowbill/v1/isp2/+/stored',
    'flowbill/v1/isp1/+/ack', 'flowbill/v1/+/+/summaries', '#',
  ]);
  t.same(granted, [1, 1, 1, 128, 128, 128, 128, 128]);
  const edge = await h.connect(a.credentials.username, a.credentials.password);
  const seen = nextMessage(consumer, `flowbill/v1/isp1/${a.edge.edgeId}/summaries`);
  await edge.publishAsync(`flowbill/v1/isp1/${a.edge.edgeId}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', 1, []))), { qos: 1 });
  t.ok((await seen).length > 0, 'the consumer sees the tenant summaries');
  const closed = waitForClose(consumer);
  consumer.publish(`flowbill/v1/isp1/${a.edge.edgeId}/summaries`, Buffer.from('x'), { qos: 1 });
  await closed;
  t.pass('a consumer that publishes is disconnected');
});

t.test('bad credentials are refused; a revoked edge is disconnected and refused afterwards', async (t) => {
  const { h, a } = await setup(t);
  await t.rejects(h.connect(a.credentials.username, 'wrong'), /Bad username or password|Not authorized/i);
  await t.rejects(h.connect('nobody', 'x'));
  const edge = await h.connect(a.credentials.username, a.credentials.password);
  const closed = waitForClose(edge);
  const res = await h.admin('POST', `/api/v1/operators/isp1/edges/${a.edge.edgeId}/revoke`);
  t.equal(res.body.edge.revoked, true);
  await closed;
  t.pass('the live connection was closed');
  await t.rejects(h.connect(a.credentials.username, a.credentials.password));
});

t.test('a client id held by one identity cannot be taken over by another', async (t) => {
  const { h, a, b } = await setup(t);
  const edge = await h.connect(a.credentials.username, a.credentials.password, a.edge.edgeId);
  await t.rejects(h.connect(b.credentials.username, b.credentials.password, a.edge.edgeId), /Identifier rejected/i);
  t.ok(edge.connected, 'the first holder stays connected');
});

t.test('rotated credentials replace the old password', async (t) => {
  const { h, a } = await setup(t);
  const rotated = (await h.admin('POST', `/api/v1/operators/isp1/edges/${a.edge.edgeId}/rotate`)).body.credentials;
  await t.rejects(h.connect(a.credentials.username, a.credentials.password));
  const edge = await h.connect(rotated.username, rotated.password);
  t.ok(edge.connected);
});
