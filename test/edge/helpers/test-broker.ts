/** A real aedes broker on 127.0.0.1:0 for edge tests, recording what clients publish. */
import { Aedes } from 'aedes';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ackCodec, AckStatus, summaryBatchCodec, type SummaryBatch } from '../../../proto/codec';

export interface Recorded { topic: string; payload: Buffer; retain: boolean; qos: number; clientId: string }

export async function startTestBroker() {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const published: Recorded[] = [];
  const listeners = new Set<() => void>();
  broker.on('publish', (packet, client) => {
    if (!client) return; // broker's own $SYS and our injected acks
    published.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), retain: packet.retain, qos: packet.qos, clientId: client.id });
    for (const l of listeners) l();
  });

  async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error('timed out waiting for a broker condition');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    published,
    waitFor,
    on(topicSuffix: string): Recorded[] { return published.filter((p) => p.topic.endsWith(topicSuffix)); },
    batches(): SummaryBatch[] { return published.filter((p) => p.topic.endsWith('/summaries')).map((p) => summaryBatchCodec.decode(p.payload)); },
    publish(topic: string, payload: Uint8Array, retain = false): Promise<void> {
      return new Promise((resolve, reject) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (err) => (err ? reject(err) : resolve())));
    },
    ack(topic: string, edgeId: string, seq: number, status: AckStatus = AckStatus.STORED, reason = ''): Promise<void> {
      return this.publish(topic, ackCodec.encode({ edgeId, seq, status, reason }));
    },
    /** Cut every client connection (like a network drop; wills fire). */
    dropConnections(): void { for (const s of sockets) s.destroy(); },
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
