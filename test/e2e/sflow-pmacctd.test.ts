/**
 * A real sFlow exporter end to end: pmacctd reads a capture we wrote (pcap_savefile) and its sfprobe
 * plugin exports sFlow v5 to the edge's sFlow port; the edge (in process, memory KV, no MQTT) decodes,
 * classifies into an IP group and closes the bucket into its outbox.
 *
 * - sampling_rate 1: every packet is a sample, the outbox must hold the capture's frame bytes to the
 *   byte. sfprobe reports frame_length = the captured Ethernet frame + 4 (it counts an FCS, "stripped
 *   4", as a switch would): IP total length + 14 + 4 per packet.
 * - sampling_rate N: the estimate N x (sampled frame bytes) is checked against the true total within
 *   5 standard deviations. pmacct samples each packet independently with probability 1/N ("simple
 *   randomic"), so with frame lengths L_i the estimate's variance is sum(L_i^2) x N x (1 - 1/N)
 *   (binomial per packet); 5 sigma makes a false failure a ~1e-6 event.
 *
 * pmacctd 1.7.7's sfprobe does not send its last, partly filled datagram when the savefile ends (1 to 6
 * of the last samples, seen by their addresses; its sample sequence numbers show no gap, so they were
 * never sent): every capture ends with SENTINELS packets outside the billed IP group, which are not
 * billed whether they come or not.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createManualClock } from '../../common/clock';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { silentLogger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { loadEdgeConfig } from '../../edge/config';
import { createEdge } from '../../edge/create-edge';
import { outboxTotals } from '../edge/helpers/outbox-totals';
import { writePcap, type PcapPacketSpec } from '../helpers/pcap-writer';

const ETHERNET_PLUS_FCS = 18;
const T0 = 1_700_000_100_000; // a bucket start (5-minute aligned)
/** Unbilled packets at the end of each capture: more than one sfprobe datagram's worth of samples. */
const SENTINELS = 64;

function pmacctdAvailable(): boolean {
  return spawnSync('pmacctd', ['-V'], { stdio: 'ignore' }).status !== null;
}

