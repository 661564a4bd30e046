import { hubError } from '../errors';
import type { NetflowGroup, NetflowGroupKind } from './access-model';
import { CUSTOMER_USERNAME, MIN_PASSWORD_LENGTH, NETFLOW_GROUP_KINDS } from './access-model';
import { normalizeAddressOrSubnet } from '../../common/ip-prefix';
import { GROUP_NAME, parseSubjectId } from '../../common/subject-id';

/**
 * Pure validation of what operators send for an access record. Each check fails with
 * VALIDATION_FAILED naming the field, so the UI can put the message next to it.
 */
export interface RecordFields {
  enabled?: boolean;
  netflowUrl?: string | null;
  username?: string;
  /** Blank or absent keeps the stored password. */
  password?: string;
  clearPassword?: boolean;
  group?: NetflowGroup | null;
  ipAddress?: string | null;
  notes?: string;
  showPasswordInClientArea?: boolean;
}

function fail(field: string, message: string): never {
  throw hubError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

export function parseNetflowGroup(raw: unknown): NetflowGroup {
  if (typeof raw !== 'object' || raw === null) fail('group', 'expected {kind, value}');
  const { kind, value } = raw as { kind?: unknown; value?: unknown };
  if (typeof kind !== 'string' || !NETFLOW_GROUP_KINDS.includes(kind as NetflowGroupKind)) fail('group.kind', `one of ${NETFLOW_GROUP_KINDS.join(', ')}`);
  if (typeof value !== 'string' || value.trim() === '') fail('group.value', 'required');
  const v = value.trim();
  switch (kind as NetflowGroupKind) {
    case 'ip_group': {
      const name = v.startsWith('ipg:') ? v.slice(4) : v;
      if (!GROUP_NAME.test(name)) fail('group.value', 'an IP group name: 1-64 of [A-Za-z0-9_.-]');
      return { kind: 'ip_group', value: name };
    }
    case 'interface': {
      const parsed = parseSubjectId(v.startsWith('if:') ? v : `if:${v}`);
      if (!parsed || parsed.kind !== 'interface') fail('group.value', 'an interface as <exporter address>/<ifIndex>');
      return { kind: 'interface', value: `${parsed.exporter}/${parsed.ifIndex}` };
    }
    case 'customer_label':
      if (v.length > 200) fail('group.value', 'at most 200 characters');
      return { kind: 'customer_label', value: v };
    case 'billing_group':
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(v)) fail('group.value', 'a billing group id');
      return { kind: 'billing_group', value: v };
  }
}

/** Checks types and formats of the fields that are present; `mode` says which are required. */
export function parseRecordFields(body: Record<string, unknown>, mode: 'create' | 'update'): RecordFields {
  const out: RecordFields = {};
  const bool = (k: 'enabled' | 'clearPassword' | 'showPasswordInClientArea') => {
    if (body[k] === undefined) return;
    if (typeof body[k] !== 'boolean') fail(k, 'expected true or false');
    out[k] = body[k] as boolean;
  };
  bool('enabled'); bool('clearPassword'); bool('showPasswordInClientArea');

  if (body.username !== undefined || mode === 'create') {
    if (typeof body.username !== 'string' || !CUSTOMER_USERNAME.test(body.username)) fail('username', '1-128 of [A-Za-z0-9_.@-]');
    out.username = body.username;
  }
  if (body.password !== undefined && body.password !== null) {
    if (typeof body.password !== 'string') fail('password', 'expected a string');
    // Blank means "keep the stored one" (the edit form never shows the stored password).
    if (body.password !== '') {
      if (body.password.length < MIN_PASSWORD_LENGTH || body.password.length > 256) fail('password', `${MIN_PASSWORD_LENGTH}-256 characters`);
      out.password = body.password;
    }
  }
  if (out.password !== undefined && out.clearPassword) fail('password', 'give a new password or clearPassword, not both');

  if (body.netflowUrl !== undefined) {
    if (body.netflowUrl === null || body.netflowUrl === '') out.netflowUrl = null;
    else {
      if (typeof body.netflowUrl !== 'string') fail('netflowUrl', 'expected a URL');
      let url: URL;
      try { url = new URL(body.netflowUrl); } catch { fail('netflowUrl', 'not a valid URL'); }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('netflowUrl', 'must be http(s)');
      out.netflowUrl = url.toString();
    }
  }
  if (body.group !== undefined) out.group = body.group === null ? null : parseNetflowGroup(body.group);
  if (body.ipAddress !== undefined) {
    if (body.ipAddress === null || body.ipAddress === '') out.ipAddress = null;
    else {
      if (typeof body.ipAddress !== 'string') fail('ipAddress', 'expected an address or a subnet');
      const ip = normalizeAddressOrSubnet(body.ipAddress);
      if (!ip.ok) fail('ipAddress', ip.error);
      out.ipAddress = ip.text;
    }
  }
  if (body.notes !== undefined) {
    if (typeof body.notes !== 'string' || body.notes.length > 10_000) fail('notes', 'text up to 10000 characters');
    out.notes = body.notes;
  }
  return out;
}
