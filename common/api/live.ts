/**
 * API shapes of live flows (hub/edges/live-flows-query.ts behind GET /operators/:op/live-flows),
 * shared with web/pages/live.js through JSDoc typedefs. Live flows are the top talkers each edge
 * publishes every few seconds (QoS 0, best effort): a "right now" view, never billing data. The
 * breakdowns are computed from those top talkers only, so they describe the biggest flows, not all traffic.
 */

/** Query parameters; each is optional and they combine with AND. */
export interface LiveFlowsFilter {
  /** Exporter address exactly as the edge saw it. */
  exporter?: string;
  /** An IP group subject ("ipg:<name>"): src or dst inside one of its prefixes or ranges. */
  subject?: string;
  /** A CIDR prefix, a range or an address (src or dst inside it), or else a substring of src or dst. */
  address?: string;
}

export interface LiveTalkerView {
  edgeId: string;
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  bytes: number;
  packets: number;
  bitsPerSec: number;
  exporter: string;
}

export interface ProtocolShare { protocol: number; name: string; bitsPerSec: number; bytes: number; flows: number }

/** A service port: the lower of the two ports of a flow (the server side, as NOC tools count it). */
export interface PortShare { protocol: number; port: number; name: string; bitsPerSec: number; bytes: number; flows: number }

/** One talker as the edge publishes it: no interface index, no subject. Mirrors proto Talker; queryLiveFlows's `LiveFlowsResponse` return type checks the proto still has each field. */
export interface LiveTalkerWire { src: string; dst: string; protocol: number; srcPort: number; dstPort: number; bytes: number; packets: number; bitsPerSec: number; exporter: string }

/** An edge's latest snapshot and when the hub received it. `flows` mirrors proto LiveFlows, checked the same way. */
export interface LiveEdgeSnapshot { edgeId: string; receivedAtMs: number; flows: { edgeId: string; atMs: number; windowSec: number; talkers: LiveTalkerWire[]; samplingOneIn?: number } }

export interface LiveFlowsResponse {
  /** The raw snapshot per edge, as before (unfiltered). */
  edges: LiveEdgeSnapshot[];
  filter: LiveFlowsFilter;
  /** Choices for the filter pickers. */
  exporters: string[];
  subjects: { subjectId: string; label: string }[];
  /** Talkers matching the filter across edges, by rate, at most `limit`; matched counts them all. */
  talkers: LiveTalkerView[];
  /**
   * 1: every flow record was counted. N > 1: a busy edge estimated its talkers' bytes and rates from
   * about 1 in N records (proto LiveFlows.sampling_one_in); the largest N among the edges of the
   * matched talkers. Billing always counts every record.
   */
  samplingOneIn: number;
  matched: number;
  totalBitsPerSec: number;
  byProtocol: ProtocolShare[];
  topPorts: PortShare[];
}
