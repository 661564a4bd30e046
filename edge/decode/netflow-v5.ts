import type { DecodeSession, ExporterState } from './decoder-state';
import { commitRecord, copyAddresses, pooledRecord, type RecordOutput } from './record-output';
import { uptimeToUnixMs } from './uptime-time';

export const V5_HEADER_LENGTH = 24;
export const V5_RECORD_LENGTH = 48;

/**
 * NetFlow v5: a 24-byte header and `count` 48-byte records (Cisco's fixed format).
 * Header: version, count, sysUptime, unix_secs, unix_nsecs, flow_sequence, engine_type, engine_id,
 * sampling_interval (top 2 bits mode, low 14 bits interval). flow_sequence counts flow records.
 * Records are decoded as far as the datagram holds them, whatever the count says.
 * Records go to `out`: fresh ones with address views into `bytes`, or (decodeTransient) pooled ones
 * with addresses copied into arrays of their own, overwritten by the next call: see RecordOutput.
 */
export function decodeNetflowV5(
  session: DecodeSession,
  exporter: ExporterState,
  bytes: Uint8Array,
  view: DataView,
  out: RecordOutput,
): void {
  const length = bytes.length;
  if (length < V5_HEADER_LENGTH) {
    session.fail(exporter.address, 'truncated-header', { version: 5, length });
    return;
  }
  const count = view.getUint16(2);
  const uptimeMs = view.getUint32(4);
  const exportMs = view.getUint32(8) * 1000 + Math.floor(view.getUint32(12) / 1_000_000);
  const sequence = view.getUint32(16);
  const engine = view.getUint16(20); // engine_type << 8 | engine_id: v5's only notion of a domain
  const interval = view.getUint16(22) & 0x3fff; // top 2 bits are the sampling mode
  const samplingRate = interval > 0 ? interval : 1;

  let records = Math.floor((length - V5_HEADER_LENGTH) / V5_RECORD_LENGTH);
  if (records < count) {
    session.fail(exporter.address, 'truncated-records', { version: 5, count, present: records });
  } else {
    records = count; // extra bytes after the last counted record are ignored
  }

  const domain = session.domainOf(exporter, 5, engine);
  const lost = domain.sequence.observe(sequence, count);
  if (lost !== 0) {
    exporter.sequenceGaps += lost;
    session.counters.sequenceGaps += lost;
  }
  exporter.samplingRate = samplingRate;

  const address = exporter.address;
  for (let r = 0, p = V5_HEADER_LENGTH; r < records; r++, p += V5_RECORD_LENGTH) {
    const packets = view.getUint32(p + 16) * samplingRate;
    const flowBytes = view.getUint32(p + 20) * samplingRate;
    const first = view.getUint32(p + 24);
    const last = view.getUint32(p + 28);
    const startMs = uptimeToUnixMs(exportMs, uptimeMs, first);
    let endMs = uptimeToUnixMs(exportMs, uptimeMs, last);
    if (endMs < startMs) endMs = startMs;
    const inputIf = view.getUint16(p + 12);
    const outputIf = view.getUint16(p + 14);
    const protocol = bytes[p + 38];
    const srcPort = view.getUint16(p + 32);
    const dstPort = view.getUint16(p + 34);
    if (out.pool === null) {
      // decode(): a new record with views into the datagram, in one literal (see pooledRecord).
      commitRecord(out, {
        exporter: address,
        observationDomain: 0,
        srcIp: bytes.subarray(p, p + 4),
        dstIp: bytes.subarray(p + 4, p + 8),
        inputIf,
        outputIf,
        bytes: flowBytes,
        packets,
        samplingRate,
        startMs,
        endMs,
        protocol,
        srcPort,
        dstPort,
      });
      continue;
    }
    // decodeTransient(): the same values into a reused record, addresses copied.
    const f = pooledRecord(out);
    copyAddresses(out, f, bytes, p, 4, bytes, p + 4, 4);
    f.exporter = address;
    f.observationDomain = 0;
    f.inputIf = inputIf;
    f.outputIf = outputIf;
    f.bytes = flowBytes;
    f.packets = packets;
    f.samplingRate = samplingRate;
    f.startMs = startMs;
    f.endMs = endMs;
    f.protocol = protocol;
    f.srcPort = srcPort;
    f.dstPort = dstPort;
    commitRecord(out, f);
  }
}
