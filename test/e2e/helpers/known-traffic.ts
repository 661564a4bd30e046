/**
 * Known traffic for end-to-end tests: a deterministic capture between customers and the internet,
 * and what the hub must report for an IP group (dst inside: in, src inside: out).
 */
import type { PcapPacketSpec } from '../../helpers/pcap-writer';

/** Deterministic traffic between customers and the internet, spread over [fromMs, fromMs + spanMs). */
export function traffic(fromMs: number, spanMs: number, family: 4 | 6, seed: number): PcapPacketSpec[] {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const customers = family === 4 ? ['10.1.0.5', '10.1.7.9', '10.2.0.77', '10.2.1.15', '10.9.9.9'] : ['2001:db8:1::5', '2001:db8:1:ff::9', '2001:db8:2::1'];
  const remotes = family === 4 ? ['192.0.2.1', '198.51.100.7', '203.0.113.50'] : ['2001:db8:ffff::1', '2001:db8:eeee::2'];
  const packets: PcapPacketSpec[] = [];
  for (let i = 0; i < 600; i++) {
    const cust = customers[i % customers.length];
    const remote = remotes[Math.floor(rand() * remotes.length)];
    const download = rand() < 0.7;
    const flow = Math.floor(rand() * 12);
    const protocol = flow % 3 === 0 ? 17 : 6;
    const min = family === 4 ? 60 : 80;
    packets.push({
      tsMs: fromMs + Math.floor((i / 600) * spanMs),
      src: download ? remote : cust, dst: download ? cust : remote, protocol,
      srcPort: download ? 443 : 40000 + flow, dstPort: download ? 40000 + flow : 443,
      ipTotalLength: min + Math.floor(rand() * 1400),
    });
  }
  return packets;
}

/** What the hub must report for an IP group: dst inside → in, src inside → out. */
export function expectedFor(packets: PcapPacketSpec[], inGroup: (ip: string) => boolean) {
  const e = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };
  for (const p of packets) {
    if (inGroup(p.dst)) { e.bytesIn += p.ipTotalLength; e.packetsIn++; }
    if (inGroup(p.src)) { e.bytesOut += p.ipTotalLength; e.packetsOut++; }
  }
  return e;
}
