import t from 'tap';
import { createSequenceTracker, MAX_CREDITED_PER_GAP } from '../../../edge/decode/sequence-tracker';

t.test('in order, gap, late datagram credited back, duplicate not credited twice', async (t) => {
  const s = createSequenceTracker(1000, 64);
  t.equal(s.observe(10, 1), 0, 'first datagram is the baseline');
  t.equal(s.observe(11, 1), 0);
  t.equal(s.observe(14, 1), 2, '12 and 13 missing');
  t.equal(s.observe(12, 1), -1, '12 was only late');
  t.equal(s.observe(12, 1), 0, 'a duplicate of it is not');
  t.equal(s.observe(13, 1), -1);
  t.equal(s.observe(15, 1), 0, 'expected did not move back');
});

t.test('restart (back to a small number) and huge jumps resynchronise without a gap', async (t) => {
  const s = createSequenceTracker(1000, 64);
  s.observe(500_000, 30);
  t.equal(s.observe(0, 30), 0, 'restart');
  t.equal(s.observe(30, 30), 0);
  t.equal(s.observe(2_000_000, 30), 0, 'jump beyond maxGap');
  t.equal(s.observe(2_000_030, 30), 0);
});

t.test('wraps modulo 2^32', async (t) => {
  const s = createSequenceTracker(1000, 64);
  s.observe(0xfffffff0, 0x10);
  t.equal(s.observe(0, 5), 0);
  t.equal(s.observe(7, 5), 2);
});

t.test('exporters numbering the end of each datagram (softflowd IPFIX) are recognised', async (t) => {
  const s = createSequenceTracker(1000, 64);
  // softflowd -v 10: first message 1 options record + 15 flows numbered 15, then 20 flows → 35, 15 → 50
  t.equal(s.observe(15, 16, 15), 0);
  t.equal(s.observe(35, 20), 0);
  t.equal(s.observe(50, 15), 0);
  t.equal(s.observe(61, 1, 1), 10, 'then a real loss of 10 records still shows');
});

t.test('unknown() makes the next datagram the baseline', async (t) => {
  const s = createSequenceTracker(1000, 64);
  s.observe(1, 1);
  s.unknown();
  t.equal(s.observe(100, 1), 0);
});

t.test('late datagrams credited back per gap are capped (bounded state per domain)', async (t) => {
  const s = createSequenceTracker(3_000_000, 4096);
  s.observe(0, 1);
  t.equal(s.observe(1001, 1), 1000, 'a gap of 1000');
  let credited = 0;
  for (let i = 1; i <= 500; i++) credited -= s.observe(i, 1);
  t.equal(credited, MAX_CREDITED_PER_GAP, 'only the first late datagrams are credited');
  t.equal(s.observe(1002, 1), 0, 'in order again');
});
