/**
 * Parsing of the prefix notations an IpGroup may contain (proto IpGroup.prefixes):
 * "192.0.2.0/24", "2001:db8::/32", a bare address (a /32 or /128) or a range "a-b" of the same
 * family, which is expanded to the smallest list of CIDR prefixes covering exactly [a, b].
 * ipaddr.js does the address parsing; strict four-part decimal for IPv4 ("10" is not 0.0.0.10).
 */
import ipaddr from 'ipaddr.js';

export interface ParsedPrefix {
  /** Network address bytes, 4 or 16, host bits zeroed. */
  bytes: Uint8Array;
  prefixLen: number;
}

function parseAddress(text: string): Uint8Array {
  const t = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(t)) return Uint8Array.from(ipaddr.IPv4.parse(t).toByteArray());
  if (ipaddr.IPv6.isValid(t)) return Uint8Array.from(ipaddr.IPv6.parse(t).toByteArray());
  throw new Error(`not an IPv4 or IPv6 address: "${t}"`);
}

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

/** Zero the host bits so "192.0.2.7/24" and "192.0.2.0/24" are the same prefix. */
function maskBytes(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefixLen; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** Smallest set of aligned CIDR blocks covering exactly [first, last] (both inclusive). */
export function rangeToPrefixes(first: Uint8Array, last: Uint8Array): ParsedPrefix[] {
  if (first.length !== last.length) throw new Error('range ends are of different address families');
  const bits = first.length * 8;
  let start = toBigInt(first);
  const end = toBigInt(last);
  if (start > end) throw new Error('range start is above its end');
  const out: ParsedPrefix[] = [];
  while (start <= end) {
    // Largest block aligned at start: limited by start's trailing zero bits and by what is left.
    let hostBits = 0;
    while (hostBits < bits && ((start >> BigInt(hostBits)) & 1n) === 0n) hostBits++;
    while (hostBits > 0 && start + (1n << BigInt(hostBits)) - 1n > end) hostBits--;
    out.push({ bytes: fromBigInt(start, first.length), prefixLen: bits - hostBits });
    start += 1n << BigInt(hostBits);
  }
  return out;
}

/** One IpGroup entry → the prefixes it stands for. Throws an Error naming the entry when invalid. */
export function parsePrefixEntry(entry: string): ParsedPrefix[] {
  try {
    const text = entry.trim();
    const dash = text.indexOf('-');
    if (dash > 0) return rangeToPrefixes(parseAddress(text.slice(0, dash)), parseAddress(text.slice(dash + 1)));
    const slash = text.indexOf('/');
    if (slash < 0) {
      const bytes = parseAddress(text);
      return [{ bytes, prefixLen: bytes.length * 8 }];
    }
    const bytes = parseAddress(text.slice(0, slash));
    const lenText = text.slice(slash + 1);
    const prefixLen = Number(lenText);
    if (!/^\d{1,3}$/.test(lenText) || prefixLen > bytes.length * 8) throw new Error(`bad prefix length "${lenText}"`);
    return [{ bytes: maskBytes(bytes, prefixLen), prefixLen }];
  } catch (err) {
    throw new Error(`invalid prefix or range "${entry}": ${(err as Error).message}`);
  }
}

/** Text form of a 4- or 16-byte address (for live view and logs, not the hot path). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) return ipaddr.fromByteArray(Array.from(bytes)).toString();
  return '';
}
