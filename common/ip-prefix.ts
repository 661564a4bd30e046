/**
 * The IP group grammar, one definition for the hub (validating what operators type, deciding which
 * groups a customer may see) and the edge (building its longest-prefix-match table).
 *
 * One entry is (whitespace around the entry and around "-" is ignored):
 *   address         "192.0.2.1", "2001:db8::1"               → a /32 or /128
 *   prefix          "192.0.2.0/24", "2001:db8::/32"          → host bits must be zero (see below)
 *   range           "192.0.2.10-192.0.2.20"                  → both ends inclusive, one family
 *
 * Addresses are parsed by ipaddr.js, narrowed to what cannot be misread in a billing list:
 * - IPv4 is four decimal parts 0-255 without leading zeros. ipaddr.js (like inet_aton) would also take
 *   "10" as 0.0.0.10, "0x7f.1" as 127.0.0.1 and "010.0.0.1" as 8.0.0.1 (octal); a list whose meaning
 *   depends on the tool that reads it is refused instead.
 * - No zone ids ("fe80::1%eth0"): a flow record carries no zone, so such an entry could never match.
 * - No IPv4-compatible "::a.b.c.d" (deprecated, RFC 4291 §2.5.5.1): ipaddr.js reads it as
 *   ::ffff:a.b.c.d, other tools as ::a.b.c.d.
 * - IPv4-mapped IPv6 (RFC 4291 §2.5.5.2, "::ffff:192.0.2.1") IS IPv4: a mapped address is its IPv4
 *   address, a prefix of ::ffff:0:0/96 or longer is the IPv4 prefix of length len - 96, a range with
 *   mapped ends is an IPv4 range. IPv6 entries therefore never cover mapped addresses (::/0 does not
 *   hold 192.0.2.1), and the edge looks a flow's mapped address up as IPv4 (prefix-trie.ts).
 *
 * Host bits: operator input with host bits set ("192.0.2.7/24") is refused with the network it
 * probably meant (hostBits 'refuse'); configuration already validated by the hub is read with
 * hostBits 'clear', so an older or hand-written entry still means its network.
 */
import ipaddr from 'ipaddr.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** A CIDR block: network address bytes (4 or 16) with the host bits zero. */
export interface IpPrefix { family: IpFamily; bytes: Uint8Array; prefixLen: number }

/** One IP group entry after parsing: a prefix (a bare address is a /32 or /128) or an inclusive range. */
export type IpEntry =
  | ({ kind: 'prefix' } & IpPrefix)
  | { kind: 'range'; family: IpFamily; first: Uint8Array; last: Uint8Array };

/** An entry as an inclusive integer interval, so prefixes and ranges compare alike. */
export interface IpSpan { family: IpFamily; first: bigint; last: bigint }

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ParseOptions {
  /** 'refuse' (default): a prefix with host bits set is an error; 'clear': they are zeroed. */
  hostBits?: 'refuse' | 'clear';
  /** Whether "first-last" ranges are accepted (default true; a customer's address or subnet: false). */
  ranges?: boolean;
}

const bitsOf = (family: IpFamily) => (family === 'ipv4' ? 32 : 128);

// ---- bytes and integers

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBigInt(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

function maskBytes(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefixLen; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Whether 16 address bytes are IPv4-mapped (::ffff:a.b.c.d): ten zero bytes, then 0xff 0xff. */
export function isIpv4MappedBytes(bytes: Uint8Array): boolean {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return true;
}

// ---- text

/** Text form of a 4- or 16-byte address (RFC 5952 for IPv6); '' for any other length. */
export function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) return ipaddr.fromByteArray(Array.from(bytes)).toString();
  return '';
}

const DOTTED_QUAD = /^\d+\.\d+\.\d+\.\d+$/;

/** A dotted quad as the grammar takes it, or the reason it is not one. */
function strictIpv4(text: string): Uint8Array | string {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return Uint8Array.from(ipaddr.IPv4.parse(text).toByteArray());
  if (DOTTED_QUAD.test(text) && text.split('.').some((p) => p.length > 1 && p.startsWith('0'))) {
    return 'leading zeros are ambiguous (some tools read 010 as octal 8): write the parts without them';
  }
  return 'not an IPv4 address (four decimal parts 0-255) or IPv6 address';
}

