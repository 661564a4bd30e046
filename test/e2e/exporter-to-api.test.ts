/**
 * End to end, with a real exporter: a capture of known traffic → softflowd (NetFlow v9, IPFIX with
 * IPv6, v5) → edge (UDP, decode, classify, 5-minute buckets, LevelDB outbox) → MQTT → hub (ingest,
 * LevelDB) → HTTP API. The API's totals must equal the capture's bytes and packets exactly, and stay
 * exact (not doubled, not short) when the hub is down for a day while the edge keeps collecting.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import path from 'node:path';
import { writePcap, type PcapPacketSpec } from '../helpers/pcap-writer';
import { expectedFor, traffic } from './helpers/known-traffic';
import { runSoftflowd, softflowdAvailable } from '../helpers/softflowd';
import { createStack, waitFor } from './stack';

const START_MS = Date.UTC(2026, 10, 2, 12, 0, 0); // a Monday noon UTC; the trial starts here
const GROUPS = [
  { name: 'cust-a', prefixes: ['10.1.0.0/16'] },
  { name: 'cust-b', prefixes: ['10.2.0.0/24', '10.2.1.10-10.2.1.20'] },
  { name: 'cust-v6', prefixes: ['2001:db8:1::/48'] },
];

const inA = (ip: string) => ip.startsWith('10.1.');
const inB = (ip: string) => ip.startsWith('10.2.0.') || ['10.2.1.15'].includes(ip);
const inV6 = (ip: string) => ip.startsWith('2001:db8:1:');

const skip = softflowdAvailable() ? false : 'softflowd is not installed (apt-get install softflowd)';

t.test('softflowd v9 + IPFIX(IPv6) + v5 → edge → MQTT → hub → API totals equal the capture to the byte', { skip }, async (t) => {
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: 'isp1', ipGroups: GROUPS });
  t.teardown(() => stack.close());

  // Traffic in the 10 minutes after the trial started, crossing a bucket boundary.
  const v4 = traffic(START_MS + 60_000, 9 * 60_000, 4, 7);
  const v4b = traffic(START_MS + 120_000, 6 * 60_000, 4, 99);
  const v6 = traffic(START_MS + 30_000, 8 * 60_000, 6, 3);
  const target = `127.0.0.1:${stack.udpPort}`;
  writePcap(path.join(dir, 'v4.pcap'), v4);
  writePcap(path.join(dir, 'v4b.pcap'), v4b);
  writePcap(path.join(dir, 'v6.pcap'), v6);
  await runSoftflowd({ pcapPath: path.join(dir, 'v4.pcap'), target, version: 9 });
  await runSoftflowd({ pcapPath: path.join(dir, 'v6.pcap'), target, version: 10, extraArgs: ['-6'] });
  await runSoftflowd({ pcapPath: path.join(dir, 'v4b.pcap'), target, version: 5 });
  await waitFor('all flows decoded', async () => (stack.edge.status().counters.flowsDecoded > 0 && stack.edge.status().counters.packetsReceived >= 3 ? true : undefined), 10_000);
  await new Promise((r) => setTimeout(r, 500)); // let the socket drain

  // Close the buckets: the routers' clock moves on 20 minutes.
  stack.clock.setMs(START_MS + 20 * 60_000);
  const from = START_MS / 1000 - 300;
  const to = from + 3600;
  const all = [...v4, ...v4b];
  for (const [subject, expected] of [
    ['ipg:cust-a', expectedFor(all, inA)],
    ['ipg:cust-b', expectedFor(all, inB)],
    ['ipg:cust-v6', expectedFor(v6, inV6)],
  ] as const) {
    const got = await waitFor(`${subject} totals`, async () => {
      const totals = await stack.subjectTotals(subject, from, to);
      return totals.bytesIn + totals.bytesOut >= expected.bytesIn + expected.bytesOut ? totals : undefined;
    });
    t.same({ bytesIn: got.bytesIn, bytesOut: got.bytesOut, packetsIn: got.packetsIn, packetsOut: got.packetsOut }, expected, `${subject}: bytes and packets exact`);
    t.ok(expected.bytesIn > 0 && expected.bytesOut > 0, `${subject} has traffic both ways`);
  }
  const c = stack.edge.status().counters;
  t.equal(c.decodeErrors, 0, 'no decode errors');
  // Nothing is left behind and nothing is sent twice.
  await waitFor('outbox drained', async () => (stack.edge.status().counters.outboxDepth === 0 ? true : undefined));
});

t.test('hub down for a day: the edge keeps collecting, and every byte arrives exactly once after it returns', { skip }, async (t) => {
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: 'isp1', ipGroups: GROUPS });
  t.teardown(() => stack.close());
  const target = `127.0.0.1:${stack.udpPort}`;

  // Before the outage: one capture, delivered.
  const before = traffic(START_MS + 60_000, 4 * 60_000, 4, 11);
  writePcap(path.join(dir, 'before.pcap'), before);
  await runSoftflowd({ pcapPath: path.join(dir, 'before.pcap'), target, version: 9 });
  await new Promise((r) => setTimeout(r, 500));
  stack.clock.setMs(START_MS + 15 * 60_000);
  const from = START_MS / 1000 - 300;
  const to = from + 2 * 86_400;
  const expBefore = expectedFor(before, inA);
  await waitFor('first delivery', async () => ((await stack.subjectTotals('ipg:cust-a', from, to)).bytesIn === expBefore.bytesIn ? true : undefined));

  // The hub goes down. Traffic keeps flowing for a day; buckets close into the edge's outbox.
  await stack.stopHub();
  const during: PcapPacketSpec[] = [];
  for (let h = 1; h <= 24; h += 6) {
    const chunk = traffic(START_MS + h * 3600_000, 4 * 60_000, 4, 100 + h);
    during.push(...chunk);
    writePcap(path.join(dir, `during-${h}.pcap`), chunk);
    // The edge's clock is the traffic's time when it arrives: flows more than 10 minutes ahead of
    // the edge's clock are refused by its sanity bounds (edge/validate/flow-bounds.ts).
    stack.clock.setMs(START_MS + h * 3600_000);
    await runSoftflowd({ pcapPath: path.join(dir, `during-${h}.pcap`), target, version: 9 });
    await new Promise((r) => setTimeout(r, 300));
    stack.clock.setMs(START_MS + h * 3600_000 + 15 * 60_000);
  }
  await waitFor('batches queued in the outbox', async () => (stack.edge.status().counters.outboxDepth >= 4 ? true : undefined));
  t.ok(stack.edge.status().counters.outboxDepth >= 4, `outbox holds ${stack.edge.status().counters.outboxDepth} batches while the hub is down`);

  // The hub comes back on the same LevelDB; the edge reconnects and resends.
  stack.clock.setMs(START_MS + 26 * 3600_000);
  await stack.startHub();
  const expected = expectedFor([...before, ...during], inA);
  await waitFor('outbox drained after the hub returned', async () => (stack.edge.status().counters.outboxDepth === 0 ? true : undefined));
  const got = await stack.subjectTotals('ipg:cust-a', from, to);
  t.same({ bytesIn: got.bytesIn, bytesOut: got.bytesOut, packetsIn: got.packetsIn, packetsOut: got.packetsOut }, expected, 'exactly once: not short, not doubled');
  t.equal(stack.edge.status().counters.outboxDropped, 0, 'nothing dropped');
});
