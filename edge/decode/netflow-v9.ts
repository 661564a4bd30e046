import { decodeDataSet } from './data-set';
import type { DecodeSession, DomainState, ExporterState, MessageTime } from './decoder-state';
import type { RecordOutput } from './record-output';
import type { TemplateField } from './template-plan';

export const V9_HEADER_LENGTH = 20;

/**
 * The header times of the datagram being decoded, rewritten per datagram rather than allocated
 * (decodeTransient allocates nothing per record and little per datagram). Only read while the
 * datagram is decoded; session.hold copies it for held data.
 */
const time: MessageTime = { exportMs: 0, uptimeMs: 0 };

/**
 * NetFlow v9 (RFC 3954). Header: version, count, sysUptime, unix secs, sequence (export packets,
 * §5.1), source id. Flowsets are walked by their own lengths to the end of the datagram: the header
 * count is only a hint (softflowd writes one that does not match the flowsets).
 */
export function decodeNetflowV9(
  session: DecodeSession,
  exporter: ExporterState,
  bytes: Uint8Array,
  view: DataView,
  receivedAtMs: number,
  out: RecordOutput,
): void {
  const length = bytes.length;
  if (length < V9_HEADER_LENGTH) {
    session.fail(exporter.address, 'truncated-header', { version: 9, length });
    return;
  }
  time.exportMs = view.getUint32(8) * 1000;
  time.uptimeMs = view.getUint32(4);
  const sequence = view.getUint32(12);
  const domain = session.domainOf(exporter, 9, view.getUint32(16));
  const lost = domain.sequence.observe(sequence, 1);
  if (lost !== 0) {
    exporter.sequenceGaps += lost;
    session.counters.sequenceGaps += lost;
  }

  let p = V9_HEADER_LENGTH;
  // RFC 3954 §5.3: a flowset header is 4 bytes; fewer bytes left over are padding.
  while (length - p >= 4) {
    const setId = view.getUint16(p);
    const setLength = view.getUint16(p + 2);
    if (setLength < 4) {
      session.fail(exporter.address, 'bad-set-length', { version: 9, setId, setLength });
      return; // cannot find the next flowset
    }
    let end = p + setLength;
    const truncated = end > length;
    if (truncated) {
      session.fail(exporter.address, 'truncated-set', { version: 9, setId, setLength, available: length - p });
      end = length; // decode what is there, then stop
    }
    if (setId === 0) readTemplates(session, exporter, domain, bytes, view, p + 4, end, out);
    else if (setId === 1) readOptionsTemplates(session, exporter, domain, bytes, view, p + 4, end, out);
    else if (setId >= 256) {
      const slot = domain.templates.get(setId);
      if (slot !== undefined) {
        slot.lastUse = session.tick;
        decodeDataSet(session, exporter, domain, slot.plan, bytes, view, p + 4, end, time, out);
      } else {
        session.counters.templateMisses++;
        session.hold(exporter, domain, setId, bytes, p + 4, end, time, receivedAtMs);
      }
    } else {
      session.fail(exporter.address, 'reserved-set-id', { version: 9, setId });
    }
    if (truncated) return;
    p = end;
  }
}

/** Template flowset (id 0): template id, field count, then (type, length) pairs. */
function readTemplates(
  session: DecodeSession, exporter: ExporterState, domain: DomainState,
  bytes: Uint8Array, view: DataView, start: number, end: number, out: RecordOutput,
): void {
  let p = start;
  while (end - p >= 4) {
    const templateId = view.getUint16(p);
    const fieldCount = view.getUint16(p + 2);
    if (templateId === 0 && fieldCount === 0) return; // padding
    const recordEnd = p + 4 + fieldCount * 4;
    if (templateId < 256 || fieldCount === 0 || recordEnd > end) {
      session.fail(exporter.address, 'bad-template', { version: 9, templateId, fieldCount });
      return;
    }
    const fields: TemplateField[] = new Array(fieldCount);
    for (let f = 0, q = p + 4; f < fieldCount; f++, q += 4) {
      fields[f] = { id: view.getUint16(q), enterprise: 0, length: view.getUint16(q + 2) };
    }
    session.storeTemplate(exporter, domain, templateId, fields, false, bytes.subarray(p, recordEnd), out);
    p = recordEnd;
  }
}

/**
 * Options template flowset (id 1, RFC 3954 §6.1): template id, scope length and option length in
 * bytes, scope fields, option fields. Scope field types (system, interface, …) are their own
 * namespace, so they are marked enterprise -1 and never read as flow fields.
 */
function readOptionsTemplates(
  session: DecodeSession, exporter: ExporterState, domain: DomainState,
  bytes: Uint8Array, view: DataView, start: number, end: number, out: RecordOutput,
): void {
  let p = start;
  while (end - p >= 6) {
    const templateId = view.getUint16(p);
    const scopeLength = view.getUint16(p + 2);
    const optionLength = view.getUint16(p + 4);
    if (templateId === 0 && scopeLength === 0 && optionLength === 0) return; // padding
    const recordEnd = p + 6 + scopeLength + optionLength;
    if (templateId < 256 || scopeLength % 4 !== 0 || optionLength % 4 !== 0
      || scopeLength + optionLength === 0 || recordEnd > end) {
      session.fail(exporter.address, 'bad-options-template', { version: 9, templateId, scopeLength, optionLength });
      return;
    }
    const scopeCount = scopeLength / 4;
    const fields: TemplateField[] = [];
    for (let q = p + 6, f = 0; q < recordEnd; q += 4, f++) {
      fields.push({ id: view.getUint16(q), enterprise: f < scopeCount ? -1 : 0, length: view.getUint16(q + 2) });
    }
    session.storeTemplate(exporter, domain, templateId, fields, true, bytes.subarray(p, recordEnd), out);
    p = recordEnd;
  }
}
