/**
 * A fake edge against a real hub (test/hub/spine/hub-harness.ts): provisioned through the API,
 * connected with mqtt.js, publishing SummaryBatches and waiting for the hub's application-level Ack.
 */
import { ackCodec, type Ack, type Summary } from '../../proto/codec';
import { encodeBatch, makeBatch } from '../hub/spine/ingest-fixtures';
import type { startTestHub } from '../hub/spine/hub-harness';

type TestHub = Awaited<ReturnType<typeof startTestHub>>;

export async function provisionEdge(h: TestHub, operatorId: string, name: string) {
  const res = await h.admin('POST', `/api/v1/operators/${operatorId}/edges`, { name });
  if (res.status !== 201) throw new Error(`edge ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const creds = res.body.credentials as { edgeId: string; tenantId: string; username: string; password: string };
  const client = await h.connect(creds.username, creds.password);
  const base = `flowbill/v1/${creds.tenantId}/${creds.edgeId}`;
  const acks: Ack[] = [];
  const waiters: (() => void)[] = [];
  client.on('message', (topic, payload) => {
    if (topic !== `${base}/ack`) return;
    acks.push(ackCodec.decode(payload));
    for (const w of waiters.splice(0)) w();
  });
  await client.subscribeAsync(`${base}/ack`, { qos: 1 });
  let seq = 0;
  return {
    edgeId: creds.edgeId,
    client,
    /** Publishes one batch and resolves with the hub's Ack for it. */
    async deliver(summaries: Summary[]): Promise<Ack> {
      const mySeq = ++seq;
      await client.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(creds.edgeId, creds.tenantId, mySeq, summaries))), { qos: 1 });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ack = acks.find((a) => a.seq === mySeq);
        if (ack) return ack;
        if (Date.now() > deadline) throw new Error(`no ack for seq ${mySeq}`);
        await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 200); });
      }
    },
  };
}
