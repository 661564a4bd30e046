/**
 * The hand-off between the receiving thread and the decoding thread: datagrams copied back to back
 * into one ArrayBuffer, posted (transferred, not copied) about once a millisecond, and handed back
 * for reuse. Pure: no sockets, no threads, no timers; the host (threaded-edge.ts) drives it.
 *
 * Layout of one record: [length u16 LE][kind u8][0][exporter id u32 LE][datagram bytes]. A UDP
 * payload is at most 65,507 bytes (IPv4; 65,535 with IPv6 jumbograms excluded), so u16 holds it.
 * Exporter addresses travel once, as names for small integer ids (a batch carries the names
 * assigned since the previous batch), so a datagram costs no string encoding on the reader.
 */
import type { DatagramKind } from '../create-edge';

export const RECORD_HEADER_BYTES = 8;
export const MAX_DATAGRAM_BYTES = 65_535;

/** Which listener a datagram came in on (create-edge.ts DatagramKind); the index is its byte in the batch. */
export const DATAGRAM_KINDS: readonly DatagramKind[] = ['netflow', 'sflow'];

/** What the host posts to the worker. */
export interface DatagramBatch {
  buffer: ArrayBuffer;
  /** Bytes used in buffer. */
  length: number;
  count: number;
  /** true: forget every exporter id before reading `names` (the id table was full and restarted). */
  resetNames: boolean;
  /** Names of ids firstNameId, firstNameId + 1, ... assigned since the previous batch. */
  firstNameId: number;
  names: string[];
  /** true: the buffer is the writer's and must be handed back (pooled); false: a one-off copy. */
  pooled: boolean;
}

export interface BatchWriterOptions {
  /** Bound of the queue between the threads: bytes posted and not yet handed back as done. */
  maxQueuedBytes: number;
  /** Size of one batch buffer; at least MAX_DATAGRAM_BYTES + RECORD_HEADER_BYTES. */
  batchBytes: number;
  /** Exporter ids before the table restarts (spoofed sources cannot grow it without bound). */
  maxExporterIds: number;
  post(batch: DatagramBatch): void;
}

export interface BatchWriter {
  /** Copies the datagram into the current batch; false when the queue is full (dropped and counted). */
  write(datagram: Uint8Array, exporter: string, kind: number): boolean;
  /** Posts the current batch if it holds anything. */
  flush(): void;
  /** The worker is done with a batch of `length` bytes; a pooled buffer comes back for reuse. */
  done(length: number, buffer?: ArrayBuffer): void;
  /** Datagrams in the current (not yet posted) batch. */
  pendingCount(): number;
  stats(): { datagrams: number; dropped: number; batches: number; queuedBytes: number; exporterIds: number };
}