/**
 * One address as written (no prefix length, no range), before IPv4-mapped addresses are mapped:
 * 4 bytes for IPv4, 16 for IPv6 text. Error: the reason, without the entry.
 */
function parseRawAddress(text: string): Uint8Array | string {
  if (text === '') return 'an address is missing';
  if (text.includes('%')) return 'zone ids ("%eth0") are not accepted: flow records carry none';
  if (!text.includes(':')) return strictIpv4(text);
  if (!ipaddr.IPv6.isValid(text)) return 'not an IPv6 address';
  const lastColon = text.lastIndexOf(':');
  const embedded = text.slice(lastColon + 1);
  if (embedded.includes('.')) {
    // ipaddr.js takes leading zeros and hex in the embedded IPv4 part, and reads "::a.b.c.d" as mapped.
    const v4 = strictIpv4(embedded);
    if (typeof v4 === 'string') return `the IPv4 part of an IPv6 address: ${v4}`;
    if (text.slice(0, lastColon + 1) === '::') return `"::${embedded}" is the deprecated IPv4-compatible form: write ${embedded} or ::ffff:${embedded}`;
  }
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** An address with IPv4-mapped IPv6 mapped to IPv4 (RFC 4291 §2.5.5.2). */
function mapAddress(raw: Uint8Array): { family: IpFamily; bytes: Uint8Array } {
  if (isIpv4MappedBytes(raw)) return { family: 'ipv4', bytes: raw.slice(12) };
  return { family: raw.length === 4 ? 'ipv4' : 'ipv6', bytes: raw };
}

/** One address (IPv4-mapped → IPv4); the error names the input. */
export function parseIpAddress(input: string): ParseResult<{ family: IpFamily; bytes: Uint8Array }> {
  const raw = parseRawAddress(input.trim());
  return typeof raw === 'string' ? { ok: false, error: `"${input}": ${raw}` } : { ok: true, value: mapAddress(raw) };
}

const PREFIX_LEN = /^(0|[1-9]\d{0,2})$/;

/** One IP group entry (see the grammar above); the error names the entry and says what is wrong. */
export function parseIpEntry(input: string, opts: ParseOptions = {}): ParseResult<IpEntry> {
  const fail = (why: string): ParseResult<IpEntry> => ({ ok: false, error: `"${input}": ${why}` });
  const text = input.trim();
  if (text === '') return fail('empty: expected an IP address, prefix or range');

  if (text.includes('-')) {
    if (opts.ranges === false) return fail('a range is not accepted here: give one address or a routed subnet (CIDR prefix)');
    const parts = text.split('-');
    if (parts.length !== 2) return fail('a range is two addresses joined by "-"');
    const ends = parts.map((p) => parseRawAddress(p.trim()));
    for (const e of ends) if (typeof e === 'string') return fail(`a range is two addresses joined by "-": ${e}`);
    const [first, last] = (ends as Uint8Array[]).map(mapAddress);
    if (first.family !== last.family) return fail('both ends of a range must be of one address family (::ffff:a.b.c.d counts as IPv4)');
    if (toBigInt(first.bytes) > toBigInt(last.bytes)) return fail('range start is above its end');
    return { ok: true, value: { kind: 'range', family: first.family, first: first.bytes, last: last.bytes } };
  }

  const slash = text.indexOf('/');
  const raw = parseRawAddress(slash < 0 ? text : text.slice(0, slash));
  if (typeof raw === 'string') return fail(slash < 0 && !/[.:]/.test(text) ? 'not an IP address, prefix or range' : raw);
  const rawBits = raw.length * 8;
  let prefixLen = rawBits;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    prefixLen = Number(lenText);
    if (!PREFIX_LEN.test(lenText) || prefixLen > rawBits) return fail(`prefix length must be a whole number 0-${rawBits}`);
  }
  const network = maskBytes(raw, prefixLen);
  if (!sameBytes(network, raw) && opts.hostBits !== 'clear') {
    return fail(`host bits are set (did you mean ${formatIpEntry(prefixOf(network, prefixLen), { bareHost: false })}?)`);
  }
  return { ok: true, value: prefixOf(network, prefixLen) };
}

