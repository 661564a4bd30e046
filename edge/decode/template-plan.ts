import { ANY_WIDTH, ROLE_COUNT, ROLE_OF_IE, ROLE_WIDTH, UINT_WIDTH } from './information-elements';
import { interfaceNameFieldsOf, type InterfaceNameFields } from './interface-names';

/** RFC 7011 §7: a field length of 65535 marks a variable-length field. */
export const VARIABLE_LENGTH = 0xffff;

/** The longest set body a 16-bit set length can describe (RFC 3954 §5.3, RFC 7011 §3.3.2): a record
 *  longer than this can never arrive, so a template declaring one is refused. */
export const MAX_RECORD_LENGTH = 0xffff - 4;

/** One field specifier of a template as it came on the wire. */
export interface TemplateField {
  /** Field type / IE number without the enterprise bit. */
  id: number;
  /** 0 for IANA IEs; the private enterprise number when the IPFIX E bit is set; -1 for v9 scope fields. */
  enterprise: number;
  length: number;
}

/**
 * A template compiled once into a decoding plan: field lengths, fixed offsets when every field has a
 * fixed length, and the field index for each role (see Role). Data records are then decoded with
 * lookups only, never by walking the field list again.
 */
export interface TemplatePlan {
  templateId: number;
  isOptions: boolean;
  fieldCount: number;
  fieldLengths: Int32Array;
  /** Offset of each field in a record, or null when the template has variable-length fields. */
  fixedOffsets: Int32Array | null;
  /** Exact record length for fixed templates; the minimum (1 length byte per variable field) otherwise. */
  recordLength: number;
  /** role → field index, -1 when the template does not carry it. */
  roleField: Int16Array;
  /** The template's wire bytes, to recognise an unchanged refresh without recompiling. */
  definition: Uint8Array;
  /**
   * Fields that carry a role but not in a length that role can be read from (a 9..16-byte
   * octetDeltaCount, a 3-byte IPv4 address, a variable-length port): not used for the role, only
   * skipped by their length. The first such field, for the log; null when there is none.
   */
  badRoleFields: number;
  firstBadRoleField: { id: number; length: number } | null;
  /** Options templates that carry interface names (IE 82/83 keyed by an ifIndex): where they are; else null. */
  interfaceNames: InterfaceNameFields | null;
}

/** True when a field of this declared length can be read for a role of this width (ROLE_WIDTH). */
function fitsRole(width: number, length: number): boolean {
  if (width === ANY_WIDTH) return true;
  if (width === UINT_WIDTH) return length >= 1 && length <= 8; // never VARIABLE_LENGTH either
  return length === width;
}

export function compileTemplate(
  templateId: number,
  fields: readonly TemplateField[],
  isOptions: boolean,
  definition: Uint8Array,
): TemplatePlan {
  const fieldCount = fields.length;
  const fieldLengths = new Int32Array(fieldCount);
  const offsets = new Int32Array(fieldCount);
  const roleField = new Int16Array(ROLE_COUNT).fill(-1);
  let offset = 0;
  let variable = false;
  let minLength = 0;
  let badRoleFields = 0;
  let firstBadRoleField: { id: number; length: number } | null = null;
  for (let i = 0; i < fieldCount; i++) {
    const field = fields[i];
    fieldLengths[i] = field.length;
    offsets[i] = offset;
    if (field.length === VARIABLE_LENGTH) {
      variable = true;
      minLength += 1;
    } else {
      offset += field.length;
      minLength += field.length;
    }
    if (field.enterprise !== 0) continue; // enterprise-specific: skipped by its length, never interpreted
    const role = ROLE_OF_IE.get(field.id);
    if (role === undefined) continue;
    // Checked here, once per template, so that reading a record never has to: readUint of 9..16
    // bytes would give up to 2^128 (Infinity past 2^1024 for a variable-length field), and a
    // counter that large times a sampling rate is no flow. RFC 7011 §6.2 only allows shorter.
    if (!fitsRole(ROLE_WIDTH[role], field.length)) {
      if (badRoleFields++ === 0) firstBadRoleField = { id: field.id, length: field.length };
      continue;
    }
    // First occurrence wins: a template that repeats an IE (rare, but legal) keeps the first one.
    if (roleField[role] === -1) roleField[role] = i;
  }
  return {
    templateId,
    isOptions,
    fieldCount,
    fieldLengths,
    fixedOffsets: variable ? null : offsets,
    recordLength: minLength,
    roleField,
    definition,
    badRoleFields,
    firstBadRoleField,
    interfaceNames: isOptions ? interfaceNameFieldsOf(fields) : null,
  };
}

/** True when a refreshed template has the same wire definition as the cached one. */
export function sameDefinition(plan: TemplatePlan, definition: Uint8Array): boolean {
  const a = plan.definition;
  if (a.length !== definition.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== definition[i]) return false;
  return true;
}

/**
 * Lays out one record of a template with variable-length fields (RFC 7011 §7: a 1-byte length, or
 * 255 followed by a 2-byte length). Fills offsets (relative to start) and lengths per field.
 * Returns the record's end, or -1 when the record runs past `end`.
 */
export function layoutVariableRecord(
  plan: TemplatePlan,
  bytes: Uint8Array,
  start: number,
  end: number,
  offsets: Int32Array,
  lengths: Int32Array,
): number {
  let p = start;
  const declared = plan.fieldLengths;
  for (let i = 0; i < plan.fieldCount; i++) {
    let length = declared[i];
    if (length === VARIABLE_LENGTH) {
      if (p >= end) return -1;
      length = bytes[p++];
      if (length === 255) {
        if (p + 2 > end) return -1;
        length = (bytes[p] << 8) | bytes[p + 1];
        p += 2;
      }
    }
    offsets[i] = p - start;
    lengths[i] = length;
    p += length;
    if (p > end) return -1;
  }
  return p;
}
