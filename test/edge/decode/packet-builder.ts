/**
 * Byte-level builders for NetFlow v5/v9 and IPFIX datagrams in tests: every field is written
 * explicitly, so a test reads like the RFC's packet diagrams.
 */

export function u8(v: number): number[] { return [v & 0xff]; }
export function u16(v: number): number[] { return [(v >>> 8) & 0xff, v & 0xff]; }
export function u32(v: number): number[] { return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]; }
export function u64(v: number): number[] { return [...u32(Math.floor(v / 2 ** 32)), ...u32(v >>> 0)]; }
export function ip4(text: string): number[] { return text.split('.').map(Number); }
export function ip6(text: string): number[] {
  const [head, tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = text.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}
export function bytes(...parts: number[][]): Uint8Array { return Uint8Array.from(parts.flat()); }

export interface V5Flow {
  src: string; dst: string; inIf?: number; outIf?: number; packets: number; bytes: number;
  firstMs?: number; lastMs?: number; srcPort?: number; dstPort?: number; protocol?: number;
}

export function v5Packet(h: { uptimeMs: number; unixSecs: number; sequence: number; sampling?: number; count?: number },
  flows: V5Flow[]): Uint8Array {
  return bytes(
    u16(5), u16(h.count ?? flows.length), u32(h.uptimeMs), u32(h.unixSecs), u32(0), u32(h.sequence),
    u8(0), u8(0), u16(h.sampling ?? 0),
    ...flows.map((f) => [
      ...ip4(f.src), ...ip4(f.dst), ...ip4('0.0.0.0'), ...u16(f.inIf ?? 0), ...u16(f.outIf ?? 0),
      ...u32(f.packets), ...u32(f.bytes), ...u32(f.firstMs ?? h.uptimeMs), ...u32(f.lastMs ?? h.uptimeMs),
      ...u16(f.srcPort ?? 0), ...u16(f.dstPort ?? 0), 0, 0, f.protocol ?? 6, 0, ...u16(0), ...u16(0), 0, 0, 0, 0,
    ]),
  );
}

/** A v9 flowset or IPFIX set: id, length (header included), body, padded to 4 bytes if asked. */
export function set(id: number, body: number[], padTo4 = false): number[] {
  const padding = padTo4 ? (4 - ((body.length + 4) % 4)) % 4 : 0;
  return [...u16(id), ...u16(4 + body.length + padding), ...body, ...Array(padding).fill(0)];
}

/** v9 template record: [type, length] pairs. */
export function v9Template(templateId: number, fields: Array<[number, number]>): number[] {
  return [...u16(templateId), ...u16(fields.length), ...fields.flatMap(([t, l]) => [...u16(t), ...u16(l)])];
}

export function v9OptionsTemplate(templateId: number, scope: Array<[number, number]>, options: Array<[number, number]>): number[] {
  return [
    ...u16(templateId), ...u16(scope.length * 4), ...u16(options.length * 4),
    ...scope.flatMap(([t, l]) => [...u16(t), ...u16(l)]), ...options.flatMap(([t, l]) => [...u16(t), ...u16(l)]),
  ];
}

export function v9Packet(h: { uptimeMs: number; unixSecs: number; sequence: number; sourceId: number; count?: number },
  ...sets: number[][]): Uint8Array {
  return bytes(u16(9), u16(h.count ?? sets.length), u32(h.uptimeMs), u32(h.unixSecs), u32(h.sequence), u32(h.sourceId), ...sets);
}

/** IPFIX field specifier: [id, length] or [id, length, enterprise]. */
export type IpfixField = [number, number] | [number, number, number];

function fieldSpecs(fields: IpfixField[]): number[] {
  return fields.flatMap(([id, length, enterprise]) =>
    enterprise === undefined ? [...u16(id), ...u16(length)] : [...u16(id | 0x8000), ...u16(length), ...u32(enterprise)]);
}

export function ipfixTemplate(templateId: number, fields: IpfixField[]): number[] {
  return [...u16(templateId), ...u16(fields.length), ...fieldSpecs(fields)];
}

export function ipfixOptionsTemplate(templateId: number, scopeCount: number, fields: IpfixField[]): number[] {
  return [...u16(templateId), ...u16(fields.length), ...u16(scopeCount), ...fieldSpecs(fields)];
}

export function ipfixMessage(h: { exportSecs: number; sequence: number; domain: number }, ...sets: number[][]): Uint8Array {
  const body = sets.flat();
  return bytes(u16(10), u16(16 + body.length), u32(h.exportSecs), u32(h.sequence), u32(h.domain), body);
}

/** IPFIX variable-length encoding (RFC 7011 §7): 1 length byte, or 255 and 2 length bytes. */
export function varField(content: number[], long = false): number[] {
  return long || content.length >= 255 ? [255, ...u16(content.length), ...content] : [content.length, ...content];
}

export function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}