/** A network as an entry, ::ffff:0:0/96 and longer as the IPv4 prefix of length len - 96. */
function prefixOf(network: Uint8Array, prefixLen: number): IpEntry & { kind: 'prefix' } {
  if (prefixLen >= 96 && isIpv4MappedBytes(network)) return { kind: 'prefix', family: 'ipv4', bytes: network.slice(12), prefixLen: prefixLen - 96 };
  return { kind: 'prefix', family: network.length === 4 ? 'ipv4' : 'ipv6', bytes: network, prefixLen };
}

/**
 * Canonical text: "a/len" for a prefix ("a" for a single address with bareHost), "first-last" for a
 * range. IPv4 dotted, IPv6 as RFC 5952 (lower case, longest zero run compressed).
 */
export function formatIpEntry(e: IpEntry, opts: { bareHost?: boolean } = {}): string {
  if (e.kind === 'range') return `${formatIpBytes(e.first)}-${formatIpBytes(e.last)}`;
  const addr = formatIpBytes(e.bytes);
  return opts.bareHost && e.prefixLen === bitsOf(e.family) ? addr : `${addr}/${e.prefixLen}`;
}

// ---- the uses

/**
 * The hub's check of one entry an operator sends for an IP group: its canonical text, or an Error
 * whose message names the entry and what is wrong. Host bits are refused.
 */
export function canonicalIpGroupEntry(entry: string): string {
  const r = parseIpEntry(String(entry));
  if (!r.ok) throw new Error(r.error);
  return formatIpEntry(r.value);
}

/** An entry of a stored or pushed IP group (validated before): host bits cleared. Throws on garbage. */
export function parseIpGroupEntry(entry: string): IpEntry {
  const r = parseIpEntry(entry, { hostBits: 'clear' });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** The CIDR prefixes an entry stands for (a range → its smallest exact cover); for LPM tables. */
export function ipEntryPrefixes(e: IpEntry): IpPrefix[] {
  if (e.kind === 'prefix') return [{ family: e.family, bytes: e.bytes, prefixLen: e.prefixLen }];
  return rangeToPrefixes(e.first, e.last);
}

/** Smallest set of aligned CIDR blocks covering exactly [first, last] (both inclusive, one family). */
export function rangeToPrefixes(first: Uint8Array, last: Uint8Array): IpPrefix[] {
  if (first.length !== last.length) throw new Error('range ends are of different address families');
  const family: IpFamily = first.length === 4 ? 'ipv4' : 'ipv6';
  const bits = first.length * 8;
  let start = toBigInt(first);
  const end = toBigInt(last);
  if (start > end) throw new Error('range start is above its end');
  const out: IpPrefix[] = [];
  while (start <= end) {
    // Largest block aligned at start: limited by start's trailing zero bits and by what is left.
    let hostBits = 0;
    while (hostBits < bits && ((start >> BigInt(hostBits)) & 1n) === 0n) hostBits++;
    while (hostBits > 0 && start + (1n << BigInt(hostBits)) - 1n > end) hostBits--;
    out.push({ family, bytes: fromBigInt(start, first.length), prefixLen: bits - hostBits });
    start += 1n << BigInt(hostBits);
  }
  return out;
}

/** The inclusive interval an entry covers. */
export function ipEntrySpan(e: IpEntry): IpSpan {
  if (e.kind === 'range') return { family: e.family, first: toBigInt(e.first), last: toBigInt(e.last) };
  const first = toBigInt(e.bytes);
  return { family: e.family, first, last: first + (1n << BigInt(bitsOf(e.family) - e.prefixLen)) - 1n };
}

export function spanContains(outer: IpSpan, inner: IpSpan): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

/**
 * A customer's "IP address or routed subnet" (access records): one address or a CIDR prefix with no
 * host bits, no range. Canonical text leaves a single address bare ("192.0.2.7", not "/32").
 */
export function normalizeAddressOrSubnet(input: string): { ok: true; text: string; span: IpSpan } | { ok: false; error: string } {
  const r = parseIpEntry(input, { ranges: false });
  if (!r.ok) return r;
  return { ok: true, text: formatIpEntry(r.value, { bareHost: true }), span: ipEntrySpan(r.value) };
}
