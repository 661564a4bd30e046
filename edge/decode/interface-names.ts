import { readUint } from './byte-reader';
import { interfaceNameFromBytes } from '../../common/interface-name';
import type { TemplateField } from './template-plan';

/**
 * Interface names from options data (rare: a few records per exporter every few minutes), never on
 * the data-record path. Cisco IOS/IOS-XE ("option interface-table"), Juniper and Huawei send ifName as
 * IE 82 interfaceName and ifDescr as IE 83 interfaceDescription, keyed by:
 *   - NetFlow v9: the scope field of type 2 "Interface" (RFC 3954 §6.1), or option field 10 INPUT_SNMP;
 *   - IPFIX: the scope IE 10 ingressInterface (or 14 egressInterface).
 */
export const IE_INTERFACE_NAME = 82;
export const IE_INTERFACE_DESCRIPTION = 83;
/** RFC 3954 §6.1 scope field type "Interface". */
const V9_SCOPE_INTERFACE = 2;
const IE_INGRESS_INTERFACE = 10;
const IE_EGRESS_INTERFACE = 14;

/** Field indexes of an options template that carries names: the ifIndex and at least one name. */
export interface InterfaceNameFields { ifIndex: number; name: number; description: number }

/** Compiled once per options template; null when it carries no names or no ifIndex to key them by. */
export function interfaceNameFieldsOf(fields: readonly TemplateField[]): InterfaceNameFields | null {
  let ifIndex = -1;
  let ifIndexRank = 0; // scope "Interface" / ingress beats egress
  let name = -1;
  let description = -1;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const fitsIndex = f.length >= 1 && f.length <= 8;
    if (f.enterprise === -1 && f.id === V9_SCOPE_INTERFACE && fitsIndex && ifIndexRank < 3) { ifIndex = i; ifIndexRank = 3; }
    if (f.enterprise !== 0) continue;
    if (f.id === IE_INGRESS_INTERFACE && fitsIndex && ifIndexRank < 2) { ifIndex = i; ifIndexRank = 2; }
    else if (f.id === IE_EGRESS_INTERFACE && fitsIndex && ifIndexRank < 1) { ifIndex = i; ifIndexRank = 1; }
    else if (f.id === IE_INTERFACE_NAME && name < 0) name = i;
    else if (f.id === IE_INTERFACE_DESCRIPTION && description < 0) description = i;
  }
  return ifIndex >= 0 && (name >= 0 || description >= 0) ? { ifIndex, name, description } : null;
}

export interface InterfaceNameEntry { name: string; description: string }

/** Reads one options record's names (offsets relative to base, as decodeDataSet laid them out). */
export function readInterfaceNames(
  fields: InterfaceNameFields, view: DataView, base: number, offsets: Int32Array, lengths: Int32Array,
): { ifIndex: number; entry: InterfaceNameEntry } | null {
  const ifIndex = readUint(view, base + offsets[fields.ifIndex], lengths[fields.ifIndex]);
  if (!(ifIndex >= 0 && ifIndex <= 0xffffffff)) return null;
  const text = (i: number) => (i < 0 ? '' : interfaceNameFromBytes(new Uint8Array(view.buffer, view.byteOffset + base + offsets[i], lengths[i])));
  const entry = { name: text(fields.name), description: text(fields.description) };
  return entry.name === '' && entry.description === '' ? null : { ifIndex, entry };
}

/**
 * The names the decoder keeps, bounded: at most maxPerExporter interfaces per exporter and maxTotal
 * over all (they go in the status message). A new ifIndex beyond either cap is refused and counted
 * (the port is spoofable; a name already known is updated in place and never pushed out by one that is not).
 */
export function createInterfaceNameTable(opts: { maxPerExporter: number; maxTotal: number; refused(detail: Record<string, unknown>): void }) {
  const byExporter = new Map<string, Map<number, InterfaceNameEntry>>();
  let total = 0;
  return {
    set(exporter: string, ifIndex: number, entry: InterfaceNameEntry): void {
      let names = byExporter.get(exporter);
      const known = names?.get(ifIndex);
      if (known !== undefined) { known.name = entry.name; known.description = entry.description; return; }
      if ((names?.size ?? 0) >= opts.maxPerExporter || total >= opts.maxTotal) {
        opts.refused({ exporter, maxPerExporter: opts.maxPerExporter, maxTotal: opts.maxTotal });
        return;
      }
      if (names === undefined) byExporter.set(exporter, (names = new Map()));
      names.set(ifIndex, { ...entry });
      total++;
    },
    /** The exporter was forgotten (evicted or idle): its names go with it. */
    forget(exporter: string): void {
      total -= byExporter.get(exporter)?.size ?? 0;
      byExporter.delete(exporter);
    },
    of(exporter: string): { ifIndex: number; name: string; description: string }[] {
      const names = byExporter.get(exporter);
      if (names === undefined) return [];
      return [...names.entries()].sort(([a], [b]) => a - b).map(([ifIndex, e]) => ({ ifIndex, name: e.name, description: e.description }));
    },
    size: () => total,
  };
}
