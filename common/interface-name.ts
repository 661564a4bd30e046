/**
 * Interface names (ifName / ifDescr from exporters' options data, or an operator's own name) as the
 * edge carries them and the hub stores and shows them. Exporter names come off a spoofable UDP port,
 * so both sides apply the same bound: printable text only, at most INTERFACE_NAME_MAX characters.
 */
export const INTERFACE_NAME_MAX = 64;

// C0/C1 controls, DEL, and the bidi / zero-width format characters that can make a name read as another.
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]/gu;

/** The name as shown: controls removed, whitespace runs as one space, trimmed, cut at INTERFACE_NAME_MAX code points. */
export function cleanInterfaceName(raw: string): string {
  const text = raw.replace(NOT_PRINTABLE, '').replace(/\s+/gu, ' ').trim();
  const points = [...text];
  return points.length > INTERFACE_NAME_MAX ? points.slice(0, INTERFACE_NAME_MAX).join('').trimEnd() : text;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * An IE 82/83 string field (RFC 7011 §6.1.6: UTF-8, not terminated; v9 exporters pad with NULs):
 * decoded up to the first NUL, then cleaned. Reads at most 4 * INTERFACE_NAME_MAX bytes.
 */
export function interfaceNameFromBytes(bytes: Uint8Array): string {
  let end = Math.min(bytes.length, 4 * INTERFACE_NAME_MAX);
  const nul = bytes.subarray(0, end).indexOf(0);
  if (nul >= 0) end = nul;
  return cleanInterfaceName(utf8.decode(bytes.subarray(0, end)));
}