export function createBatchWriter(opts: BatchWriterOptions): BatchWriter {
  const batchBytes = Math.max(opts.batchBytes, MAX_DATAGRAM_BYTES + RECORD_HEADER_BYTES);
  const free: ArrayBuffer[] = [];
  // Pooled buffers alive (current + in flight + free): never more than the queue bound allows.
  const maxPooled = Math.max(2, Math.ceil(opts.maxQueuedBytes / batchBytes) + 1);
  let pooledBuffers = 0;
  let buf: Uint8Array | undefined;
  let len = 0;
  let count = 0;
  let queuedBytes = 0; // posted, not yet done
  let datagrams = 0;
  let dropped = 0;
  let batches = 0;
  const ids = new Map<string, number>();
  let names: string[] = [];
  let firstNameId = 0;
  let resetNames = false;
  // Consecutive datagrams mostly come from the same exporter; the same string object skips the Map.
  let lastExporter = '';
  let lastId = -1;

  function takeBuffer(): Uint8Array | undefined {
    const b = free.pop();
    if (b !== undefined) return new Uint8Array(b);
    if (pooledBuffers >= maxPooled) return undefined;
    pooledBuffers++;
    return new Uint8Array(batchBytes);
  }

  function idOf(exporter: string): number {
    if (exporter === lastExporter && lastId >= 0) return lastId;
    let id = ids.get(exporter);
    if (id === undefined) {
      if (ids.size >= opts.maxExporterIds) {
        // Restart the table at a batch boundary: ids already in the current batch stay valid.
        flush();
        ids.clear();
        names = [];
        firstNameId = 0;
        resetNames = true;
      }
      id = ids.size;
      ids.set(exporter, id);
      names.push(exporter);
    }
    lastExporter = exporter;
    lastId = id;
    return id;
  }

  function post(pooled: boolean): void {
    const b = buf!;
    let buffer: ArrayBuffer;
    if (pooled) {
      buffer = b.buffer as ArrayBuffer;
      buf = undefined;
    } else {
      buffer = b.buffer.slice(0, len) as ArrayBuffer; // a small one-off copy; the big buffer stays current
    }
    const batch: DatagramBatch = { buffer, length: len, count, resetNames, firstNameId, names, pooled };
    queuedBytes += len;
    batches++;
    firstNameId += names.length;
    names = [];
    resetNames = false;
    len = 0;
    count = 0;
    opts.post(batch);
  }

  function flush(): void {
    if (count === 0) return;
    // A mostly empty batch (the timer fired at a low rate) goes as a copy of what it holds, so the
    // queue bound counts bytes of datagrams, not 256 KiB per millisecond of quiet traffic.
    post(len * 2 >= batchBytes);
  }

  return {
    write(datagram, exporter, kind) {
      const size = datagram.length;
      if (size > MAX_DATAGRAM_BYTES) { dropped++; return false; }
      const need = RECORD_HEADER_BYTES + size;
      if (buf !== undefined && len + need > buf.length) post(true);
      if (queuedBytes + len + need > opts.maxQueuedBytes) { dropped++; return false; }
      if (buf === undefined) {
        buf = takeBuffer();
        if (buf === undefined) { dropped++; return false; }
      }
      const id = idOf(exporter); // may post the current batch (id table restart)
      if (buf === undefined) {
        buf = takeBuffer();
        if (buf === undefined) { dropped++; return false; }
      }
      const b = buf;
      const o = len;
      b[o] = size & 0xff;
      b[o + 1] = size >>> 8;
      b[o + 2] = kind;
      b[o + 3] = 0;
      b[o + 4] = id & 0xff;
      b[o + 5] = (id >>> 8) & 0xff;
      b[o + 6] = (id >>> 16) & 0xff;
      b[o + 7] = id >>> 24;
      b.set(datagram, o + RECORD_HEADER_BYTES);
      len = o + need;
      count++;
      datagrams++;
      return true;
    },
    flush,
    done(length, buffer) {
      queuedBytes -= length;
      if (queuedBytes < 0) queuedBytes = 0;
      if (buffer !== undefined && buffer.byteLength === batchBytes) free.push(buffer);
    },
    pendingCount: () => count,
    stats: () => ({ datagrams, dropped, batches, queuedBytes, exporterIds: ids.size }),
  };
}

/** The worker's side: exporter names by id, and a walk over a batch's datagrams. */
export function createBatchReader() {
  let names: string[] = [];
  return {
    /** Calls fn for each datagram; the views point into batch.buffer and die with the call. */
    read(batch: DatagramBatch, fn: (datagram: Uint8Array, exporter: string, kind: number) => void): void {
      if (batch.resetNames) names = [];
      for (let i = 0; i < batch.names.length; i++) names[batch.firstNameId + i] = batch.names[i];
      const b = new Uint8Array(batch.buffer, 0, batch.length);
      let o = 0;
      for (let n = 0; n < batch.count && o + RECORD_HEADER_BYTES <= b.length; n++) {
        const size = b[o] | (b[o + 1] << 8);
        const kind = b[o + 2];
        const id = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
        const start = o + RECORD_HEADER_BYTES;
        o = start + size;
        if (o > b.length) break; // cannot happen with our writer; never read past the batch
        fn(b.subarray(start, o), names[id] ?? '', kind);
      }
    },
  };
}
