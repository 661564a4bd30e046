import t from 'tap';
import dgram from 'node:dgram';
import { createUdpReceiver, normalizeExporterAddress } from '../../edge/receive/udp-receiver';
import { silentLogger } from '../../common/logger';

t.test('IPv4-mapped addresses are normalized; IPv6 and IPv4 pass through', async (t) => {
  t.equal(normalizeExporterAddress('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(normalizeExporterAddress('2001:db8::1'), '2001:db8::1');
  t.equal(normalizeExporterAddress('192.0.2.1'), '192.0.2.1');
});

t.test('dual-stack socket: an IPv4 exporter is seen under its IPv4 address; a throwing handler does not stop the socket', async (t) => {
  const seen: string[] = [];
  let calls = 0;
  const receiver = createUdpReceiver({
    host: '::', port: 0, recvBufferBytes: 1024 * 1024, log: silentLogger,
    onDatagram: (d, exporter) => { calls++; if (calls === 1) throw new Error('bug'); seen.push(`${exporter}:${d.length}`); },
  });
  let bound;
  try {
    bound = await receiver.start();
  } catch (err) {
    t.pass(`skipped: no IPv6 on this host (${(err as Error).message})`);
    return;
  }
  const sender = dgram.createSocket('udp4');
  for (const n of [1, 2, 3]) await new Promise<void>((r) => sender.send(Buffer.alloc(n), bound.port, '127.0.0.1', () => r()));
  const deadline = Date.now() + 3000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  sender.close();
  await receiver.stop();
  t.same(seen, ['127.0.0.1:2', '127.0.0.1:3']);
  t.same(receiver.stats(), { datagrams: 3, handlerErrors: 1 });
});
