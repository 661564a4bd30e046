import t from 'tap';
import { createTopTalkers } from '../../../edge/aggregate/top-talkers';
import { flow } from '../helpers/flows';

t.test('top talkers: biggest first, per window, bits per second', async (t) => {
  const tt = createTopTalkers({ startMs: 0 });
  const big = flow({ src: '198.51.100.1', dst: '2001:db8::1', bytes: 5000, srcPort: 1 });
  const datagram = new Uint8Array(big.srcIp.length);
  tt.add(big);
  tt.add(flow({ bytes: 100, srcPort: 2 }));
  tt.add({ ...big, bytes: 5000 });
  big.srcIp.set(datagram); // the decoder's views may be reused: talkers keep copies
  const { windowSec, talkers } = tt.take(5000, 1);
  t.equal(windowSec, 5);
  t.match(talkers, [{ src: '198.51.100.1', dst: '2001:db8::1', bytes: 10_000, packets: 20, bitsPerSec: 16_000, exporter: '192.0.2.1' }]);
  t.same(tt.take(10_000, 5).talkers, [], 'a new window starts empty');
});