if (!pmacctdAvailable()) {
  t.plan(0, 'skip: pmacctd (Debian package pmacct) is not installed');
} else {
  const work = mkdtempSync(join(tmpdir(), 'flowbill-sfprobe-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  /** n packets from customers 10.0.x.y to the outside, frame lengths spread, and the sentinels last. */
  function traffic(n: number): { packets: PcapPacketSpec[]; frameBytes: number; frameSquares: number; count: number } {
    const packets: PcapPacketSpec[] = [];
    let frameBytes = 0;
    let frameSquares = 0;
    for (let i = 0; i < n; i++) {
      const ipTotalLength = 40 + ((i * 97) % 1461); // 40..1500
      packets.push({
        tsMs: 1_600_000_000_000 + i, src: `10.0.${(i >> 8) & 255}.${i & 255}`, dst: '192.0.2.10',
        protocol: i % 3 === 0 ? 17 : 6, srcPort: 10_000 + (i % 50), dstPort: 443, ipTotalLength,
      });
      const frame = ipTotalLength + ETHERNET_PLUS_FCS;
      frameBytes += frame;
      frameSquares += frame * frame;
    }
    for (let i = 0; i < SENTINELS; i++) {
      packets.push({ tsMs: 1_600_000_000_000 + n + i, src: '172.31.255.1', dst: '172.31.255.2', protocol: 17, srcPort: 9, dstPort: 9, ipTotalLength: 100 });
    }
    return { packets, frameBytes, frameSquares, count: n };
  }

  async function run(name: string, n: number, samplingRate: number) {
    const pcapPath = join(work, `${name}.pcap`);
    const capture = traffic(n);
    writePcap(pcapPath, capture.packets);

    const kv = createMemoryKvStore();
    const clock = createManualClock(T0 + 10_000);
    const config = loadEdgeConfig({ env: {}, overrides: { udpHost: '127.0.0.1', udpPort: 0, sflowPort: 0, liveIntervalMs: 0, closeGraceSec: 60 } });
    const edge = createEdge({ config, clock, log: silentLogger, kv, publish: false, listenUdp: true, timers: createManualTimers() });
    const { sflowPort } = await edge.start();
    await edge.applyCollectionConfig({
      version: 1, collectionPaused: false, pauseReason: '', allInterfaces: false, interfaces: [],
      ipGroups: [{ name: 'customers', prefixes: ['10.0.0.0/16'] }],
    });
    try {
      const conf = join(work, `${name}.conf`);
      writeFileSync(conf, [
        'daemonize: false', `pcap_savefile: ${pcapPath}`, 'pcap_savefile_wait: false', 'plugins: sfprobe',
        `sfprobe_receiver: 127.0.0.1:${sflowPort}`, 'sfprobe_agentip: 192.0.2.1', `sampling_rate: ${samplingRate}`, '',
      ].join('\n'));
      const exit = await new Promise<number | null>((resolve, reject) => {
        const p = spawn('pmacctd', ['-f', conf], { stdio: 'ignore' });
        p.on('error', reject);
        p.on('exit', (code) => resolve(code));
      });
      t.not(exit, null, 'pmacctd exited by itself at the end of the capture');
      // Loopback datagrams are queued by the time pmacctd exits; read until the socket is quiet.
      let seen = -1;
      while (seen !== edge.status().counters.packetsReceived) {
        seen = edge.status().counters.packetsReceived;
        await new Promise((r) => setTimeout(r, 200));
      }
      const status = edge.status();
      clock.setMs(T0 + 300_000 + 61_000);
      await edge.flush();
      const totals = await outboxTotals(kv);
      return { capture, status, billed: totals.bytesIn + totals.bytesOut, totals };
    } finally {
      await edge.stop();
    }
  }

  t.test('sampling_rate 1: the edge bills the capture\'s frame bytes to the byte', async (t) => {
    const { capture, status, billed } = await run('rate1', 2000, 1);
    t.equal(status.counters.decodeErrors, 0);
    t.equal(status.counters.sequenceGaps, 0);
    t.equal(status.counters.flowsOutOfBounds, 0);
    const flows = status.counters.flowsDecoded;
    t.ok(flows >= capture.count && flows <= capture.count + SENTINELS, `every packet a sample (${flows} of ${capture.count} + up to ${SENTINELS} sentinels)`);
    t.equal(billed, capture.frameBytes, 'bytes billed = sum of (IP length + 14 + 4)');
    const sflow = status.exporters.filter((e) => e.protocol === 'sflow');
    t.equal(sflow.length, 1);
    t.match(sflow[0], { address: '192.0.2.1', netflowVersion: 5, samplingRate: 1, sequenceGaps: 0, datagramsLost: 0 });
  });

  t.test('sampling_rate 10: the estimate is within 5 sigma of the true total', async (t) => {
    const rate = 10;
    const { capture, status, billed } = await run('rate10', 30_000, rate);
    t.equal(status.counters.decodeErrors, 0);
    t.equal(status.counters.sequenceGaps, 0);
    const sigma = Math.sqrt(capture.frameSquares * rate * (1 - 1 / rate));
    const deviation = billed - capture.frameBytes;
    t.ok(Math.abs(deviation) <= 5 * sigma,
      `estimate ${billed} vs true ${capture.frameBytes}: ${(deviation / sigma).toFixed(2)} sigma (sigma ${Math.round(sigma)}, ${(100 * sigma / capture.frameBytes).toFixed(2)}%)`);
    t.ok(billed % rate === 0, 'each sample counts rate x its frame');
    const flows = status.counters.flowsDecoded;
    t.ok(Math.abs(flows - capture.count / rate) <= 5 * Math.sqrt(capture.count / rate), `samples ${flows} ~ ${capture.count / rate}`);
    t.match(status.exporters.find((e) => e.protocol === 'sflow'), { samplingRate: rate });
  });
}
