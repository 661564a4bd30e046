/**
 * sFlow v5 counter record 0:1 "if_counters" (generic interface counters, RFC 2233 / RFC 2863 names).
 * The agent polls them every counter interval (typically 20-30 s); the edge keeps the last one per
 * (agent, ifIndex) for the Sources page: the link's own octet counters next to the sampled estimate.
 */

/** Fixed length of the generic interface counters structure (sFlow v5 spec). */
export const IF_COUNTERS_LENGTH = 88;

export interface InterfaceCounters {
  ifIndex: number;
  ifType: number;
  /** bits per second; 0 when unknown. */
  ifSpeed: number;
  /** 1 = full duplex, 2 = half, 3 = in, 4 = out, 0 = unknown. */
  ifDirection: number;
  /** bit 0 admin up, bit 1 oper up. */
  ifStatus: number;
  inOctets: number;
  inErrors: number;
  inDiscards: number;
  outOctets: number;
  outErrors: number;
  outDiscards: number;
}

/** The last generic interface counters of one (agent, ifIndex), for the Sources page. */
export interface InterfaceCountersStatus extends InterfaceCounters {
  lastSeenMs: number;
}

function u64(view: DataView, p: number): number {
  return view.getUint32(p) * 4294967296 + view.getUint32(p + 4);
}

/** Reads if_counters at p; the caller has checked that p + IF_COUNTERS_LENGTH is within the record. */
export function readIfCounters(view: DataView, p: number): InterfaceCounters {
  return {
    ifIndex: view.getUint32(p),
    ifType: view.getUint32(p + 4),
    ifSpeed: u64(view, p + 8),
    ifDirection: view.getUint32(p + 16),
    ifStatus: view.getUint32(p + 20),
    inOctets: u64(view, p + 24),
    // +32 in ucast, +36 in mcast, +40 in bcast
    inDiscards: view.getUint32(p + 44),
    inErrors: view.getUint32(p + 48),
    // +52 in unknown protos
    outOctets: u64(view, p + 56),
    // +64 out ucast, +68 out mcast, +72 out bcast
    outDiscards: view.getUint32(p + 76),
    outErrors: view.getUint32(p + 80),
    // +84 promiscuous mode
  };
}
