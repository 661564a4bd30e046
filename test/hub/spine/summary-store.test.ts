import t from 'tap';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { summaryStoreContract } from './summary-store.contract';
import { decodeDayChunk, emptyDayChunk, addToSlot, encodeDayChunk } from '../../../hub/store/day-chunk';

t.test('memory backend', async (t) => summaryStoreContract(t, async () => createMemoryKvStore()));
t.test('LevelDB backend', async (t) => {
  let n = 0;
  const dir = t.testdir({});
  summaryStoreContract(t, () => openLevelKvStore(`${dir}/db${n++}`));
});

t.test('day chunk: sparse and compact; foreign bytes are refused loudly', async (t) => {
  const chunk = emptyDayChunk();
  addToSlot(chunk, 287, { bytesIn: 1e12, bytesOut: 1, packetsIn: 2, packetsOut: 3, flowsIn: 4, flowsOut: 5 });
  const bytes = encodeDayChunk(chunk);
  t.ok(bytes.length < 60, `one slot is ${bytes.length} bytes`);
  t.same(decodeDayChunk(bytes).values.slice(287 * 6), Float64Array.from([1e12, 1, 2, 3, 4, 5]));
  t.throws(() => decodeDayChunk(bytes.subarray(0, bytes.length - 1)), /truncated/);
  t.throws(() => decodeDayChunk(Uint8Array.from([9, 0])), /unknown layout/);
});
