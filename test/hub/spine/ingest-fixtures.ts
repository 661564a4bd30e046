import { AckStatus, SubjectKind, ackCodec, summaryBatchCodec, type Ack, type Summary, type SummaryBatch } from '../../../proto/codec';
import type { MqttPublisher } from '../../../hub/broker/mqtt-publisher';

export const T0_SEC = Date.UTC(2026, 10, 2) / 1000; // 2026-11-02T00:00Z

export function makeSummary(subjectId: string, bucketStartSec: number, bytesIn: number, extra: Partial<Summary> = {}): Summary {
  return {
    subjectId, subjectKind: subjectId.startsWith('ipg:') ? SubjectKind.IP_GROUP : SubjectKind.INTERFACE, bucketStartSec, durationSec: 300,
    bytesIn, bytesOut: 1, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1, revision: 0, ...extra,
  };
}

export function makeBatch(edgeId: string, tenantId: string, seq: number, summaries: Summary[], extra: Partial<SummaryBatch> = {}): SummaryBatch {
  return { edgeId, tenantId, seq, createdAtMs: 0, oldestUnackedSeq: seq, summaries, ...extra };
}

export const encodeBatch = (b: SummaryBatch) => summaryBatchCodec.encode(b);

/** A publisher that records what was published, in order, with an optional hook. */
export function recordingPublisher(onPublish?: (topic: string) => void) {
  const published: { topic: string; payload: Uint8Array; qos: number; retain: boolean }[] = [];
  const publisher: MqttPublisher = {
    async publish(topic, payload, opts) {
      onPublish?.(topic);
      published.push({ topic, payload, qos: opts.qos, retain: !!opts.retain });
    },
  };
  const acks = (): Ack[] => published.filter((p) => p.topic.endsWith('/ack')).map((p) => ackCodec.decode(p.payload));
  return { publisher, published, acks };
}

export { AckStatus };
