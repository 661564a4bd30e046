import { interfaceSubjectId, ipGroupSubjectId, parseSubjectId } from '../../common/subject-id';
import type { SubjectInfo } from '../ports';
import type { AccessRecord } from './access-model';
import { ipEntrySpan, normalizeAddressOrSubnet, parseIpEntry, spanContains, type IpSpan } from '../../common/ip-prefix';

/** What the hub knows when deciding what a customer may see; gathered by the caller, so this file stays pure. */
export interface ScopeContext {
  /** The operator's known subjects (for customer labels). */
  subjects: SubjectInfo[];
  /** The operator's IP groups with their entries (for address/subnet records). */
  ipGroups: { name: string; prefixes: string[] }[];
  /** Subject ids of each billing group referenced by the records. */
  billingGroups: Map<string, string[]>;
}

/**
 * The subject ids a customer may see: the union over their ENABLED records of
 * - the record's NetFlow group:
 *     ip_group → "ipg:<name>"; interface → "if:<exporter>/<ifIndex>";
 *     customer_label → every subject whose label equals the value exactly;
 *     billing_group → the billing group's subjects;
 * - for the record's "IP address or routed subnet": every IP group of the operator whose entries ALL
 *   lie inside that address/subnet. The rule is containment of the group in the customer's space, never
 *   the other way round: a group that also covers someone else's addresses is not shown, so a customer
 *   cannot see another customer's traffic. The operator defines an IP group for the customer's subnet
 *   (or a narrower one) to make that traffic visible.
 * Disabled records contribute nothing.
 */
export function resolveVisibleSubjects(records: AccessRecord[], ctx: ScopeContext): Set<string> {
  const visible = new Set<string>();
  for (const r of records) {
    if (!r.enabled) continue;
    if (r.group) {
      switch (r.group.kind) {
        case 'ip_group': visible.add(ipGroupSubjectId(r.group.value)); break;
        case 'interface': {
          const parsed = parseSubjectId(`if:${r.group.value}`);
          if (parsed?.kind === 'interface') visible.add(interfaceSubjectId(parsed.exporter, parsed.ifIndex));
          break;
        }
        case 'customer_label':
          for (const s of ctx.subjects) if (s.label === r.group.value) visible.add(s.subjectId);
          break;
        case 'billing_group':
          for (const id of ctx.billingGroups.get(r.group.value) ?? []) visible.add(id);
          break;
      }
    }
    if (r.ipAddress) {
      const ip = normalizeAddressOrSubnet(r.ipAddress);
      if (!ip.ok) continue;
      for (const g of ctx.ipGroups) if (groupInside(g.prefixes, ip.span)) visible.add(ipGroupSubjectId(g.name));
    }
  }
  return visible;
}

function groupInside(entries: string[], customer: IpSpan): boolean {
  if (entries.length === 0) return false;
  return entries.every((e) => {
    // The entry as the edge reads it (host bits cleared), so the customer sees what is counted.
    const parsed = parseIpEntry(e, { hostBits: 'clear' });
    return parsed.ok && spanContains(customer, ipEntrySpan(parsed.value));
  });
}

/** How a record's group or address reads for the customer (client area, {$netflow_group}). */
export function describeGroup(record: Pick<AccessRecord, 'group'>): string {
  if (!record.group) return '';
  switch (record.group.kind) {
    case 'ip_group': return `IP group ${record.group.value}`;
    case 'interface': return `Interface ${record.group.value}`;
    case 'customer_label': return record.group.value;
    case 'billing_group': return `Billing group ${record.group.value}`;
  }
}
