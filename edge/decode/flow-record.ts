/**
 * One decoded flow, the decoder's output and the classifier's input. Pure data.
 * Addresses stay as raw bytes (4 or 16) so the hot path never formats strings. Read-only for
 * consumers: they may be views into the datagram (decode()), arrays a reused record owns
 * (decodeTransient(): valid until the next call), or one shared all-zero array (no address field).
 */
export interface FlowRecord {
  /** Exporter's address as text (the UDP source), computed once per datagram. */
  exporter: string;
  /** v9 source id / IPFIX observation domain id; 0 for v5. */
  observationDomain: number;
  srcIp: Uint8Array; // 4 or 16 bytes
  dstIp: Uint8Array; // 4 or 16 bytes
  /** ingress/egress ifIndex (fields 10/14, or 252/253 physical interfaces); 0 when absent. */
  inputIf: number;
  outputIf: number;
  /** Already multiplied by samplingRate. */
  bytes: number;
  packets: number;
  samplingRate: number;
  /** Absolute Unix milliseconds of the flow's first and last packet (endMs >= startMs). */
  startMs: number;
  endMs: number;
  protocol: number;
  srcPort: number;
  dstPort: number;
}
