/**
 * The threaded edge (FLOWBILL_EDGE_THREADS=2): this thread only reads the UDP socket and copies each
 * datagram, with its exporter and listener kind, into a batch buffer (datagram-batch.ts); about once
 * a millisecond, or when the buffer is full, the batch is posted to ONE worker thread
 * (edge-worker.ts) that runs the whole unchanged edge: decode, classify, aggregate, outbox, MQTT,
 * checkpoints, LevelDB. A checkpoint or a GC pause in the worker no longer stops the socket being
 * read; the queue between the threads absorbs it.
 *
 * - Back-pressure: the queue is bounded in bytes (threadQueueBytes); when it is full the reader
 *   drops the datagram and counts it (status counter datagrams_dropped). It never blocks or grows.
 * - Buffers: full batches are transferred (no copy) and handed back for reuse; a nearly empty batch
 *   (low rate, the timer fired) goes as a small copy. Per datagram: one memcpy, no postMessage.
 * - Decoding state: one worker holds every exporter's templates and sampling (NOTES: keep it in one
 *   place). The hand-off carries an exporter id, so sharding over several workers keyed by exporter
 *   is possible later; with two cores, one reader plus one worker is the fit.
 * - Durability: a datagram in the queue at a kill -9 is lost like one in the kernel's socket buffer;
 *   what was checkpointed is the worker's createEdge logic, unchanged. stop() closes the sockets,
 *   posts the last batch, and the worker ingests everything before its final checkpoint (messages on
 *   a port are ordered).
 * - Native reader (config udpReader, edge/receive/native-udp-reader.ts): the sockets are read by the
 *   addon's C threads into one SharedArrayBuffer ring each, handed to the worker in workerData; the
 *   worker drains them itself and this thread never touches a datagram (no batches, no queue drops:
 *   a full ring makes the C thread wait and the kernel's buffer absorbs, its drops in /proc/net/udp).
 *   stop() drains and closes the sockets and joins the threads; the worker's 'stop' drains the rings
 *   before the final checkpoint.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger';
import type { EdgeConfig as CollectionConfig } from '../../proto/codec';
import type { EdgeAgentConfig } from '../config';
import type { DatagramKind, EdgeStatusReport } from '../create-edge';
import { createUdpReceiver, type UdpReceiver } from '../receive/udp-receiver';
import { chooseNativeUdpReader } from '../receive/choose-udp-reader';
import { setReaderNice } from '../receive/reader-priority';
import { createDatagramRing, ringUsedBytes, type DatagramRing } from '../receive/datagram-ring';
import type { NativeReaderStats, NativeSocket } from '../receive/native-udp-reader';
import { createBatchWriter, DATAGRAM_KINDS, type DatagramBatch } from './datagram-batch';
import type { EdgeWorkerData, HostMessage, WorkerMessage } from './worker-messages';

/** One-shot timers for the batch flush (injected; tests pass their own). */
export interface FlushTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemFlushTimers: FlushTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ThreadedEdgeDeps {
  config: Readonly<EdgeAgentConfig>;
  log: Logger;
  store: EdgeWorkerData['store'];
  /** false: no MQTT in the worker (benches). Default true. */
  publish?: boolean;
  /** false: no UDP socket; feed datagrams through ingest() (tests, benches). Default true. */
  listenUdp?: boolean;
  /** The worker's pino level, or 'silent'. Default LOG_LEVEL or 'info'. */
  workerLogLevel?: string;
  /** A batch is posted at the latest this long after its first datagram. Default 1 ms. */
  batchFlushMs?: number;
  /** Size of one batch buffer. Default 256 KiB. */
  batchBytes?: number;
  timers?: FlushTimers;
  /** The worker died or could not start after start() resolved: the process should exit nonzero. */
  onFatal?: (err: Error) => void;
}

