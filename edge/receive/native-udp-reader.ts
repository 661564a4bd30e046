/**
 * The native UDP reader (native/udp_batch_reader.c, built by `npm run build:native`): one pthread
 * per socket reads with recvmmsg straight into a SharedArrayBuffer ring (datagram-ring.ts); a JS
 * thread drains the ring in place. Per datagram the JS side costs a typed-array view and a cached
 * exporter string, instead of dgram's zero-filled 64 KiB buffer, Buffer, rinfo object and event.
 *
 * - loadNativeUdpReader(): the addon, or undefined when it is not built or this is not Linux
 *   (nativeUdpReaderUnavailable() says why).
 * - drainRing(): reads records in place and advances the read index.
 * - startRingPump(): drains rings from the event loop while data is present (setImmediate between
 *   drains so timers, MQTT and checkpoints still run; a short setTimeout when empty).
 * - createNativeUdpReceiver(): the UdpReceiver contract (udp-receiver.ts) on the native reader, the
 *   ring drained on the calling thread (FLOWBILL_EDGE_THREADS=1).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from '../../common/logger';
import { isIpv4MappedBytes, formatIpBytes } from '../../common/ip-prefix';
import {
  createDatagramRing, READ_INDEX_SLOT, RECORD_HEADER_BYTES, RING_HEADER_BYTES, WRAP_MARKER, WRITE_INDEX_SLOT,
  type DatagramRing,
} from './datagram-ring';
import type { DatagramHandler, UdpReceiver } from './udp-receiver';

export interface NativeReaderStats {
  datagrams: number;
  bytes: number;
  /** Times the reader thread found the ring full and waited (~100 µs each) instead of reading. */
  ringFullWaits: number;
  /** Datagrams larger than a slot (slotPayloadBytes): counted and skipped. */
  truncated: number;
  errors: number;
}

/** The addon's functions (udp_batch_reader.c). */
interface NativeAddon {
  open(opts: { host: string; port: number; recvBufferBytes: number; ring: Uint8Array; slotPayloadBytes: number }): { handle: object; port: number; recvBufferBytes: number; family: number };
  requestStop(handle: object): void;
  stopped(handle: object): boolean;
  close(handle: object): void;
  stats(handle: object): NativeReaderStats;
}

export interface NativeSocketOptions {
  host: string;
  port: number;
  recvBufferBytes: number;
  ring: DatagramRing;
  /** Largest datagram kept (bigger ones are counted as truncated). Default 65536: any UDP datagram. */
  slotPayloadBytes?: number;
}

export interface NativeSocket {
  port: number;
  /** What the kernel granted (Linux reports twice the usable size), as udp-receiver.ts reports. */
  recvBufferBytes: number;
  stats(): NativeReaderStats;
  /**
   * As udp-receiver.ts's stop: the thread drains the socket until 25 ms quiet (at most 500 ms), then
   * exits; the socket is closed after the join. The ring must keep being drained meanwhile (a full
   * ring stops the thread reading); this only polls, it never blocks the event loop.
   */
  stop(): Promise<void>;
}

export interface NativeUdpReader {
  open(opts: NativeSocketOptions): NativeSocket;
}

export const DEFAULT_SLOT_PAYLOAD_BYTES = 65536;
const ADDON_PATH = new URL('./native/build/Release/udp_batch_reader.node', import.meta.url);
const STOP_POLL_MS = 5;

let unavailable: string | undefined;
let loaded: NativeUdpReader | undefined;

/** Why loadNativeUdpReader() returned undefined (after a call), else undefined. */
export function nativeUdpReaderUnavailable(): string | undefined {
  return unavailable;
}

/** The native reader, or undefined when it cannot be used here (nativeUdpReaderUnavailable() says why). */
export function loadNativeUdpReader(): NativeUdpReader | undefined {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') { unavailable = `the native UDP reader is Linux-only (this is ${process.platform})`; return undefined; }
  if (!existsSync(ADDON_PATH)) { unavailable = 'the native UDP reader is not built (npm run build:native)'; return undefined; }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH.pathname) as NativeAddon;
  } catch (err) {
    unavailable = `the native UDP reader does not load (${(err as Error).message}); rebuild it: npm run build:native`;
    return undefined;
  }
  unavailable = undefined;
  loaded = { open: (opts) => openSocket(addon, opts) };
  return loaded;
}

