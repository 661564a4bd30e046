import ipaddr from 'ipaddr.js';

/**
 * Addresses and routed subnets of customers, as inclusive integer ranges so that prefixes
 * ("192.0.2.0/24") and the ranges IP groups may also hold ("192.0.2.10-192.0.2.20") compare alike.
 */
export interface IpSpan { family: 'ipv4' | 'ipv6'; first: bigint; last: bigint }

function toBigInt(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  // Only dotted quads for IPv4: ipaddr.js would otherwise accept "10" or "0x0a.1" as addresses.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) {
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  return undefined;
}

/**
 * A customer's "IP address or routed subnet": one address or a CIDR prefix whose host bits are zero.
 * Returns the canonical text, or an error message naming what is wrong.
 */
export function normalizeCustomerIp(input: string): { ok: true; text: string; span: IpSpan } | { ok: false; error: string } {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return { ok: false, error: `"${input}" is not an IPv4 or IPv6 address` };
  const maxBits = addr.kind() === 'ipv4' ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    bits = Number(lenText);
    if (!/^\d{1,3}$/.test(lenText) || bits > maxBits) return { ok: false, error: `"${input}": prefix length must be 0-${maxBits}` };
  }
  const span = spanOf(addr, bits);
  if (span.first !== toBigInt(addr.toByteArray())) {
    return { ok: false, error: `"${input}": host bits are set; the routed subnet starts at ${formatSpanStart(span)}/${bits}` };
  }
  const canonical = addr.kind() === 'ipv4' ? addr.toString() : (addr as ipaddr.IPv6).toString();
  return { ok: true, text: bits === maxBits ? canonical : `${canonical}/${bits}`, span };
}

function spanOf(addr: ipaddr.IPv4 | ipaddr.IPv6, bits: number): IpSpan {
  const family = addr.kind();
  const maxBits = BigInt(family === 'ipv4' ? 32 : 128);
  const value = toBigInt(addr.toByteArray());
  const hostBits = maxBits - BigInt(bits);
  const first = (value >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n };
}

function formatSpanStart(span: IpSpan): string {
  const len = span.family === 'ipv4' ? 4 : 16;
  const bytes: number[] = [];
  let n = span.first;
  for (let i = 0; i < len; i++) { bytes.unshift(Number(n & 0xffn)); n >>= 8n; }
  return ipaddr.fromByteArray(bytes).toString();
}

/** One entry of an IP group as the edge config holds it: address, prefix or "a-b" range; undefined if unparsable. */
export function parseGroupEntry(entry: string): IpSpan | undefined {
  const dash = entry.indexOf('-');
  if (dash > 0) {
    const a = parseAddress(entry.slice(0, dash).trim());
    const b = parseAddress(entry.slice(dash + 1).trim());
    if (!a || !b || a.kind() !== b.kind()) return undefined;
    const first = toBigInt(a.toByteArray());
    const last = toBigInt(b.toByteArray());
    return first <= last ? { family: a.kind(), first, last } : undefined;
  }
  const slash = entry.indexOf('/');
  const addr = parseAddress(slash < 0 ? entry.trim() : entry.slice(0, slash).trim());
  if (!addr) return undefined;
  const maxBits = addr.kind() === 'ipv4' ? 32 : 128;
  const bits = slash < 0 ? maxBits : Number(entry.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > maxBits) return undefined;
  return spanOf(addr, bits);
}

export function spanContains(outer: IpSpan, inner: IpSpan): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}
