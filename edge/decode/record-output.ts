import type { FlowRecord } from './flow-record';

/**
 * Where one decode call puts its flow records, for every version decoder (v5, v9, IPFIX).
 *
 * decode() gives each call a fresh output: every record is a new object and its addresses are views
 * into the datagram (zero-copy). decodeTransient() reuses one output for every call: record i is the
 * pool's record i, its addresses are COPIED into arrays that record owns (the datagram may be a view
 * into a ring buffer the reader overwrites as soon as the call returns), and `records` is written by
 * index and never shrunk (see finishTransient). Setting an array's length to 0 and pushing again makes
 * V8 free and regrow its backing store on every call; index writes over the kept one allocate nothing.
 * Each version decoder computes a record's values once, then either builds the new record from them
 * (decode()) or writes them into the pooled one (decodeTransient()).
 *
 * A record is committed (count++) only after all of its fields are read, so a decode that throws
 * half-way through a record leaves exactly the records before it: never a half-filled or stale one.
 */
export interface RecordOutput {
  /** This call's records are [0, count); a transient output's entries past count are left from an earlier call. */
  readonly records: FlowRecord[];
  count: number;
  /** null: fresh records (decode()). Otherwise the reused ones (decodeTransient()), one per position. */
  readonly pool: PooledRecord[] | null;
  /** decodeTransient's results shorter than `records`, one reused array per count (see finishTransient). */
  readonly shorter: FlowRecord[][];
}

/** A reusable record and the address arrays it owns; srcIp/dstIp point at the ones of the datagram's family. */
interface PooledRecord {
  readonly record: FlowRecord;
  readonly src4: Uint8Array;
  readonly dst4: Uint8Array;
  readonly src6: Uint8Array;
  readonly dst6: Uint8Array;
}

/**
 * Shared by records that lack an address field. Consumers must treat FlowRecord addresses as
 * read-only: they are views into the datagram, arrays a pooled record owns, or this shared array.
 */
export const NO_ADDRESS: Uint8Array = new Uint8Array(4);

const NO_RECORDS: readonly FlowRecord[] = Object.freeze([]);

/**
 * Results up to this many records get an exact-length array of their own, kept for reuse: at most
 * 256 * 257 / 2 references (~130 KB) whatever a sender makes the counts. Longer ones (jumbo frames,
 * hostile input) trim `records` instead, which may make V8 reallocate it on a later, longer call.
 */
const MAX_SHORTER_COUNT = 256;

/** decode()'s outputs never have shorter results: one shared empty list instead of one per call. */
const NO_SHORTER: FlowRecord[][] = [];

export function createRecordOutput(pooled: boolean): RecordOutput {
  return { records: [], count: 0, pool: pooled ? [] : null, shorter: pooled ? [] : NO_SHORTER };
}

/** The transient output's records for the caller, trimmed to this call's. */
export function finishTransient(out: RecordOutput): readonly FlowRecord[] {
  const count = out.count;
  // No call shrinks `records`: length 0 would free its backing store, and a shorter length right-trims
  // it when less than about half of it stays in use (V8's SetLength), so the next longer call would
  // allocate it again (~300 B per call with 29- and 3-record datagrams alternating). An empty result
  // is a shared frozen array; a shorter one an array of exactly that length, kept and refilled.
  if (count === 0) return NO_RECORDS;
  const records = out.records;
  if (count === records.length) return records;
  if (count > MAX_SHORTER_COUNT) {
    records.length = count;
    return records;
  }
  let result = out.shorter[count];
  if (result === undefined) {
    result = [];
    for (let i = 0; i < count; i++) result.push(records[i]); // packed, exactly count long
    out.shorter[count] = result;
    return result;
  }
  for (let i = 0; i < count; i++) result[i] = records[i];
  return result;
}

/**
 * decodeTransient's record for the next position, created the first time the output reaches it.
 * Every field must be set (addresses with copyAddresses), then the record committed. decode()'s
 * records are built instead in one object literal with their final values: filling a blank one made
 * V8 change field representations (small integer to double) under way, and decode() of IPFIX ran
 * 2-3x slower after v9 in bench/decode-bench.ts.
 */
export function pooledRecord(out: RecordOutput): FlowRecord {
  const pool = out.pool!;
  const slot = pool[out.count];
  if (slot !== undefined) return slot.record;
  const created: PooledRecord = {
    record: {
      exporter: '', observationDomain: 0, srcIp: NO_ADDRESS, dstIp: NO_ADDRESS, inputIf: 0, outputIf: 0,
      bytes: 0, packets: 0, samplingRate: 1, startMs: 0, endMs: 0, protocol: 0, srcPort: 0, dstPort: 0,
    },
    src4: new Uint8Array(4), dst4: new Uint8Array(4), src6: new Uint8Array(16), dst6: new Uint8Array(16),
  };
  pool.push(created);
  return created.record;
}

/**
 * Copies the addresses, `length` bytes at `at` in `source` (4 or 16; 0: absent, NO_ADDRESS), into
 * the arrays the pooled record at the next position owns.
 */
export function copyAddresses(
  out: RecordOutput, record: FlowRecord,
  srcSource: Uint8Array, srcAt: number, srcLength: number,
  dstSource: Uint8Array, dstAt: number, dstLength: number,
): void {
  const slot = out.pool![out.count];
  record.srcIp = copyInto(srcLength === 16 ? slot.src6 : slot.src4, srcSource, srcAt, srcLength);
  record.dstIp = copyInto(dstLength === 16 ? slot.dst6 : slot.dst4, dstSource, dstAt, dstLength);
}

function copyInto(target: Uint8Array, source: Uint8Array, at: number, length: number): Uint8Array {
  // Byte by byte: target.set(source.subarray(...)) would allocate the view this avoids. IPv4 unrolled:
  // a loop here cost v5's decodeTransient ~25% in bench/decode-bench.ts.
  if (length === 4) {
    target[0] = source[at]; target[1] = source[at + 1]; target[2] = source[at + 2]; target[3] = source[at + 3];
    return target;
  }
  if (length === 0) return NO_ADDRESS;
  for (let i = 0; i < length; i++) target[i] = source[at + i];
  return target;
}

/** decode()'s address: a view of `length` bytes at `at` in `source` (0: absent, NO_ADDRESS). */
export function addressView(source: Uint8Array, at: number, length: number): Uint8Array {
  if (length === 0) return NO_ADDRESS;
  // Already exactly the address (a sampled packet header's): no second view.
  if (at === 0 && length === source.length) return source;
  return source.subarray(at, at + length);
}

/** Makes the filled record part of this call's output. */
export function commitRecord(out: RecordOutput, record: FlowRecord): void {
  out.records[out.count++] = record;
}