function openSocket(addon: NativeAddon, opts: NativeSocketOptions): NativeSocket {
  const r = addon.open({
    host: opts.host, port: opts.port, recvBufferBytes: opts.recvBufferBytes,
    ring: new Uint8Array(opts.ring.sab), slotPayloadBytes: opts.slotPayloadBytes ?? DEFAULT_SLOT_PAYLOAD_BYTES,
  });
  const handle = r.handle;
  let closed = false;
  let lastStats: NativeReaderStats | undefined;
  return {
    port: r.port,
    recvBufferBytes: r.recvBufferBytes,
    stats: () => (closed ? lastStats! : addon.stats(handle)),
    async stop() {
      if (closed) return;
      addon.requestStop(handle);
      while (!addon.stopped(handle)) await new Promise((res) => setTimeout(res, STOP_POLL_MS));
      lastStats = addon.stats(handle);
      addon.close(handle); // joins (already exited) and closes the socket
      closed = true;
    },
  };
}

// ---- draining

/**
 * Exporter strings by address, so a datagram costs a Map lookup, not a string: the same text as
 * Node's rinfo.address after udp-receiver.ts's normalizeExporterAddress (IPv4-mapped IPv6 is the
 * dotted quad; IPv6 in RFC 5952 form). Bounded: beyond MAX_CACHED_EXPORTERS entries it starts over
 * (spoofed sources must not grow it; real exporters are re-added on their next datagram).
 */
const MAX_CACHED_EXPORTERS = 4096;
const v4Names = new Map<number, string>();
const v6Names = new Map<string, string>();
const addrScratch = new Uint8Array(16);

