/**
 * Filters and breakdowns of live flows (the top talkers the edges publish), as NOC tools show them
 * (NetFlow Analyzer's and ntopng's "by protocol" and "top ports"). Pure: entries and IP groups in,
 * the view out. Computed from the published top talkers only: the breakdowns describe the biggest
 * flows of the last few seconds, not all traffic, and the page says so.
 *
 * Interface subjects cannot be matched: a Talker carries its exporter but not its ifIndex
 * (proto Talker has no input/output interface field), so the subject filter takes IP groups only.
 */
import type { IpGroup, LiveFlows } from '../../proto/codec';
import { hubError } from '../errors';
import { ipEntrySpan, parseIpAddress, parseIpEntry, parseIpGroupEntry, type IpSpan } from '../../common/ip-prefix';
import type { LiveFlowsFilter, LiveFlowsResponse, LiveTalkerView, PortShare, ProtocolShare } from '../../common/api/live';

export const PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 41: 'IPv6-in-IPv4', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6', 89: 'OSPF', 132: 'SCTP' };

/** IANA names of the ports a NOC meets most; others show as the number. */
const PORT_NAMES: Record<number, string> = {
  20: 'ftp-data', 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'dns', 67: 'dhcp', 68: 'dhcp', 80: 'http', 110: 'pop3',
  123: 'ntp', 143: 'imap', 161: 'snmp', 179: 'bgp', 443: 'https', 445: 'smb', 465: 'smtps', 587: 'submission', 993: 'imaps',
  995: 'pop3s', 1194: 'openvpn', 1935: 'rtmp', 3306: 'mysql', 3389: 'rdp', 5060: 'sip', 5432: 'postgresql', 8080: 'http-alt', 8443: 'https-alt',
};

const PORTED = new Set([6, 17, 132]);

export type LiveEntry = { edgeId: string; receivedAtMs: number; flows: LiveFlows };

const MAX_FILTER_LEN = 200;

function text(raw: unknown, name: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > MAX_FILTER_LEN) throw hubError('BAD_REQUEST', `${name}: one string of at most ${MAX_FILTER_LEN} characters`);
  return raw.trim() || undefined;
}

/** Query string → filter; bad values are BAD_REQUEST naming the parameter. */
export function readLiveFilter(query: Record<string, unknown>): LiveFlowsFilter {
  return { exporter: text(query.exporter, 'exporter'), subject: text(query.subject, 'subject'), address: text(query.address, 'address') };
}

function addressSpan(addr: string): IpSpan | null {
  const r = parseIpAddress(addr);
  if (!r.ok) return null;
  return ipEntrySpan({ kind: 'prefix', family: r.value.family, bytes: r.value.bytes, prefixLen: r.value.bytes.length * 8 });
}

const inside = (outer: IpSpan, a: IpSpan | null) => !!a && a.family === outer.family && outer.first <= a.first && a.last <= outer.last;

/** A predicate on (src, dst): CIDR / range / address when it parses as one, else a case-insensitive substring. */
function addressMatcher(address: string): (src: string, dst: string) => boolean {
  const entry = parseIpEntry(address, { hostBits: 'clear' });
  if (entry.ok) {
    const span = ipEntrySpan(entry.value);
    return (src, dst) => inside(span, addressSpan(src)) || inside(span, addressSpan(dst));
  }
  const needle = address.toLowerCase();
  return (src, dst) => src.toLowerCase().includes(needle) || dst.toLowerCase().includes(needle);
}

function subjectMatcher(subject: string, groups: IpGroup[]): (src: string, dst: string) => boolean {
  if (!subject.startsWith('ipg:')) throw hubError('BAD_REQUEST', 'subject: an IP group subject ("ipg:<name>"); live flows carry no interface index');
  const group = groups.find((g) => g.name === subject.slice(4));
  if (!group) throw hubError('NOT_FOUND', `no IP group ${subject.slice(4)}`);
  const spans = group.prefixes.map((p) => ipEntrySpan(parseIpGroupEntry(p)));
  return (src, dst) => {
    const s = addressSpan(src);
    const d = addressSpan(dst);
    return spans.some((span) => inside(span, s) || inside(span, d));
  };
}

