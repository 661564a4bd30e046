/**
 * Edges and what they report (hub/edges/edge-routes.ts; the status comes from the edge's retained
 * EdgeStatus, proto/flowbill.proto). Used by web/pages/sources.js.
 */

/** An enrolled edge (its MQTT password is shown once, at issue, and never again). */
export interface EdgeView {
  edgeId: string;
  operatorId: string;
  name: string;
  revoked: boolean;
  createdAtMs: number;
  credentialsIssuedAtMs: number;
  revokedAtMs?: number;
}

/** The edge's own counters, running totals since its start. Mirrors proto Counters (proto/codec.ts); the hub's `satisfies EdgesResponse` checks the proto still has each field. */
export interface EdgeCountersView {
  packetsReceived: number;
  flowsDecoded: number;
  decodeErrors: number;
  templateMisses: number;
  pendingExpired: number;
  sequenceGaps: number;
  outboxDepth: number;
  outboxBytes: number;
  outboxDropped: number;
  batchesPublished: number;
  batchesAcked: number;
  lateFlows: number;
  unclassifiedFlows: number;
  /** Batches the hub answered REJECTED: never stored. */
  batchesRejected: number;
  /** Decoded flows refused by the edge's sanity bounds. */
  flowsOutOfBounds: number;
  /** Entries evicted or refused because one of the edge's bounded tables was full. */
  tableEvictions: number;
  internalErrors: number;
  storeWriteErrors: number;
  datagramsDropped: number;
}

/** sFlow generic interface counters of one interface (counter samples). Mirrors proto InterfaceCounters; the hub's `satisfies EdgesResponse` checks the proto still has each field. */
export interface InterfaceCountersView {
  ifIndex: number;
  /** bits per second; 0 when the agent does not know. */
  ifSpeed: number;
  inOctets: number;
  outOctets: number;
  inErrors: number;
  outErrors: number;
  inDiscards: number;
  outDiscards: number;
  /** ifAdminStatus in bit 0, ifOperStatus in bit 1 (sFlow v5 if_counters). */
  ifStatus: number;
  lastSeenMs: number;
}

/** One exporter an edge hears; packets = export datagrams, bytes/flows = running totals. Mirrors proto ExporterStatus (less interfaceNames); the hub's `satisfies EdgesResponse` checks the proto still has each field. */
export interface ExporterStatusView {
  address: string;
  /** 5, 9, 10 (IPFIX); 5 for sFlow v5. */
  netflowVersion: number;
  packets: number;
  flows: number;
  sequenceGaps: number;
  lastSeenMs: number;
  templates: number;
  samplingRate: number;
  bytes: number;
  flowsOutOfBounds: number;
  /** 'netflow' | 'ipfix' | 'sflow'; absent or '' from older edges. */
  protocol?: string;
  /** sFlow: datagrams lost (by the agent's datagram sequence numbers). */
  datagramsLost?: number;
  /** sFlow: packets the agent meant to sample but dropped. */
  samplesDropped?: number;
  ifCounters?: InterfaceCountersView[];
}

export type EdgeStateName = 'unknown' | 'birth' | 'online' | 'offline';

/** What the hub knows of an edge's connection and its last EdgeStatus. */
export interface EdgeStatusView {
  state: EdgeStateName;
  /** Connected as far as the hub knows: not OFFLINE, heard from within the tracker's staleAfterMs, and never for a revoked edge. */
  online: boolean;
  lastSeenMs: number | null;
  session: number | null;
  softwareVersion: string;
  configVersion: number;
  collectionPaused: boolean;
  /** null until the edge has reported once. */
  counters: EdgeCountersView | null;
  exporters: ExporterStatusView[];
}

export interface EdgeWithStatusView extends EdgeView {
  status: EdgeStatusView;
}

/** GET /api/v1/operators/:op/edges */
export interface EdgesResponse {
  edges: EdgeWithStatusView[];
}

/** POST /api/v1/operators/:op/enrollment-tokens (ttlHours: default 24, at most 720). */
export interface EnrollmentTokenRequest {
  ttlHours?: number;
}

/** POST /api/v1/operators/:op/enrollment-tokens: the token is shown once (the hub keeps its hash). */
export interface EnrollmentTokenResponse {
  token: string;
  expiresAtMs: number;
}

/** POST /api/v1/operators/:op/edges/:edgeId/revoke */
export interface RevokeEdgeResponse {
  edge: EdgeView;
}
