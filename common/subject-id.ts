/**
 * Billing subject ids, shared by edge and hub:
 *   interface: "if:<exporter address>/<ifIndex>"  (IPv6 addresses contain ':', so '/' separates)
 *   IP group:  "ipg:<group name>"
 */
export const GROUP_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function interfaceSubjectId(exporter: string, ifIndex: number): string {
  return `if:${exporter}/${ifIndex}`;
}

export function ipGroupSubjectId(groupName: string): string {
  if (!GROUP_NAME.test(groupName)) throw new Error(`invalid IP group name: ${groupName}`);
  return `ipg:${groupName}`;
}

export type ParsedSubjectId =
  | { kind: 'interface'; exporter: string; ifIndex: number }
  | { kind: 'ip_group'; group: string };

export function parseSubjectId(id: string): ParsedSubjectId | undefined {
  if (id.startsWith('if:')) {
    const slash = id.lastIndexOf('/');
    const ifIndex = Number(id.slice(slash + 1));
    if (slash < 4 || !Number.isInteger(ifIndex) || ifIndex < 0) return undefined;
    return { kind: 'interface', exporter: id.slice(3, slash), ifIndex };
  }
  if (id.startsWith('ipg:') && GROUP_NAME.test(id.slice(4))) return { kind: 'ip_group', group: id.slice(4) };
  return undefined;
}

/** A subject's label for lists and charts: exporter and ifIndex, or the group's name (the id itself when unparseable). */
export function subjectLabel(subjectId: string): string {
  const parsed = parseSubjectId(subjectId);
  if (!parsed) return subjectId;
  return parsed.kind === 'interface' ? `${parsed.exporter} ifIndex ${parsed.ifIndex}` : parsed.group;
}
