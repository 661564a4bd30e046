/** What the receiving thread (threaded-edge.ts) and the decoding thread (edge-worker.ts) say to each other. */
import type { EdgeAgentConfig } from '../config';
import type { DatagramKind, EdgeStatusReport } from '../create-edge';
import type { EdgeConfig as CollectionConfig } from '../../proto/codec';
import type { DatagramBatch } from './datagram-batch';

export interface EdgeWorkerData {
  config: EdgeAgentConfig;
  /** LevelDB at path (through the reopening wrapper, as main.ts did), or memory (benches, tests). */
  store: { kind: 'level'; path: string } | { kind: 'memory' };
  /** false: no MQTT (benches). */
  publish: boolean;
  /** pino level, or 'silent'. */
  logLevel: string;
  /**
   * The native reader's rings (edge/receive/datagram-ring.ts), one per socket, filled by its C
   * threads; this worker drains them itself (the receiving thread never touches a datagram). Absent:
   * datagrams come in 'batch' messages (Node dgram on the receiving thread).
   */
  rings?: Array<{ sab: SharedArrayBuffer; kind: DatagramKind }>;
}

export type HostMessage =
  | { t: 'batch'; batch: DatagramBatch; dropped: number }
  | { t: 'config'; id: number; config: CollectionConfig }
  | { t: 'status'; id: number; dropped: number }
  | { t: 'stop'; id: number; dropped: number };

export type WorkerMessage =
  | { t: 'started'; udpRecvBufferBytes: number | undefined }
  | { t: 'fatal'; error: string }
  | { t: 'done'; length: number; buffer?: ArrayBuffer }
  | { t: 'reply'; id: number; error?: string; status?: EdgeStatusReport; storeHealth?: unknown };
