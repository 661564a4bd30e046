import t from 'tap';
import { v5Datagrams } from './helpers/flows';
import dgram from 'node:dgram';
import { silentLogger } from '../../common/logger';
import { formatIpBytes } from '../../common/ip-prefix';
import {
  createDatagramRing, recordBytesFor, ringUsedBytes, ringWrite, READ_INDEX_SLOT, WRITE_INDEX_SLOT,
} from '../../edge/receive/datagram-ring';
import {
  createNativeUdpReceiver, drainRing, loadNativeUdpReader, nativeUdpReaderUnavailable, startRingPump,
} from '../../edge/receive/native-udp-reader';
import { normalizeExporterAddress } from '../../edge/receive/udp-receiver';
import { createThreadedEdge } from '../../edge/threads/threaded-edge';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { systemClock } from '../../common/clock';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';

/** A payload whose bytes say which sender and which datagram it is. */
function payload(sender: number, seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (sender * 31 + seq * 7 + i) & 0xff;
  if (size >= 4) { p[0] = sender; p[1] = seq & 0xff; p[2] = (seq >> 8) & 0xff; }
  return p;
}

const V4 = Uint8Array.of(192, 0, 2, 7);
const V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const MAPPED = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9]);

t.test('ring: records come out in order, byte for byte, across many wrap-arounds; full is refused, never overwritten', async (t) => {
  const ring = createDatagramRing(4096);
  const sizes = [0, 1, 7, 8, 9, 100, 555, 1000, 1400, 2000];
  let written = 0;
  let read = 0;
  let refusedWhenFull = 0;
  let gapViolations = 0;
  const got: string[] = [];
  for (let round = 0; round < 400; round++) {
    // Write until full, then drain a part: the indexes visit every offset of the ring.
    for (;;) {
      const size = sizes[written % sizes.length];
      const fam = written % 3 === 0 ? 6 : 4;
      if (!ringWrite(ring, payload(1, written, size), fam, fam === 6 ? V6 : V4, 2000 + (written % 5))) { refusedWhenFull++; break; }
      written++;
    }
    if (ringUsedBytes(ring) > ring.capacity - 8) gapViolations++;
    drainRing(ring, (p, exporter) => {
      const want = payload(1, read, sizes[read % sizes.length]);
      const fam = read % 3 === 0 ? 6 : 4;
      got.push(Buffer.from(p).equals(Buffer.from(want)) && exporter === (fam === 6 ? '2001:db8::1' : '192.0.2.7') ? 'ok' : `bad ${read}`);
      read++;
    }, 1 + (round % 4));
  }
  drainRing(ring, () => { read++; got.push('ok'); });
  t.equal(read, written);
  t.ok(written > 900, `${written} records went through`);
  t.equal(gapViolations, 0, 'the writer always kept its gap');
  t.equal(refusedWhenFull, 400);
  t.same(got.filter((g) => g !== 'ok'), []);
  t.equal(Atomics.load(ring.indexes, READ_INDEX_SLOT), Atomics.load(ring.indexes, WRITE_INDEX_SLOT), 'empty at the end');
});

t.test('ring: a record that exactly reaches the end wraps the write index to 0 unless the reader is at 0', async (t) => {
  const cap = 2 * recordBytesFor(100);
  const ring = createDatagramRing(cap);
  t.ok(ringWrite(ring, new Uint8Array(100), 4, V4, 1));
  t.notOk(ringWrite(ring, new Uint8Array(100), 4, V4, 1), 'would make write == read: refused');
  t.equal(drainRing(ring, () => undefined), 1);
  t.ok(ringWrite(ring, new Uint8Array(100), 4, V4, 1), 'reaches the end exactly');
  t.equal(Atomics.load(ring.indexes, WRITE_INDEX_SLOT), 0);
  t.equal(drainRing(ring, () => undefined), 1);
});