function v4Name(key: number, bytes: Uint8Array, at: number): string {
  let name = v4Names.get(key);
  if (name === undefined) {
    if (v4Names.size >= MAX_CACHED_EXPORTERS) v4Names.clear();
    name = `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
    v4Names.set(key, name);
  }
  return name;
}

function v6Name(view: DataView, bytes: Uint8Array, at: number): string {
  const key = `${view.getUint32(at, true)},${view.getUint32(at + 4, true)},${view.getUint32(at + 8, true)},${view.getUint32(at + 12, true)}`;
  let name = v6Names.get(key);
  if (name === undefined) {
    if (v6Names.size >= MAX_CACHED_EXPORTERS) v6Names.clear();
    addrScratch.set(bytes.subarray(at, at + 16));
    name = isIpv4MappedBytes(addrScratch) ? formatIpBytes(addrScratch.subarray(12)) : formatIpBytes(addrScratch);
    v6Names.set(key, name);
  }
  return name;
}

/** The exporter text of a record's (family, address); exported for tests. */
export function exporterOfRecord(ring: DatagramRing, recordAt: number): string {
  const at = recordAt + 12;
  return ring.bytes[recordAt + 8] === 4 ? v4Name(ring.view.getUint32(at, true), ring.bytes, at) : v6Name(ring.view, ring.bytes, at);
}

/**
 * Hands each record between the read and write index to onDatagram, then publishes the new read
 * index (freeing the space for the writer). At most maxRecords per call. Returns how many were read.
 *
 * The payload is a VIEW into the ring, not a copy: it is valid only during the callback; the writer
 * may overwrite it right after. A callee that keeps bytes must copy them (the decoder's held data
 * does: bytes.slice).
 */
export function drainRing(ring: DatagramRing, onDatagram: (payload: Uint8Array, exporter: string) => void, maxRecords = Infinity): number {
  const { indexes, view, sab } = ring;
  const w = Atomics.load(indexes, WRITE_INDEX_SLOT); // acquire: the records below w are complete
  let r = Atomics.load(indexes, READ_INDEX_SLOT);
  let n = 0;
  try {
    while (r !== w && n < maxRecords) {
      const recordBytes = view.getUint32(r, true);
      if (recordBytes === WRAP_MARKER) { r = 0; continue; }
      const payloadBytes = view.getUint32(r + 4, true);
      const exporter = exporterOfRecord(ring, r);
      const payload = new Uint8Array(sab, RING_HEADER_BYTES + r + RECORD_HEADER_BYTES, payloadBytes);
      r += recordBytes;
      if (r === ring.capacity) r = 0;
      n++;
      onDatagram(payload, exporter);
    }
  } finally {
    Atomics.store(indexes, READ_INDEX_SLOT, r); // release: the writer may reuse what was read
  }
  return n;
}

// ---- the pump

export interface RingSource {
  ring: DatagramRing;
  onDatagram: (payload: Uint8Array, exporter: string) => void;
}

export interface PumpTimers {
  setImmediate(fn: () => void): unknown;
  setTimeout(fn: () => void, ms: number): unknown;
  clearImmediate(h: unknown): void;
  clearTimeout(h: unknown): void;
}

const systemPumpTimers: PumpTimers = {
  setImmediate: (fn) => globalThis.setImmediate(fn),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearImmediate: (h) => globalThis.clearImmediate(h as ReturnType<typeof setImmediate>),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface RingPump {
  /** Drains every ring now, completely (a clean stop calls it after the sockets are closed). */
  drainAll(): number;
  /** No more scheduled drains. */
  stop(): void;
  stats(): { drained: number; handlerErrors: number };
}

/** A drain of at most this many records, then the event loop runs (timers, MQTT, checkpoints). */
const RECORDS_PER_TURN = 2048;
/** Nothing was waiting: look again this much later. */
const IDLE_MS = 1;

export function startRingPump(sources: RingSource[], opts: { log: Logger; timers?: PumpTimers }): RingPump {
  const timers = opts.timers ?? systemPumpTimers;
  let drained = 0;
  let handlerErrors = 0;
  let stopped = false;
  let immediate: unknown;
  let timeout: unknown;
  // One datagram's throw must not stop the rest (create-edge's ingest already never throws).
  const guarded = sources.map((s) => ({
    ring: s.ring,
    onDatagram: (p: Uint8Array, e: string) => {
      try { s.onDatagram(p, e); } catch (err) {
        handlerErrors++;
        if (handlerErrors === 1 || handlerErrors % 10_000 === 0) opts.log.error({ err, handlerErrors }, 'datagram handler threw');
      }
    },
  }));
  function drainOnce(max: number): number {
    let n = 0;
    for (const s of guarded) n += drainRing(s.ring, s.onDatagram, max);
    drained += n;
    return n;
  }
  function turn(): void {
    immediate = undefined;
    timeout = undefined;
    if (stopped) return;
    const n = drainOnce(RECORDS_PER_TURN);
    if (n > 0) immediate = timers.setImmediate(turn);
    else timeout = timers.setTimeout(turn, IDLE_MS);
  }
  turn();
  return {
    drainAll() {
      let total = 0;
      for (let n = drainOnce(Infinity); n > 0; n = drainOnce(Infinity)) total += n;
      return total;
    },
    stop() {
      stopped = true;
      if (immediate !== undefined) timers.clearImmediate(immediate);
      if (timeout !== undefined) timers.clearTimeout(timeout);
    },
    stats: () => ({ drained, handlerErrors }),
  };
}

// ---- UdpReceiver on the native reader (single-thread edge)

export interface NativeUdpReceiverOptions {
  reader: NativeUdpReader;
  host: string;
  port: number;
  recvBufferBytes: number;
  /** The ring's data area. */
  ringBytes: number;
  log: Logger;
  onDatagram: DatagramHandler;
  timers?: PumpTimers;
}

/** The udp-receiver.ts contract, read natively, the ring drained on this thread. */
export function createNativeUdpReceiver(opts: NativeUdpReceiverOptions): UdpReceiver & { readerStats(): NativeReaderStats | undefined } {
  let socket: NativeSocket | undefined;
  let pump: RingPump | undefined;
  let final: NativeReaderStats | undefined;
  return {
    async start() {
      const ring = createDatagramRing(opts.ringBytes);
      socket = opts.reader.open({ host: opts.host, port: opts.port, recvBufferBytes: opts.recvBufferBytes, ring });
      // The handler gets a view; the UdpReceiver contract says Buffer, and the edge's ingest only reads.
      pump = startRingPump([{ ring, onDatagram: opts.onDatagram as (p: Uint8Array, e: string) => void }], { log: opts.log, timers: opts.timers });
      if (socket.recvBufferBytes * 2 < opts.recvBufferBytes) {
        opts.log.warn({ requested: opts.recvBufferBytes, granted: socket.recvBufferBytes }, 'UDP receive buffer smaller than configured (raise net.core.rmem_max)');
      }
      return { address: opts.host, port: socket.port, recvBufferBytes: socket.recvBufferBytes };
    },
    async stop() {
      if (!socket || !pump) return;
      await socket.stop(); // the pump keeps draining while the socket drains
      pump.stop();
      pump.drainAll();
      final = socket.stats();
      opts.log.info({ ...final }, 'native UDP reader stopped');
      socket = undefined;
    },
    stats: () => ({ datagrams: pump?.stats().drained ?? 0, handlerErrors: pump?.stats().handlerErrors ?? 0 }),
    readerStats: () => socket?.stats() ?? final,
  };
}