/** The service side of a flow: the lower port (well-known and registered ports sit below ephemeral ones). */
export function servicePort(t: { srcPort: number; dstPort: number }): number {
  const ports = [t.srcPort, t.dstPort].filter((p) => p > 0);
  return ports.length ? Math.min(...ports) : 0;
}

export function queryLiveFlows(entries: LiveEntry[], filter: LiveFlowsFilter, groups: IpGroup[], limit = 50, topPortsN = 10): LiveFlowsResponse {
  const matchAddress = filter.address ? addressMatcher(filter.address) : null;
  const matchSubject = filter.subject ? subjectMatcher(filter.subject, groups) : null;
  const all: LiveTalkerView[] = entries.flatMap((e) => (e.flows.talkers || []).map((t) => ({
    edgeId: e.edgeId, src: t.src, dst: t.dst, protocol: Number(t.protocol), srcPort: Number(t.srcPort), dstPort: Number(t.dstPort),
    bytes: Number(t.bytes), packets: Number(t.packets), bitsPerSec: Number(t.bitsPerSec), exporter: t.exporter,
  })));
  const matched = all.filter((t) => (!filter.exporter || t.exporter === filter.exporter)
    && (!matchSubject || matchSubject(t.src, t.dst))
    && (!matchAddress || matchAddress(t.src, t.dst)));
  matched.sort((a, b) => b.bitsPerSec - a.bitsPerSec || b.bytes - a.bytes);

  const protocols = new Map<number, ProtocolShare>();
  const ports = new Map<string, PortShare>();
  for (const t of matched) {
    const p = protocols.get(t.protocol) ?? { protocol: t.protocol, name: PROTOCOL_NAMES[t.protocol] ?? `proto ${t.protocol}`, bitsPerSec: 0, bytes: 0, flows: 0 };
    p.bitsPerSec += t.bitsPerSec; p.bytes += t.bytes; p.flows++;
    protocols.set(t.protocol, p);
    const port = PORTED.has(t.protocol) ? servicePort(t) : 0;
    if (port > 0) {
      const key = `${t.protocol}/${port}`;
      const s = ports.get(key) ?? { protocol: t.protocol, port, name: PORT_NAMES[port] ?? '', bitsPerSec: 0, bytes: 0, flows: 0 };
      s.bitsPerSec += t.bitsPerSec; s.bytes += t.bytes; s.flows++;
      ports.set(key, s);
    }
  }
  // Sampling per edge (0 or absent from older edges: exact), shown for the edges whose talkers matched.
  const sampling = new Map(entries.map((e) => [e.edgeId, Math.max(1, Number(e.flows.samplingOneIn) || 1)]));
  const samplingOneIn = Math.max(1, ...new Set(matched.map((t) => sampling.get(t.edgeId) ?? 1)));
  const byRate = <T extends { bitsPerSec: number; bytes: number }>(a: T, b: T) => b.bitsPerSec - a.bitsPerSec || b.bytes - a.bytes;
  return {
    edges: entries,
    filter,
    exporters: [...new Set(all.map((t) => t.exporter).filter(Boolean))].sort(),
    subjects: groups.map((g) => ({ subjectId: `ipg:${g.name}`, label: g.name })).sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1)),
    talkers: matched.slice(0, limit),
    samplingOneIn,
    matched: matched.length,
    totalBitsPerSec: matched.reduce((s, t) => s + t.bitsPerSec, 0),
    byProtocol: [...protocols.values()].sort(byRate),
    topPorts: [...ports.values()].sort(byRate).slice(0, topPortsN),
  };
}
