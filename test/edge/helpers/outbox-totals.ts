import { collect, prefixRange, type KeyValueStore } from '../../../common/kv/kv-store';
import { summaryBatchCodec } from '../../../proto/codec';

/** Bytes in and out over every summary of every batch in an edge's outbox, as the hub would receive them. */
export async function outboxTotals(kv: KeyValueStore) {
  let bytesIn = 0, bytesOut = 0, batches = 0;
  for (const [, v] of await collect(kv, prefixRange('outbox/batch/'))) {
    batches++;
    for (const s of summaryBatchCodec.decode(v).summaries) { bytesIn += s.bytesIn; bytesOut += s.bytesOut; }
  }
  return { bytesIn, bytesOut, batches };
}
