/**
 * The decoding thread of the threaded edge (threaded-edge.ts is the receiving thread): the whole
 * edge pipeline, createEdge with listenUdp:false, unchanged: decode, classify, aggregate, outbox,
 * MQTT, checkpoints, LevelDB. Its kill -9 and exactly-once guarantees are therefore the
 * single-thread edge's: a datagram still in the hand-off queue at a kill is lost like one still in
 * the kernel's socket buffer, and the checkpoint logic is the same code.
 *
 * Messages (in order, on one port): batch → ingest each datagram, hand the buffer back; config →
 * applyCollectionConfig; status → the edge's status; stop → (every batch before it is already
 * ingested, messages are ordered) the edge's clean stop with its final checkpoint, close the store.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../common/clock';
import { createLogger, silentLogger, type Logger } from '../../common/logger';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { openReopeningKvStore } from '../../common/kv/reopening-kv-store';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { createEdge } from '../create-edge';
import { createBatchReader, DATAGRAM_KINDS } from './datagram-batch';
import { wrapDatagramRing } from '../receive/datagram-ring';
import { startRingPump, type RingPump } from '../receive/native-udp-reader';
import type { EdgeWorkerData, HostMessage, WorkerMessage } from './worker-messages';

const port = parentPort!;
const data = workerData as EdgeWorkerData;
const log: Logger = data.logLevel === 'silent' ? silentLogger : createLogger('flowbill-edge', data.logLevel);
const send = (m: WorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

let kv: KeyValueStore & { retryNow?(): void };
if (data.store.kind === 'memory') {
  kv = createMemoryKvStore();
} else {
  const statePath = data.store.path;
  kv = await openReopeningKvStore({ open: () => openLevelKvStore(statePath), log: log.child({ module: 'store' }), clock: systemClock });
}
let dropped = 0;
const edge = createEdge({
  config: data.config, clock: systemClock, log, kv, listenUdp: false, publish: data.publish,
  datagramsDropped: () => dropped,
});
const reader = createBatchReader();
// With the native reader: its rings, drained here while data is present (edge/receive/native-udp-reader.ts).
let pump: RingPump | undefined;
const ingest = edge.ingest;
const onDatagram = (datagram: Uint8Array, exporter: string, kind: number) => ingest(datagram, exporter, DATAGRAM_KINDS[kind] ?? 'netflow');

port.on('message', (m: HostMessage) => {
  switch (m.t) {
    case 'batch': {
      dropped = m.dropped;
      // ingest never throws (create-edge counts it); the views die with this call, then the buffer goes back.
      reader.read(m.batch, onDatagram);
      if (m.batch.pooled) send({ t: 'done', length: m.batch.length, buffer: m.batch.buffer }, [m.batch.buffer]);
      else send({ t: 'done', length: m.batch.length });
      return;
    }
    case 'config':
      edge.applyCollectionConfig(m.config).then(() => send({ t: 'reply', id: m.id }), (err) => send({ t: 'reply', id: m.id, error: String((err as Error)?.message ?? err) }));
      return;
    case 'status':
      dropped = m.dropped;
      send({ t: 'reply', id: m.id, status: edge.status() });
      return;
    case 'stop':
      void stop(m.id, m.dropped);
      return;
  }
});

async function stop(id: number, droppedAtStop: number): Promise<void> {
  dropped = droppedAtStop;
  // The native sockets are closed and their threads joined before 'stop' is posted: what is in the
  // rings now is everything, and it goes in before the final checkpoint.
  pump?.stop();
  pump?.drainAll();
  kv.retryNow?.(); // the final checkpoint tries the disk now, whatever the reopen backoff says
  let failure: unknown;
  try {
    await edge.stop();
  } catch (err) {
    failure = err;
  }
  const status = edge.status();
  try {
    await kv.close();
  } catch (err) {
    failure ??= err;
  }
  send({ t: 'reply', id, status, error: failure === undefined ? undefined : String((failure as Error)?.message ?? failure), storeHealth: (kv as { health?(): unknown }).health?.() });
  port.close();
}

try {
  const started = await edge.start();
  if (data.rings !== undefined && data.rings.length > 0) {
    pump = startRingPump(data.rings.map((r) => {
      const kind = r.kind;
      return { ring: wrapDatagramRing(r.sab), onDatagram: (d: Uint8Array, e: string) => ingest(d, e, kind) };
    }), { log });
  }
  send({ t: 'started', udpRecvBufferBytes: started.udpRecvBufferBytes });
} catch (err) {
  log.error({ err }, 'edge worker could not start');
  send({ t: 'fatal', error: String((err as Error)?.message ?? err) });
}