t.test('exporter strings: the same text as Node\'s rinfo.address after normalizeExporterAddress, cached', async (t) => {
  const ring = createDatagramRing(4096);
  ringWrite(ring, new Uint8Array(4), 4, V4, 1);
  ringWrite(ring, new Uint8Array(4), 6, V6, 1);
  ringWrite(ring, new Uint8Array(4), 6, MAPPED, 1);
  ringWrite(ring, new Uint8Array(4), 6, Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 1);
  ringWrite(ring, new Uint8Array(4), 4, V4, 1);
  const names: string[] = [];
  drainRing(ring, (_p, e) => names.push(e));
  t.same(names, ['192.0.2.7', '2001:db8::1', normalizeExporterAddress('::ffff:198.51.100.9'), '::1', '192.0.2.7']);
  t.equal(names[0], names[4]);
  t.equal(formatIpBytes(V6), names[1]);
  // More distinct exporters than the cache holds: still right (the cache starts over, bounded).
  let wrong = 0;
  for (let i = 0; i < 5000; i += 50) {
    for (let j = 0; j < 50; j++) ringWrite(ring, new Uint8Array(1), 4, Uint8Array.of(10, (i + j) >> 8, (i + j) & 0xff, 1), 1);
    let k = i;
    drainRing(ring, (_p, e) => { if (e !== `10.${k >> 8}.${k & 0xff}.1`) wrong++; k++; });
  }
  t.equal(wrong, 0, '5000 distinct exporters, each named right');
});

const reader = loadNativeUdpReader();
const skip = reader === undefined ? `native reader unavailable: ${nativeUdpReaderUnavailable()}` : false;

function send(sock: dgram.Socket, data: Uint8Array, port: number, host: string): Promise<void> {
  return new Promise((res, rej) => sock.send(data, port, host, (err) => (err ? rej(err) : res())));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

t.test('real socket, dual stack: every datagram back, in order per sender, IPv4 and IPv6, up to 64 KiB', { skip }, async (t) => {
  const ring = createDatagramRing(8 * 1024 * 1024);
  let sock;
  try {
    sock = reader!.open({ host: '::', port: 0, recvBufferBytes: 4 * 1024 * 1024, ring });
  } catch (err) {
    t.pass(`skipped: no IPv6 here (${(err as Error).message})`);
    return;
  }
  t.ok(sock.port > 0, 'ephemeral port');
  t.ok(sock.recvBufferBytes > 0, 'granted buffer reported');
  const got = new Map<string, Uint8Array[]>();
  const pump = startRingPump([{ ring, onDatagram: (p, e) => { const l = got.get(e) ?? []; l.push(p.slice()); got.set(e, l); } }], { log: silentLogger });
  const s4 = dgram.createSocket('udp4');
  const s6 = dgram.createSocket('udp6');
  const sizes = [1, 28, 1400, 9000, 65_000, 65_507, 512, 0];
  const N = 200;
  for (let i = 0; i < N; i++) {
    await send(s4, payload(4, i, sizes[i % sizes.length]), sock.port, '127.0.0.1');
    await send(s6, payload(6, i, Math.min(sizes[(i + 3) % sizes.length], 65_000)), sock.port, '::1');
  }
  await until(() => (got.get('127.0.0.1')?.length ?? 0) + (got.get('::1')?.length ?? 0) >= 2 * N);
  await sock.stop();
  pump.stop();
  pump.drainAll();
  s4.close(); s6.close();
  const v4 = got.get('127.0.0.1') ?? [];
  const v6 = got.get('::1') ?? [];
  t.equal(v4.length, N);
  t.equal(v6.length, N);
  let bad = 0;
  for (let i = 0; i < N; i++) {
    if (!Buffer.from(v4[i] ?? []).equals(Buffer.from(payload(4, i, sizes[i % sizes.length])))) bad++;
    if (!Buffer.from(v6[i] ?? []).equals(Buffer.from(payload(6, i, Math.min(sizes[(i + 3) % sizes.length], 65_000))))) bad++;
  }
  t.equal(bad, 0, 'byte for byte, in order');
  const st = sock.stats();
  t.equal(st.datagrams, 2 * N);
  t.equal(st.truncated, 0);
  t.equal(st.errors, 0);
});

t.test('real socket: a full ring stops the reader (counted) and loses nothing; bigger than a slot is counted and skipped', { skip }, async (t) => {
  const slotPayloadBytes = 2048;
  const ring = createDatagramRing(4 * recordBytesFor(slotPayloadBytes) + 64); // a few slots only
  const sock = reader!.open({ host: '127.0.0.1', port: 0, recvBufferBytes: 4 * 1024 * 1024, ring, slotPayloadBytes });
  const s = dgram.createSocket('udp4');
  const N = 300;
  for (let i = 0; i < N; i++) await send(s, payload(1, i, 1000), sock.port, '127.0.0.1');
  await send(s, new Uint8Array(5000), sock.port, '127.0.0.1'); // > slot
  await send(s, payload(1, N, 10), sock.port, '127.0.0.1');
  await until(() => sock.stats().ringFullWaits > 0);
  t.ok(sock.stats().ringFullWaits > 0, 'the reader waited on the full ring');
  const got: Uint8Array[] = [];
  await until(() => { drainRing(ring, (p) => got.push(p.slice())); return got.length >= N + 1; });
  await sock.stop();
  drainRing(ring, (p) => got.push(p.slice()));
  s.close();
  t.equal(got.length, N + 1);
  t.ok(got.every((p, i) => Buffer.from(p).equals(Buffer.from(payload(1, i, i === N ? 10 : 1000)))), 'all of them, in order');
  t.equal(sock.stats().truncated, 1);
});

t.test('real socket: stop drains what the kernel holds before closing (UdpReceiver contract, single thread)', { skip }, async (t) => {
  const got: number[] = [];
  const rx = createNativeUdpReceiver({
    reader: reader!, host: '127.0.0.1', port: 0, recvBufferBytes: 4 * 1024 * 1024, ringBytes: 1024 * 1024,
    log: silentLogger, onDatagram: (d) => got.push(d[1] | (d[2] << 8)),
  });
  const bound = await rx.start();
  const s = dgram.createSocket('udp4');
  const N = 2000;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < N; i++) sends.push(send(s, payload(1, i, 600), bound.port, '127.0.0.1'));
  await Promise.all(sends);
  await rx.stop(); // right after the burst: nothing may be lost
  s.close();
  t.equal(got.length, N);
  t.same(got.slice(0, 5), [0, 1, 2, 3, 4]);
  t.same(rx.stats(), { datagrams: N, handlerErrors: 0 });
  t.equal(rx.readerStats()?.datagrams, N);
});