export interface ThreadedEdge {
  start(): Promise<{ udpPort: number | undefined; udpRecvBufferBytes: number | undefined; sflowPort: number | undefined }>;
  /**
   * Clean shutdown: close the socket, post the last batch, the worker ingests the whole queue, then
   * the edge's clean stop (final checkpoint, OFFLINE) and the store closes. Resolves with the final
   * status; rejects (after all that) when the final checkpoint could not be written: exit nonzero.
   */
  stop(): Promise<EdgeStatusReport>;
  /** One datagram (what the socket calls). Never throws; a full queue drops and counts it. */
  ingest(datagram: Uint8Array, exporter: string, kind?: DatagramKind): void;
  applyCollectionConfig(config: CollectionConfig): Promise<void>;
  /** The worker's edge status, with this thread's drop count. */
  status(): Promise<EdgeStatusReport>;
  /** This thread's figures: datagrams queued, dropped, batches posted, bytes in the queue. */
  receiverStats(): { datagrams: number; dropped: number; batches: number; queuedBytes: number; exporterIds: number };
}

const NETFLOW = DATAGRAM_KINDS.indexOf('netflow');

export function createThreadedEdge(deps: ThreadedEdgeDeps): ThreadedEdge {
  const { config, log } = deps;
  const timers = deps.timers ?? systemFlushTimers;
  const flushMs = deps.batchFlushMs ?? 1;
  let worker: Worker | undefined;
  let udp: UdpReceiver | undefined;
  let udpPort: number | undefined;
  let sflowUdp: UdpReceiver | undefined;
  let sflowPort: number | undefined;
  // The native reader (config udpReader): its C threads fill one ring per socket and the worker
  // drains them; this thread then only opens and closes the sockets (no datagram passes here).
  const nativeSockets: Array<{ kind: DatagramKind; socket: NativeSocket; ring: DatagramRing }> = [];
  let stopping = false;
  let flushTimer: unknown;
  let nextId = 1;
  const replies = new Map<number, { resolve(m: WorkerMessage & { t: 'reply' }): void; reject(err: Error): void }>();

  const writer = createBatchWriter({
    maxQueuedBytes: config.threadQueueBytes,
    batchBytes: deps.batchBytes ?? 256 * 1024,
    maxExporterIds: Math.max(1024, config.maxExporters * 2),
    post(batch: DatagramBatch) {
      const m: HostMessage = { t: 'batch', batch, dropped: writer.stats().dropped };
      worker!.postMessage(m, [batch.buffer]);
    },
  });
  let loggedDrop = false;

  function flushNow(): void {
    flushTimer = undefined;
    writer.flush();
  }

  function ingest(datagram: Uint8Array, exporter: string, kind?: DatagramKind): void {
    if (worker === undefined) return;
    const k = kind === undefined ? NETFLOW : DATAGRAM_KINDS.indexOf(kind);
    if (!writer.write(datagram, exporter, k)) {
      if (!loggedDrop) {
        loggedDrop = true; // then only counted: datagrams_dropped in every status
        log.warn({ threadQueueBytes: config.threadQueueBytes }, 'the queue to the decoding thread is full: dropping datagrams (counted in datagrams_dropped)');
      }
      return;
    }
    if (flushTimer === undefined && writer.pendingCount() > 0) flushTimer = timers.setTimeout(flushNow, flushMs);
  }

  function request(m: HostMessage & { id: number }): Promise<WorkerMessage & { t: 'reply' }> {
    return new Promise((resolve, reject) => {
      if (worker === undefined) { reject(new Error('the edge worker is not running')); return; }
      replies.set(m.id, { resolve, reject });
      worker.postMessage(m);
    });
  }

  function failAll(err: Error): void {
    for (const r of replies.values()) r.reject(err);
    replies.clear();
  }

  function startWorker(rings: EdgeWorkerData['rings']): Promise<number | undefined> {
    const data: EdgeWorkerData = {
      config: { ...config }, store: deps.store, publish: deps.publish !== false,
      logLevel: deps.workerLogLevel ?? process.env.LOG_LEVEL ?? 'info', rings,
    };
    // execArgv [] : the bootstrap registers tsx itself (inheriting --import tsx would register it twice).
    const w = new Worker(new URL('./edge-worker-bootstrap.mjs', import.meta.url), { workerData: data, execArgv: [] });
    worker = w;
    return new Promise((resolve, reject) => {
      let started = false;
      w.on('message', (m: WorkerMessage) => {
        switch (m.t) {
          case 'done': writer.done(m.length, m.buffer); return;
          case 'reply': { const r = replies.get(m.id); replies.delete(m.id); r?.resolve(m); return; }
          case 'started': started = true; resolve(m.udpRecvBufferBytes); return;
          case 'fatal': {
            const err = new Error(`edge worker: ${m.error}`);
            if (!started) reject(err); else deps.onFatal?.(err);
            return;
          }
        }
      });
      w.on('error', (err) => {
        log.error({ err }, 'edge worker crashed');
        failAll(err);
        if (!started) reject(err); else deps.onFatal?.(err);
      });
      w.on('exit', (code) => {
        worker = undefined;
        const err = new Error(`edge worker exited (code ${code})`);
        failAll(err);
        if (!started) reject(err);
        else if (!stopping) { log.error({ code }, 'edge worker exited unexpectedly'); deps.onFatal?.(err); }
      });
    });
  }

  function withDrops(s: EdgeStatusReport): EdgeStatusReport {
    return { ...s, counters: { ...s.counters, datagramsDropped: writer.stats().dropped }, udpPort, sflowPort };
  }

  return {
    async start() {
      const listen = deps.listenUdp !== false;
      const nativeReader = listen ? chooseNativeUdpReader(config.udpReader, config.udpHost, log) : undefined;
      // Rings before the worker: they travel in its workerData. Each is bounded like the batch queue.
      const rings = nativeReader === undefined ? undefined : {
        netflow: createDatagramRing(config.threadQueueBytes),
        sflow: config.sflowPort >= 0 ? createDatagramRing(config.threadQueueBytes) : undefined,
      };
      const ringData: EdgeWorkerData['rings'] = rings === undefined ? undefined
        : [{ sab: rings.netflow.sab, kind: 'netflow' as const }, ...(rings.sflow ? [{ sab: rings.sflow.sab, kind: 'sflow' as const }] : [])];
      const udpRecvBufferBytes = await startWorker(ringData);
      // After the worker exists (a thread inherits its creator's nice), before the native reader's thread.
      setReaderNice(config.readerNice, log);
      let granted: number | undefined = udpRecvBufferBytes;
      if (nativeReader !== undefined && rings !== undefined && !stopping) {
        const nf = nativeReader.open({ host: config.udpHost, port: config.udpPort, recvBufferBytes: config.udpRecvBufferBytes, ring: rings.netflow });
        nativeSockets.push({ kind: 'netflow', socket: nf, ring: rings.netflow });
        udpPort = nf.port;
        granted = nf.recvBufferBytes;
        warnSmallBuffer(nf.recvBufferBytes);
        log.info({ address: config.udpHost, port: nf.port, recvBufferBytes: nf.recvBufferBytes, threads: 2, reader: 'native', ringBytes: rings.netflow.capacity }, 'listening for NetFlow/IPFIX');
        if (rings.sflow !== undefined) {
          const sf = nativeReader.open({ host: config.udpHost, port: config.sflowPort, recvBufferBytes: config.udpRecvBufferBytes, ring: rings.sflow });
          nativeSockets.push({ kind: 'sflow', socket: sf, ring: rings.sflow });
          sflowPort = sf.port;
          log.info({ address: config.udpHost, port: sf.port, recvBufferBytes: sf.recvBufferBytes, threads: 2, reader: 'native' }, 'listening for sFlow v5');
        }
      } else if (listen && !stopping) { // a SIGTERM during start: no socket after stop()
        udp = createUdpReceiver({
          host: config.udpHost, port: config.udpPort, recvBufferBytes: config.udpRecvBufferBytes,
          log: log.child({ module: 'receive' }), onDatagram: (d, e) => ingest(d, e),
        });
        const bound = await udp.start();
        udpPort = bound.port;
        granted = bound.recvBufferBytes;
        log.info({ address: bound.address, port: bound.port, recvBufferBytes: bound.recvBufferBytes, threads: 2, threadQueueBytes: config.threadQueueBytes }, 'listening for NetFlow/IPFIX');
        if (config.sflowPort >= 0) { // as create-edge.ts does, but on this thread: one queue, kind 'sflow'
          sflowUdp = createUdpReceiver({
            host: config.udpHost, port: config.sflowPort, recvBufferBytes: config.udpRecvBufferBytes,
            log: log.child({ module: 'receive-sflow' }), onDatagram: (d, e) => ingest(d, e, 'sflow'),
          });
          const sf = await sflowUdp.start();
          sflowPort = sf.port;
          log.info({ address: sf.address, port: sf.port, recvBufferBytes: sf.recvBufferBytes, threads: 2 }, 'listening for sFlow v5');
        }
      }
      return { udpPort, udpRecvBufferBytes: granted, sflowPort };
    },

    async stop() {
      if (stopping) throw new Error('already stopping');
      stopping = true;
      await udp?.stop();
      await sflowUdp?.stop();
      // Each native socket drains the kernel's buffer into its ring (the worker keeps draining the
      // ring meanwhile), its thread is joined and the socket closed; the worker's 'stop' then drains
      // the rings completely before the final checkpoint.
      for (const n of nativeSockets) await n.socket.stop();
      if (nativeSockets.length > 0) {
        log.info({ ...nativeFigures(), ringBytesLeft: nativeSockets.reduce((a, n) => a + ringUsedBytes(n.ring), 0) }, 'native UDP reader stopped');
      }
      if (flushTimer !== undefined) { timers.clearTimeout(flushTimer); flushTimer = undefined; }
      if (worker === undefined) throw new Error('the edge worker is not running');
      writer.flush(); // the last batch; the worker ingests it before 'stop' (one ordered port)
      const w = worker;
      const reply = await request({ t: 'stop', id: nextId++, dropped: writer.stats().dropped });
      await w.terminate().catch(() => undefined);
      const final = withDrops(reply.status!);
      if (reply.error !== undefined) {
        const err = new Error(reply.error) as Error & { status?: EdgeStatusReport; storeHealth?: unknown };
        err.status = final;
        err.storeHealth = reply.storeHealth;
        throw err;
      }
      return final;
    },

    ingest,

    async applyCollectionConfig(c) {
      const reply = await request({ t: 'config', id: nextId++, config: c });
      if (reply.error !== undefined) throw new Error(reply.error);
    },

    async status() {
      const reply = await request({ t: 'status', id: nextId++, dropped: writer.stats().dropped });
      return withDrops(reply.status!);
    },

    receiverStats() {
      if (nativeSockets.length === 0) return writer.stats();
      const f = nativeFigures();
      return { datagrams: f.datagrams, dropped: 0, batches: 0, queuedBytes: nativeSockets.reduce((a, n) => a + ringUsedBytes(n.ring), 0), exporterIds: 0 };
    },
  };

  /** The native reader's figures over its sockets (datagrams, bytes, ring-full waits, truncated, errors). */
  function nativeFigures(): NativeReaderStats {
    const sum: NativeReaderStats = { datagrams: 0, bytes: 0, ringFullWaits: 0, truncated: 0, errors: 0 };
    for (const n of nativeSockets) {
      const s = n.socket.stats();
      sum.datagrams += s.datagrams; sum.bytes += s.bytes; sum.ringFullWaits += s.ringFullWaits; sum.truncated += s.truncated; sum.errors += s.errors;
    }
    return sum;
  }

  function warnSmallBuffer(granted: number): void {
    // Linux reports twice what it grants; warn only if clearly below the request (as udp-receiver.ts).
    if (granted * 2 < config.udpRecvBufferBytes) log.warn({ requested: config.udpRecvBufferBytes, granted }, 'UDP receive buffer smaller than configured (raise net.core.rmem_max)');
  }
}
