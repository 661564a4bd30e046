import t from 'tap';
import { stackDir } from '../../helpers/stack-dir';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { ackCodec, AckStatus, edgeConfigCodec, edgeStatusCodec, EdgeState, emptyCounters } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { nextMessage, startTestHub } from './hub-harness';

const NOW_MS = Date.UTC(2026, 10, 3, 12);
const BUCKET = NOW_MS / 1000 - 1800;

t.test('a batch delivered before and after a hub restart over the same LevelDB is stored once', async (t) => {
  const dir = stackDir(t);
  const kv1 = await openLevelKvStore(`${dir}/db`);
  const h1 = await startTestHub({ kv: kv1, nowMs: NOW_MS });
  await h1.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP 1' });
  const { edge, credentials } = (await h1.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-a' })).body;
  await h1.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['198.51.100.0/24'] });
  const base = `flowbill/v1/isp1/${edge.edgeId}`;
  const payload = Buffer.from(encodeBatch(makeBatch(edge.edgeId, 'isp1', 5, [makeSummary('ipg:cust-a', BUCKET, 5555)])));

  const e1 = await h1.connect(credentials.username, credentials.password);
  await e1.subscribeAsync(`${base}/ack`, { qos: 1 });
  const ack1 = nextMessage(e1, `${base}/ack`);
  await e1.publishAsync(`${base}/summaries`, payload, { qos: 1 });
  t.equal(ackCodec.decode(await ack1).status, AckStatus.STORED);
  await h1.close();
  await kv1.close();

  const kv2 = await openLevelKvStore(`${dir}/db`);
  const h2 = await startTestHub({ kv: kv2, nowMs: NOW_MS + 60_000 });
  t.teardown(async () => { await h2.close(); await kv2.close(); });
  const e2 = await h2.connect(credentials.username, credentials.password);
  // The retained config was re-published by the new hub process (aedes kept it only in memory), same version.
  const cfg = nextMessage(e2, `${base}/config`);
  await e2.subscribeAsync([`${base}/ack`, `${base}/config`], { qos: 1 });
  t.match(edgeConfigCodec.decode(await cfg), { version: 2, ipGroups: [{ name: 'cust-a' }] });
  const ack2 = nextMessage(e2, `${base}/ack`);
  await e2.publishAsync(`${base}/summaries`, payload, { qos: 1 });
  t.same(ackCodec.decode(await ack2), { edgeId: edge.edgeId, seq: 5, status: AckStatus.DUPLICATE, reason: '' });
  const series = await h2.admin('GET', `/api/v1/operators/isp1/subjects/${encodeURIComponent('ipg:cust-a')}/series?fromSec=${BUCKET}&toSec=${BUCKET + 300}`);
  t.same(series.body.points.map((p: { bytesIn: number }) => p.bytesIn), [5555]);

  // Status through the broker: a birth shows the edge online in the API.
  await e2.publishAsync(`${base}/status`, Buffer.from(edgeStatusCodec.encode({
    edgeId: edge.edgeId, tenantId: 'isp1', state: EdgeState.BIRTH, session: 3, atMs: NOW_MS, softwareVersion: '0.1.0',
    counters: emptyCounters(), exporters: [], configVersion: 2, collectionPaused: false,
  })), { qos: 1, retain: true });
  let view: { state: string; online: boolean; session: number } | undefined;
  for (let i = 0; i < 20 && view?.state !== 'birth'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    view = (await h2.admin('GET', '/api/v1/operators/isp1/edges')).body.edges[0].status;
  }
  t.match(view, { state: 'birth', online: true, session: 3 });
  t.same((await h2.api('GET', '/api/v1/health')).body, { ok: true, mqttConnected: true });
  t.match((await h2.admin('GET', '/api/v1/hub/counters')).body.counters.ingest, { batchesDuplicate: 1, batchesStored: 0 });
});
