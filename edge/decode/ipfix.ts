import { decodeDataSet } from './data-set';
import type { DecodeSession, DomainState, ExporterState, MessageTime } from './decoder-state';
import type { RecordOutput } from './record-output';
import type { TemplateField } from './template-plan';

export const IPFIX_HEADER_LENGTH = 16;
const TEMPLATE_SET_ID = 2;
const OPTIONS_TEMPLATE_SET_ID = 3;

/**
 * The export time of the message being decoded, rewritten per message rather than allocated
 * (decodeTransient allocates nothing per record and little per datagram). Only read while the
 * message is decoded; session.hold copies it for held data.
 */
const time: MessageTime = { exportMs: 0, uptimeMs: -1 };

/**
 * IPFIX (RFC 7011). Message header: version 10, message length, export time (s), sequence number
 * (data records modulo 2^32, §3.1), observation domain id. One datagram normally holds one message;
 * further messages that follow within the datagram are decoded too.
 */
export function decodeIpfix(
  session: DecodeSession,
  exporter: ExporterState,
  bytes: Uint8Array,
  view: DataView,
  receivedAtMs: number,
  out: RecordOutput,
): void {
  const length = bytes.length;
  if (length < IPFIX_HEADER_LENGTH) {
    session.fail(exporter.address, 'truncated-header', { version: 10, length });
    return;
  }
  let offset = 0;
  while (length - offset >= IPFIX_HEADER_LENGTH) {
    if (view.getUint16(offset) !== 10) {
      session.fail(exporter.address, 'trailing-garbage', { version: 10, offset });
      return;
    }
    const messageLength = view.getUint16(offset + 2);
    if (messageLength < IPFIX_HEADER_LENGTH) {
      session.fail(exporter.address, 'bad-message-length', { version: 10, messageLength });
      return;
    }
    let messageEnd = offset + messageLength;
    if (messageEnd > length) {
      session.fail(exporter.address, 'truncated-message', { version: 10, messageLength, available: length - offset });
      messageEnd = length;
    }
    decodeMessage(session, exporter, bytes, view, offset, messageEnd, receivedAtMs, out);
    offset = messageEnd;
  }
}

function decodeMessage(
  session: DecodeSession, exporter: ExporterState, bytes: Uint8Array, view: DataView,
  offset: number, messageEnd: number, receivedAtMs: number, out: RecordOutput,
): void {
  time.exportMs = view.getUint32(offset + 4) * 1000;
  const sequence = view.getUint32(offset + 8);
  const domain = session.domainOf(exporter, 10, view.getUint32(offset + 12));
  let records = 0;
  let optionRecords = 0;
  let countUnknown = false;

  let p = offset + IPFIX_HEADER_LENGTH;
  while (messageEnd - p >= 4) {
    const setId = view.getUint16(p);
    const setLength = view.getUint16(p + 2);
    if (setLength < 4) {
      session.fail(exporter.address, 'bad-set-length', { version: 10, setId, setLength });
      countUnknown = true;
      break;
    }
    let end = p + setLength;
    const truncated = end > messageEnd;
    if (truncated) {
      session.fail(exporter.address, 'truncated-set', { version: 10, setId, setLength, available: messageEnd - p });
      end = messageEnd;
      countUnknown = true;
    }
    if (setId === TEMPLATE_SET_ID) readTemplates(session, exporter, domain, bytes, view, p + 4, end, false, out);
    else if (setId === OPTIONS_TEMPLATE_SET_ID) readTemplates(session, exporter, domain, bytes, view, p + 4, end, true, out);
    else if (setId >= 256) {
      const slot = domain.templates.get(setId);
      if (slot !== undefined) {
        slot.lastUse = session.tick;
        const n = decodeDataSet(session, exporter, domain, slot.plan, bytes, view, p + 4, end, time, out);
        records += n;
        if (slot.plan.isOptions) optionRecords += n;
      }
      else {
        session.counters.templateMisses++;
        session.hold(exporter, domain, setId, bytes, p + 4, end, time, receivedAtMs);
        countUnknown = true;
      }
    } else {
      session.fail(exporter.address, 'reserved-set-id', { version: 10, setId });
    }
    if (truncated) break;
    p = end;
  }

  const lost = domain.sequence.observe(sequence, records, records - optionRecords);
  if (lost !== 0) {
    exporter.sequenceGaps += lost;
    session.counters.sequenceGaps += lost;
  }
  if (countUnknown) domain.sequence.unknown();
}

/**
 * Template set (2) or options template set (3), RFC 7011 §3.4.1/§3.4.2. A field specifier with the
 * enterprise bit set carries a 4-byte enterprise number; such fields are kept in the plan only to be
 * skipped by their length. A record with field count 0 is a withdrawal (§8.1); template id 2 (or 3)
 * with count 0 withdraws all templates (or options templates) of the domain.
 */
function readTemplates(
  session: DecodeSession, exporter: ExporterState, domain: DomainState,
  bytes: Uint8Array, view: DataView, start: number, end: number, isOptions: boolean, out: RecordOutput,
): void {
  let p = start;
  while (end - p >= 4) {
    const templateId = view.getUint16(p);
    const fieldCount = view.getUint16(p + 2);
    if (fieldCount === 0) {
      if (templateId === 0) return; // RFC 7011 §3.3.1 padding
      if (templateId === (isOptions ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID)) {
        for (const [id, slot] of domain.templates) {
          if (slot.plan.isOptions === isOptions) session.withdrawTemplate(exporter, domain, id);
        }
      } else if (templateId >= 256) {
        session.withdrawTemplate(exporter, domain, templateId);
      } else {
        session.fail(exporter.address, 'bad-template', { version: 10, templateId, fieldCount });
        return;
      }
      p += 4;
      continue;
    }
    if (templateId < 256) {
      session.fail(exporter.address, 'bad-template', { version: 10, templateId, fieldCount });
      return;
    }
    let q = p + 4;
    let scopeCount = 0;
    if (isOptions) {
      if (end - q < 2) {
        session.fail(exporter.address, 'bad-options-template', { version: 10, templateId, truncated: true });
        return;
      }
      scopeCount = view.getUint16(q);
      q += 2;
      if (scopeCount > fieldCount) {
        session.fail(exporter.address, 'bad-options-template', { version: 10, templateId, fieldCount, scopeCount });
        return;
      }
    }
    // Every field specifier takes at least 4 bytes: a field count the set cannot hold is refused
    // before anything is allocated for it (65535 claimed fields in a 20-byte set).
    if (fieldCount * 4 > end - q) {
      session.fail(exporter.address, 'bad-template', { version: 10, templateId, fieldCount, truncated: true });
      return;
    }
    const fields: TemplateField[] = new Array(fieldCount);
    for (let f = 0; f < fieldCount; f++) {
      if (end - q < 4) {
        session.fail(exporter.address, 'bad-template', { version: 10, templateId, fieldCount, truncated: true });
        return;
      }
      const rawId = view.getUint16(q);
      const fieldLength = view.getUint16(q + 2);
      q += 4;
      let enterprise = 0;
      if (rawId & 0x8000) {
        if (end - q < 4) {
          session.fail(exporter.address, 'bad-template', { version: 10, templateId, fieldCount, truncated: true });
          return;
        }
        enterprise = view.getUint32(q);
        q += 4;
      }
      fields[f] = { id: rawId & 0x7fff, enterprise, length: fieldLength };
    }
    session.storeTemplate(exporter, domain, templateId, fields, isOptions, bytes.subarray(p, q), out);
    p = q;
  }
}
