/**
 * The hand-off between the receiving and the decoding thread (edge/threads/datagram-batch.ts), with
 * no threads: what the writer posts, the reader reads back byte for byte, with exporter and kind;
 * the queue bound drops and counts; pooled buffers come back; the exporter id table restarts.
 */
import t from 'tap';
import { createBatchReader, createBatchWriter, type DatagramBatch, MAX_DATAGRAM_BYTES, RECORD_HEADER_BYTES } from '../../edge/threads/datagram-batch';

function datagram(n: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (n * 31 + i) & 255;
  return d;
}

t.test('round trip: bytes, exporter and kind of every datagram, in order', async (t) => {
  const posted: DatagramBatch[] = [];
  const w = createBatchWriter({ maxQueuedBytes: 1 << 20, batchBytes: 128 * 1024, maxExporterIds: 100, post: (b) => posted.push(b) });
  const sent: { d: Uint8Array; e: string; k: number }[] = [];
  let accepted = 0;
  for (let n = 0; n < 300; n++) {
    const d = datagram(n, 1 + (n * 97) % 1500);
    const e = `192.0.2.${n % 3}`;
    const k = n % 2;
    if (w.write(d, e, k)) accepted++;
    sent.push({ d: d.slice(), e, k });
  }
  w.flush();
  t.equal(accepted, 300);
  t.ok(posted.length >= 2, `several batches (${posted.length}): a full buffer is posted at once`);
  const r = createBatchReader();
  const got: { d: Uint8Array; e: string; k: number }[] = [];
  for (const b of posted) r.read(b, (d, e, k) => got.push({ d: d.slice(), e, k }));
  t.equal(got.length, sent.length);
  t.ok(got.every((g, i) => g.e === sent[i].e && g.k === sent[i].k && Buffer.compare(g.d, sent[i].d) === 0), 'identical');
  t.equal(w.stats().dropped, 0);
  t.equal(w.stats().datagrams, 300);
});

t.test('the queue bound: beyond maxQueuedBytes not yet done, datagrams are dropped and counted; done frees room', async (t) => {
  const posted: DatagramBatch[] = [];
  const batchBytes = MAX_DATAGRAM_BYTES + RECORD_HEADER_BYTES;
  const w = createBatchWriter({ maxQueuedBytes: 2 * batchBytes, batchBytes, maxExporterIds: 100, post: (b) => posted.push(b) });
  let accepted = 0;
  for (let n = 0; n < 1000; n++) if (w.write(datagram(n, 1464), '192.0.2.1', 0)) accepted++;
  t.equal(accepted + w.stats().dropped, 1000);
  t.ok(accepted * 1472 <= 2 * batchBytes, `accepted ${accepted} fit the bound`);
  t.ok(w.stats().dropped > 900, `dropped ${w.stats().dropped}`);
  // The worker hands the pooled buffers back: room again, and the same buffers are reused.
  for (const b of posted) w.done(b.length, b.pooled ? b.buffer : undefined);
  t.equal(w.stats().queuedBytes, 0);
  t.ok(w.write(datagram(1, 1464), '192.0.2.1', 0), 'accepted after done');
});

t.test('a nearly empty batch goes as a small copy; a full one is the pooled buffer itself', async (t) => {
  const posted: DatagramBatch[] = [];
  const w = createBatchWriter({ maxQueuedBytes: 1 << 20, batchBytes: 128 * 1024, maxExporterIds: 100, post: (b) => posted.push(b) });
  w.write(datagram(1, 100), '192.0.2.1', 0);
  w.flush();
  t.equal(posted[0].pooled, false);
  t.equal(posted[0].buffer.byteLength, 108);
  w.flush();
  t.equal(posted.length, 1, 'an empty batch is not posted');
  for (let n = 0; n < 200; n++) w.write(datagram(n, 1400), '192.0.2.1', 0);
  t.equal(posted[1].pooled, true);
  t.equal(posted[1].buffer.byteLength, 128 * 1024);
});

t.test('the exporter id table restarts when full, at a batch boundary; names stay right', async (t) => {
  const posted: DatagramBatch[] = [];
  const w = createBatchWriter({ maxQueuedBytes: 1 << 20, batchBytes: 128 * 1024, maxExporterIds: 4, post: (b) => posted.push(b) });
  const exporters = Array.from({ length: 11 }, (_, i) => `2001:db8::${i}`);
  for (const e of exporters) w.write(datagram(1, 10), e, 0);
  w.flush();
  t.ok(posted.some((b) => b.resetNames), 'a restart was posted');
  t.ok(w.stats().exporterIds <= 4);
  const r = createBatchReader();
  const got: string[] = [];
  for (const b of posted) r.read(b, (_d, e) => got.push(e));
  t.same(got, exporters);
});

t.test('a datagram larger than a UDP payload can be is dropped, never written past the buffer', async (t) => {
  const w = createBatchWriter({ maxQueuedBytes: 1 << 20, batchBytes: 1024, maxExporterIds: 4, post: () => {} });
  t.notOk(w.write(new Uint8Array(MAX_DATAGRAM_BYTES + 1), '192.0.2.1', 0));
  t.ok(w.write(new Uint8Array(MAX_DATAGRAM_BYTES), '192.0.2.1', 0), 'the largest fits (the buffer is at least one datagram)');
  t.equal(w.stats().dropped, 1);
});
