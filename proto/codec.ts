/**
 * TypeScript binding of proto/flowbill.proto: typed encode/decode for each message.
 * The .proto file is loaded at start with protobufjs reflection, so the schema has one source of truth.
 * 64-bit fields come out as JS numbers; every count we carry stays far below 2^53.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROTO_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'flowbill.proto');

const root = protobuf.loadSync(PROTO_PATH);
const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true };

export const SubjectKind = { UNSPECIFIED: 0, INTERFACE: 1, IP_GROUP: 2 } as const;
export type SubjectKind = (typeof SubjectKind)[keyof typeof SubjectKind];
export const AckStatus = { UNSPECIFIED: 0, STORED: 1, DUPLICATE: 2, REJECTED: 3 } as const;
export type AckStatus = (typeof AckStatus)[keyof typeof AckStatus];
export const EdgeState = { UNSPECIFIED: 0, BIRTH: 1, ONLINE: 2, OFFLINE: 3 } as const;
export type EdgeState = (typeof EdgeState)[keyof typeof EdgeState];

export interface Summary {
  subjectId: string;
  subjectKind: SubjectKind;
  bucketStartSec: number;
  durationSec: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  flowsIn: number;
  flowsOut: number;
  revision: number;
}

export interface SummaryBatch {
  edgeId: string;
  tenantId: string;
  seq: number;
  createdAtMs: number;
  oldestUnackedSeq: number;
  summaries: Summary[];
}

/** What the hub stored (published on .../stored): see StoredBatch in flowbill.proto. */
export interface StoredBatch {
  edgeId: string;
  tenantId: string;
  storedSeq: number;
  edgeSeq: number;
  storedAtMs: number;
  summaries: Summary[];
}

export interface Ack {
  edgeId: string;
  seq: number;
  status: AckStatus;
  reason: string;
}

export interface Counters {
  packetsReceived: number;
  flowsDecoded: number;
  decodeErrors: number;
  templateMisses: number;
  pendingExpired: number;
  sequenceGaps: number;
  outboxDepth: number;
  outboxBytes: number;
  outboxDropped: number;
  batchesPublished: number;
  batchesAcked: number;
  lateFlows: number;
  unclassifiedFlows: number;
  batchesRejected: number;
  flowsOutOfBounds: number;
  tableEvictions: number;
  internalErrors: number;
  storeWriteErrors: number;
  datagramsDropped: number;
}

export interface ExporterStatus {
  address: string;
  netflowVersion: number;
  packets: number;
  flows: number;
  sequenceGaps: number;
  lastSeenMs: number;
  templates: number;
  samplingRate: number;
  bytes: number;
  flowsOutOfBounds: number;
  /** 'netflow' | 'ipfix' | 'sflow'; '' (absent) from older edges. */
  protocol?: string;
  datagramsLost?: number;
  samplesDropped?: number;
  ifCounters?: InterfaceCounters[];
  /** ifName/ifDescr from the exporter's options data (IE 82/83), per ifIndex; capped on the edge. */
  interfaceNames?: InterfaceName[];
}

/** One interface's names as the exporter sent them (see InterfaceName in flowbill.proto). */
export interface InterfaceName {
  ifIndex: number;
  name: string;
  description: string;
}

/** sFlow generic interface counters of one interface (see InterfaceCounters in flowbill.proto). */
export interface InterfaceCounters {
  ifIndex: number;
  ifSpeed: number;
  inOctets: number;
  outOctets: number;
  inErrors: number;
  outErrors: number;
  inDiscards: number;
  outDiscards: number;
  ifStatus: number;
  lastSeenMs: number;
}

export interface EdgeStatus {
  edgeId: string;
  tenantId: string;
  state: EdgeState;
  session: number;
  atMs: number;
  softwareVersion: string;
  counters: Counters;
  exporters: ExporterStatus[];
  configVersion: number;
  collectionPaused: boolean;
}

export interface IpGroup { name: string; prefixes: string[] }
export interface InterfaceRef { exporter: string; ifIndex: number }

export interface EdgeConfig {
  version: number;
  collectionPaused: boolean;
  pauseReason: string;
  allInterfaces: boolean;
  interfaces: InterfaceRef[];
  ipGroups: IpGroup[];
}

export interface Talker {
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  bytes: number;
  packets: number;
  bitsPerSec: number;
  exporter: string;
}

export interface LiveFlows {
  edgeId: string; atMs: number; windowSec: number; talkers: Talker[];
  /** 0, 1 or absent: every record counted; N: estimated from about 1 in N records (proto sampling_one_in). */
  samplingOneIn?: number;
}

interface Codec<T> {
  encode(message: T): Uint8Array;
  /** Throws a plain Error on malformed bytes; callers count and log it. */
  decode(bytes: Uint8Array): T;
}

function codecFor<T>(typeName: string): Codec<T> {
  const type = root.lookupType(typeName);
  return {
    encode(message: T): Uint8Array {
      const err = type.verify(message as Record<string, unknown>);
      if (err) throw new Error(`${typeName}: ${err}`);
      return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    },
    decode(bytes: Uint8Array): T {
      return type.toObject(type.decode(bytes), toObjectOptions) as T;
    },
  };
}

export const summaryBatchCodec = codecFor<SummaryBatch>('flowbill.v1.SummaryBatch');
export const storedBatchCodec = codecFor<StoredBatch>('flowbill.v1.StoredBatch');
export const ackCodec = codecFor<Ack>('flowbill.v1.Ack');
export const edgeStatusCodec = codecFor<EdgeStatus>('flowbill.v1.EdgeStatus');
export const edgeConfigCodec = codecFor<EdgeConfig>('flowbill.v1.EdgeConfig');
export const liveFlowsCodec = codecFor<LiveFlows>('flowbill.v1.LiveFlows');

export function emptyCounters(): Counters {
  return {
    packetsReceived: 0, flowsDecoded: 0, decodeErrors: 0, templateMisses: 0, pendingExpired: 0,
    sequenceGaps: 0, outboxDepth: 0, outboxBytes: 0, outboxDropped: 0, batchesPublished: 0,
    batchesAcked: 0, lateFlows: 0, unclassifiedFlows: 0, batchesRejected: 0, flowsOutOfBounds: 0,
    tableEvictions: 0, internalErrors: 0, storeWriteErrors: 0, datagramsDropped: 0,
  };
}
