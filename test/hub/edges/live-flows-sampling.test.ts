/** Live flows say when an edge's talkers are estimates (LiveFlows.sampling_one_in, issue 13). */
import t from 'tap';
import { queryLiveFlows } from '../../../hub/edges/live-flows-query';

const talker = (dst: string, bitsPerSec: number) =>
  ({ src: '198.51.100.7', dst, protocol: 6, srcPort: 443, dstPort: 40001, bytes: bitsPerSec / 8, packets: 10, bitsPerSec, exporter: '192.0.2.1' });
const entries = [
  { edgeId: 'exact', receivedAtMs: 1000, flows: { edgeId: 'exact', atMs: 1000, windowSec: 5, talkers: [talker('10.1.0.1', 1_000_000)], samplingOneIn: 0 } },
  { edgeId: 'busy', receivedAtMs: 1000, flows: { edgeId: 'busy', atMs: 1000, windowSec: 5, talkers: [talker('10.2.0.1', 9_000_000)], samplingOneIn: 64 } },
  { edgeId: 'old', receivedAtMs: 1000, flows: { edgeId: 'old', atMs: 1000, windowSec: 5, talkers: [talker('10.3.0.1', 2_000_000)] } },
];

t.test('samplingOneIn: the largest among the edges of the matched talkers, 1 when all counted every record', async (t) => {
  t.equal(queryLiveFlows(entries, {}, []).samplingOneIn, 64);
  t.equal(queryLiveFlows(entries, { address: '10.1.0.0/16' }, []).samplingOneIn, 1, 'sampling_one_in 0: exact');
  t.equal(queryLiveFlows(entries, { address: '10.3.0.0/16' }, []).samplingOneIn, 1, 'an edge from before the field: exact');
  t.equal(queryLiveFlows(entries, { address: '10.9.0.0/16' }, []).samplingOneIn, 1, 'nothing matched');
  t.equal(queryLiveFlows(entries, {}, []).edges[1].flows.samplingOneIn, 64, 'the raw snapshot keeps it');
});