const edgeOverrides = { udpReader: 'native' as const, udpHost: '127.0.0.1', udpPort: 0, sflowPort: 0, liveIntervalMs: 0, checkpointIntervalMs: 300_000, threadQueueBytes: 4 * 1024 * 1024 };

t.test('threaded edge, native reader: the worker drains the rings; a stop right after a burst loses nothing; sFlow has its own ring', { skip }, async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: edgeOverrides });
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, workerLogLevel: 'silent' });
  const { udpPort, sflowPort } = await edge.start();
  const s = dgram.createSocket('udp4');
  const list = v5Datagrams(1500, Date.now());
  await Promise.all(list.map((d) => send(s, d, udpPort!, '127.0.0.1')));
  await send(s, new Uint8Array(40), sflowPort!, '127.0.0.1'); // not valid sFlow: counted as received by the sFlow decoder
  const final = await edge.stop();
  s.close();
  t.equal(final.counters.packetsReceived, 1501, 'every datagram reached a decoder before the final checkpoint');
  t.equal(final.counters.flowsDecoded, 1500 * 30);
  t.equal(final.counters.datagramsDropped, 0);
  t.ok(final.exporters.some((e) => e.address === '127.0.0.1' && e.packets === 1500), 'the exporter string travelled with its datagrams');
  t.equal(edge.receiverStats().datagrams, 1501, 'the C threads\' count');
});

t.test('single-thread edge (createEdge), native reader: the ring drains on its thread', { skip }, async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: edgeOverrides });
  const edge = createEdge({ config, clock: systemClock, log: silentLogger, kv: createMemoryKvStore(), publish: false });
  const { udpPort } = await edge.start();
  const s = dgram.createSocket('udp4');
  const list = v5Datagrams(800, Date.now());
  await Promise.all(list.map((d) => send(s, d, udpPort!, '127.0.0.1')));
  await edge.stop();
  s.close();
  t.equal(edge.status().counters.packetsReceived, 800);
  t.equal(edge.status().counters.flowsDecoded, 800 * 30);
});

t.test('udpReader=native when the addon cannot be used is a clear start-up error; auto falls back', async (t) => {
  const { chooseNativeUdpReader } = await import('../../edge/receive/choose-udp-reader');
  t.throws(() => chooseNativeUdpReader('native', 'localhost', silentLogger), /udpReader=native: udpHost "localhost" is not a numeric address/);
  t.equal(chooseNativeUdpReader('auto', 'localhost', silentLogger), undefined);
  t.equal(chooseNativeUdpReader('node', '127.0.0.1', silentLogger), undefined);
});

t.test('addon absent: loadNativeUdpReader says why', async (t) => {
  if (reader !== undefined) { t.equal(nativeUdpReaderUnavailable(), undefined); return; }
  t.match(nativeUdpReaderUnavailable(), /not built|Linux|does not load/);
});
