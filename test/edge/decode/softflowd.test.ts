import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import t, { type Test } from 'tap';
import { silentLogger } from '../../../common/logger';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import { flowKey, writePcap, type PcapPacketSpec, type PcapTotals } from '../../helpers/pcap-writer';
import { runSoftflowd, softflowdAvailable } from '../../helpers/softflowd';

/**
 * A real exporter: softflowd reads a capture we wrote and exports it to a UDP socket here; the
 * decoded totals must equal the capture's to the byte and packet, per flow.
 */
if (!softflowdAvailable()) {
  t.plan(0, 'skip: softflowd is not installed');
} else {
  const work = mkdtempSync(join(tmpdir(), 'flowbill-sfd-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const T0 = 1_700_000_000_000;

  function traffic(family: 4 | 6, uniformLength?: number): PcapPacketSpec[] {
    const packets: PcapPacketSpec[] = [];
    for (let f = 0; f < 60; f++) {
      const tcp = f % 3 !== 0;
      for (let i = 0; i < 5; i++) {
        packets.push({
          tsMs: T0 + f * 37 + i * 1500,
          src: family === 4 ? `10.${f >> 4}.${f & 15}.1` : `2001:db8:${f.toString(16)}::1`,
          dst: family === 4 ? '192.0.2.10' : '2001:db8:ffff::10',
          protocol: tcp ? 6 : 17,
          srcPort: 20_000 + f,
          dstPort: tcp ? 443 : 53,
          ipTotalLength: uniformLength ?? (family === 4 ? 40 : 60) + ((f * 97 + i * 13) % 1400),
          tcpFlags: tcp && i === 4 ? 0x11 : 0x10, // FIN+ACK on the last packet of TCP flows
        });
      }
    }
    return packets.sort((a, b) => a.tsMs - b.tsMs);
  }

  async function exportThroughSoftflowd(pcapPath: string, version: 5 | 9 | 10, extraArgs: string[], v6Target = false) {
    const socket = dgram.createSocket(v6Target ? 'udp6' : 'udp4');
    const datagrams: Buffer[] = [];
    socket.on('message', (msg) => datagrams.push(msg));
    const host = v6Target ? '::1' : '127.0.0.1';
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    const { port } = socket.address();
    try {
      await runSoftflowd({ pcapPath, target: v6Target ? `[::1]:${port}` : `127.0.0.1:${port}`, version, extraArgs });
      // Loopback datagrams are queued by the time softflowd exits; wait until the socket is quiet.
      let seen = -1;
      while (seen !== datagrams.length) {
        seen = datagrams.length;
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      socket.close();
    }
    const decoder = createFlowDecoder({ log: silentLogger });
    const flows: FlowRecord[] = [];
    for (const d of datagrams) flows.push(...decoder.decode(d, host, Date.now()));
    return { decoder, flows, datagrams };
  }

  const text = (b: Uint8Array) => ipaddr.fromByteArray(Array.from(b)).toString();
  const canonical = (a: string) => ipaddr.parse(a).toString();

  function assertTotals(t: Test, flows: FlowRecord[], expected: PcapTotals, perFlow: boolean) {
    t.equal(flows.reduce((s, f) => s + f.bytes, 0), expected.bytes, 'bytes equal the capture\'s IP total lengths');
    t.equal(flows.reduce((s, f) => s + f.packets, 0), expected.packets, 'packets equal the capture\'s');
    if (!perFlow) return;
    t.equal(flows.length, expected.flows, 'one record per flow');
    const got = new Map<string, { bytes: number; packets: number }>();
    for (const f of flows) {
      const key = flowKey({ src: text(f.srcIp), dst: text(f.dstIp), protocol: f.protocol as 6 | 17, srcPort: f.srcPort, dstPort: f.dstPort });
      const g = got.get(key) ?? { bytes: 0, packets: 0 };
      g.bytes += f.bytes;
      g.packets += f.packets;
      got.set(key, g);
    }
    const want = new Map([...expected.byFlow].map(([k, v]) => {
      const [src, dst, ...rest] = k.split('|');
      return [[canonical(src), canonical(dst), ...rest].join('|'), v];
    }));
    t.same(Object.fromEntries(got), Object.fromEntries(want), 'per-flow totals');
  }

  const cases: Array<{ name: string; version: 5 | 9 | 10; family: 4 | 6; args: string[]; v6Target?: boolean }> = [
    { name: 'NetFlow v5', version: 5, family: 4, args: [] },
    { name: 'NetFlow v9', version: 9, family: 4, args: [] },
    { name: 'IPFIX (relative times, systemInitTimeMilliseconds)', version: 10, family: 4, args: [] },
    { name: 'IPFIX with -A milli (absolute times)', version: 10, family: 4, args: ['-A', 'milli'] },
    { name: 'NetFlow v9 IPv6 (-6)', version: 9, family: 6, args: ['-6'] },
    { name: 'IPFIX IPv6 (-6) to an IPv6 collector', version: 10, family: 6, args: ['-6'], v6Target: true },
  ];
  for (const c of cases) {
    t.test(`softflowd ${c.name}: totals to the byte`, async (t) => {
      const packets = traffic(c.family);
      const pcapPath = join(work, `${c.version}-${c.family}-${c.args.join('')}.pcap`);
      const expected = writePcap(pcapPath, packets);
      const { decoder, flows } = await exportThroughSoftflowd(pcapPath, c.version, c.args, c.v6Target);
      const counters = decoder.counters();
      t.equal(counters.decodeErrors, 0);
      t.equal(counters.templateMisses, 0);
      t.equal(counters.sequenceGaps, 0, 'no sequence gaps on loopback');
      assertTotals(t, flows, expected, true);
      // Flow times come from the capture (-a). v9 headers carry whole unix seconds only, so v9 times
      // can be up to 1 s early; v5 has nanoseconds and IPFIX absolute or init-relative ms.
      const slackMs = c.version === 9 ? 1000 : 1;
      const firstMs = packets[0].tsMs;
      const lastMs = packets[packets.length - 1].tsMs;
      for (const f of flows) {
        if (f.startMs < firstMs - slackMs || f.endMs > lastMs + slackMs || f.endMs < f.startMs) {
          t.fail(`flow time ${f.startMs}..${f.endMs} outside the capture ${firstMs}..${lastMs}`);
          break;
        }
      }
      t.equal(decoder.exporters()[0].netflowVersion, c.version);
    });
  }

  for (const version of [5, 9, 10] as const) {
    t.test(`softflowd -s 4 (1:4 periodic sampling) v${version}: renormalised totals`, async (t) => {
      // Uniform packet size and a packet count divisible by 4: every 4th packet sampled, times 4,
      // gives back exactly the capture's totals. (Which flows get sampled differs, so no per-flow check.)
      const packets = traffic(4, 500);
      const pcapPath = join(work, `sampled-${version}.pcap`);
      const expected = writePcap(pcapPath, packets);
      const { decoder, flows } = await exportThroughSoftflowd(pcapPath, version, ['-s', '4']);
      t.equal(decoder.counters().decodeErrors, 0);
      t.ok(flows.length > 0);
      for (const f of flows) if (f.samplingRate !== 4) { t.fail(`sampling rate ${f.samplingRate}`); break; }
      assertTotals(t, flows, expected, false);
      t.equal(decoder.exporters()[0].samplingRate, 4);
    });
  }
}
