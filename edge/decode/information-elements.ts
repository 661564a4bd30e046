/**
 * The NetFlow v9 field types (RFC 3954 §8) and IPFIX Information Elements (RFC 7012, IANA registry)
 * the decoder reads. v9 field types 1–127 share their numbers with the IPFIX IEs, so one table serves
 * both; scope fields of v9 options templates are a different namespace and never map to these.
 */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  /** v9 LAST_SWITCHED / IPFIX flowEndSysUpTime: ms of sysUptime. */
  flowEndSysUpTime: 21,
  /** v9 FIRST_SWITCHED / IPFIX flowStartSysUpTime. */
  flowStartSysUpTime: 22,
  postOctetDeltaCount: 23,
  postPacketDeltaCount: 24,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  /** v9 SAMPLING_INTERVAL / IPFIX samplingInterval (deprecated in IPFIX, still sent). */
  samplingInterval: 34,
  /** v9 FLOW_SAMPLER_ID / IPFIX samplerId. */
  samplerId: 48,
  /** v9 FLOW_SAMPLER_RANDOM_INTERVAL / IPFIX samplerRandomInterval. */
  samplerRandomInterval: 50,
  octetTotalCount: 85,
  packetTotalCount: 86,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  /** dateTimeMicroseconds: NTP timestamp format (RFC 7011 §6.1.9). */
  flowStartMicroseconds: 154,
  flowEndMicroseconds: 155,
  /** dateTimeNanoseconds: NTP timestamp format (RFC 7011 §6.1.10). */
  flowStartNanoseconds: 156,
  flowEndNanoseconds: 157,
  /** µs before the message's export time. */
  flowStartDeltaMicroseconds: 158,
  flowEndDeltaMicroseconds: 159,
  /** Absolute time of the exporter's sysUptime 0, what 21/22 are relative to in IPFIX. */
  systemInitTimeMilliseconds: 160,
  ingressPhysicalInterface: 252,
  egressPhysicalInterface: 253,
  selectorId: 302,
  samplingPacketInterval: 305,
  samplingPacketSpace: 306,
  /** Size of the sampled frame, layer 2 included (PSAMP). */
  dataLinkFrameSize: 312,
  /** The first bytes of the sampled frame (PSAMP), variable length. */
  dataLinkFrameSection: 315,
  samplingSize: 309,
  samplingPopulation: 310,
} as const;

/**
 * Roles: the decoder's view of a template. A compiled template maps each role to the index of the
 * field that carries it (or -1), so decoding a record is a handful of array lookups.
 */
export const Role = {
  src4: 0,
  dst4: 1,
  src6: 2,
  dst6: 3,
  inIf: 4,
  outIf: 5,
  inPhysIf: 6,
  outPhysIf: 7,
  bytes: 8,
  packets: 9,
  postBytes: 10,
  postPackets: 11,
  totalBytes: 12,
  totalPackets: 13,
  protocol: 14,
  srcPort: 15,
  dstPort: 16,
  firstUptime: 17,
  lastUptime: 18,
  startSec: 19,
  endSec: 20,
  startMs: 21,
  endMs: 22,
  startUs: 23,
  endUs: 24,
  startNs: 25,
  endNs: 26,
  startDeltaUs: 27,
  endDeltaUs: 28,
  systemInitMs: 29,
  samplerId: 30,
  samplingInterval: 31,
  packetInterval: 32,
  packetSpace: 33,
  samplingSize: 34,
  samplingPopulation: 35,
  frameSize: 36,
  frameSection: 37,
} as const;

export const ROLE_COUNT = 38;

/** IE number → role, for enterprise 0 fields only. */
export const ROLE_OF_IE: ReadonlyMap<number, number> = new Map<number, number>([
  [IE.sourceIPv4Address, Role.src4],
  [IE.destinationIPv4Address, Role.dst4],
  [IE.sourceIPv6Address, Role.src6],
  [IE.destinationIPv6Address, Role.dst6],
  [IE.ingressInterface, Role.inIf],
  [IE.egressInterface, Role.outIf],
  [IE.ingressPhysicalInterface, Role.inPhysIf],
  [IE.egressPhysicalInterface, Role.outPhysIf],
  [IE.octetDeltaCount, Role.bytes],
  [IE.packetDeltaCount, Role.packets],
  [IE.postOctetDeltaCount, Role.postBytes],
  [IE.postPacketDeltaCount, Role.postPackets],
  [IE.octetTotalCount, Role.totalBytes],
  [IE.packetTotalCount, Role.totalPackets],
  [IE.protocolIdentifier, Role.protocol],
  [IE.sourceTransportPort, Role.srcPort],
  [IE.destinationTransportPort, Role.dstPort],
  [IE.flowStartSysUpTime, Role.firstUptime],
  [IE.flowEndSysUpTime, Role.lastUptime],
  [IE.flowStartSeconds, Role.startSec],
  [IE.flowEndSeconds, Role.endSec],
  [IE.flowStartMilliseconds, Role.startMs],
  [IE.flowEndMilliseconds, Role.endMs],
  [IE.flowStartMicroseconds, Role.startUs],
  [IE.flowEndMicroseconds, Role.endUs],
  [IE.flowStartNanoseconds, Role.startNs],
  [IE.flowEndNanoseconds, Role.endNs],
  [IE.flowStartDeltaMicroseconds, Role.startDeltaUs],
  [IE.flowEndDeltaMicroseconds, Role.endDeltaUs],
  [IE.systemInitTimeMilliseconds, Role.systemInitMs],
  [IE.samplerId, Role.samplerId],
  [IE.selectorId, Role.samplerId],
  [IE.samplingInterval, Role.samplingInterval],
  [IE.samplerRandomInterval, Role.samplingInterval],
  [IE.samplingPacketInterval, Role.packetInterval],
  [IE.samplingPacketSpace, Role.packetSpace],
  [IE.samplingSize, Role.samplingSize],
  [IE.samplingPopulation, Role.samplingPopulation],
  [IE.dataLinkFrameSize, Role.frameSize],
  [IE.dataLinkFrameSection, Role.frameSection],
]);

/** ROLE_WIDTH value: any length (an octetArray, variable length allowed). */
export const ANY_WIDTH = 0;
/** ROLE_WIDTH value: an unsigned integer of 1 to 8 bytes (RFC 7011 §6.2 reduced-size encoding). */
export const UINT_WIDTH = -1;

/**
 * The field length each role accepts: an exact length (addresses: RFC 7012 ipv4Address 4,
 * ipv6Address 16; dateTimeMicro/Nanoseconds: an 8-byte NTP timestamp, RFC 7011 §6.1.9/§6.1.10),
 * UINT_WIDTH for unsigned integers (reduced-size encoding only ever shortens them, §6.2), or
 * ANY_WIDTH. A field whose declared length does not fit is not used for its role.
 */
export const ROLE_WIDTH: Int8Array = (() => {
  const width = new Int8Array(ROLE_COUNT).fill(UINT_WIDTH);
  width[Role.src4] = 4;
  width[Role.dst4] = 4;
  width[Role.src6] = 16;
  width[Role.dst6] = 16;
  width[Role.startUs] = 8;
  width[Role.endUs] = 8;
  width[Role.startNs] = 8;
  width[Role.endNs] = 8;
  width[Role.frameSection] = ANY_WIDTH;
  return width;
})();
