import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Dotted quads and IPv6 text only: ipaddr.parse would also take "10" or "0x7f.1" as IPv4, a trap in a billing list. */
function parseStrict(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text) && text.includes(':')) return ipaddr.IPv6.parse(text);
  return undefined;
}

/**
 * Validates one IP group entry and returns its canonical text, or throws a plain Error saying why.
 * Accepted: a CIDR prefix ("192.0.2.0/24", "2001:db8::/32") with no host bits set (a prefix with
 * host bits is almost always a typo for a different network, so it is refused rather than guessed),
 * a single address (taken as /32 or /128), or a range "first-last" of one family with first <= last.
 */
export function canonicalPrefix(entry: string): string {
  const text = String(entry).trim();
  if (text.includes('-')) {
    const parts = text.split('-').map((s) => s.trim());
    const first = parts.length === 2 ? parseStrict(parts[0]) : undefined;
    const last = parts.length === 2 ? parseStrict(parts[1]) : undefined;
    if (!first || !last) throw new Error(`"${entry}": a range is two addresses joined by "-"`);
    if (first.kind() !== last.kind()) throw new Error(`"${entry}": both ends of a range must be the same IP version`);
    const fb = first.toByteArray();
    const lb = last.toByteArray();
    const i = fb.findIndex((byte, k) => byte !== lb[k]);
    if (i !== -1 && fb[i] > lb[i]) throw new Error(`"${entry}": the range starts after it ends`);
    return `${first.toString()}-${last.toString()}`;
  }
  if (text.includes('/')) {
    const [addrText, lenText, ...rest] = text.split('/');
    const addr = parseStrict(addrText);
    const maxLen = addr?.kind() === 'ipv4' ? 32 : 128;
    const len = /^\d{1,3}$/.test(lenText ?? '') ? Number(lenText) : NaN;
    if (!addr || rest.length || !(len >= 0 && len <= maxLen)) throw new Error(`"${entry}": not a valid CIDR prefix`);
    const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${len}`) : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${len}`);
    if (network.toString() !== addr.toString()) throw new Error(`"${entry}": host bits are set (did you mean ${network.toString()}/${len}?)`);
    return `${addr.toString()}/${len}`;
  }
  const addr = parseStrict(text);
  if (!addr) throw new Error(`"${entry}": not an IP address, prefix or range`);
  return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
}
