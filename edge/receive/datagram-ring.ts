/**
 * The datagram ring: a SharedArrayBuffer that the native reader's thread (native/udp_batch_reader.c)
 * fills with received datagrams and one JS thread drains (native-udp-reader.ts drainRing). One
 * writer, one reader, no locks: each side owns one index and publishes it with release order
 * (C11 atomic_store_explicit / Atomics.store), and reads the other's with acquire order.
 *
 * THE layout; udp_batch_reader.c mirrors these constants (keep them in step):
 *
 *   bytes 0..127   header: Int32 write index at byte 0, Int32 read index at byte 64 (separate
 *                  cache lines, so the two threads do not share one). Both are byte offsets into
 *                  the data area, 0 <= index < capacity, multiples of 8.
 *   bytes 128..    data area of `capacity` bytes (a multiple of 8), records back to back:
 *     [u32 recordBytes][u32 payloadBytes][u8 family 4|6][u8 0][u16 port][16 bytes address][payload][pad to 8]
 *     little-endian (the host's order: this ring never leaves the machine). For family 4 the address
 *     is its first 4 bytes. recordBytes = WRAP_MARKER: the rest of the data area is unused, the next
 *     record is at offset 0.
 *
 * Empty: read == write. The writer never lets write catch up with read (it keeps a gap of 8 bytes),
 * so a full ring is never mistaken for an empty one. When the ring is full the writer stops reading
 * the socket and the kernel's socket buffer holds the rest, as it does for a slow Node reader.
 */

export const RING_HEADER_BYTES = 128;
/** Int32 slot (index into an Int32Array over the whole SAB) of the write index. */
export const WRITE_INDEX_SLOT = 0;
/** Int32 slot of the read index (byte 64). */
export const READ_INDEX_SLOT = 16;
export const RECORD_HEADER_BYTES = 28;
export const RECORD_ALIGN = 8;
export const WRAP_MARKER = 0xffffffff;
/** The gap the writer keeps before the read index. */
export const RING_GAP_BYTES = 8;

export interface DatagramRing {
  sab: SharedArrayBuffer;
  /** Data area size in bytes. */
  capacity: number;
  /** Over the whole SAB, for Atomics on the two index slots. */
  indexes: Int32Array;
  /** Over the data area only. */
  bytes: Uint8Array;
  view: DataView;
}

/** Padded size of a record carrying payloadBytes. */
export function recordBytesFor(payloadBytes: number): number {
  return (RECORD_HEADER_BYTES + payloadBytes + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** A new empty ring with a data area of at least capacityBytes (rounded up to 8). */
export function createDatagramRing(capacityBytes: number): DatagramRing {
  const capacity = Math.ceil(capacityBytes / RECORD_ALIGN) * RECORD_ALIGN;
  if (capacity < 2 * recordBytesFor(0)) throw new Error(`datagram ring of ${capacityBytes} bytes is too small`);
  if (capacity + RING_HEADER_BYTES > 0x7fffffff) throw new Error(`datagram ring of ${capacityBytes} bytes is too large (indexes are Int32)`);
  return wrapDatagramRing(new SharedArrayBuffer(RING_HEADER_BYTES + capacity));
}

/** Views over a ring's SAB (another thread's ring, received in workerData). */
export function wrapDatagramRing(sab: SharedArrayBuffer): DatagramRing {
  const capacity = sab.byteLength - RING_HEADER_BYTES;
  return {
    sab, capacity,
    indexes: new Int32Array(sab),
    bytes: new Uint8Array(sab, RING_HEADER_BYTES, capacity),
    view: new DataView(sab, RING_HEADER_BYTES, capacity),
  };
}

/** Bytes written and not yet drained (for status and tests). */
export function ringUsedBytes(ring: DatagramRing): number {
  const w = Atomics.load(ring.indexes, WRITE_INDEX_SLOT);
  const r = Atomics.load(ring.indexes, READ_INDEX_SLOT);
  return w >= r ? w - r : ring.capacity - r + w;
}

/**
 * The writer's rule in JS (the C thread is the real writer; this one serves tests and any JS
 * producer): put one record, or return false when it does not fit now (ring full).
 */
export function ringWrite(ring: DatagramRing, payload: Uint8Array, family: 4 | 6, address: Uint8Array, port: number): boolean {
  const need = recordBytesFor(payload.length);
  const r = Atomics.load(ring.indexes, READ_INDEX_SLOT);
  let w = Atomics.load(ring.indexes, WRITE_INDEX_SLOT);
  let at: number;
  if (w >= r) {
    // Up to the end; when read is at 0 the writer must not end exactly at capacity (w would wrap onto r).
    const room = ring.capacity - w - (r === 0 ? RING_GAP_BYTES : 0);
    if (need <= room) at = w;
    else if (r > need + RING_GAP_BYTES - 1) {
      ring.view.setUint32(w, WRAP_MARKER, true);
      w = 0;
      at = 0;
    } else return false;
  } else {
    if (need > r - w - RING_GAP_BYTES) return false;
    at = w;
  }
  const v = ring.view;
  v.setUint32(at, need, true);
  v.setUint32(at + 4, payload.length, true);
  v.setUint8(at + 8, family);
  v.setUint8(at + 9, 0);
  v.setUint16(at + 10, port, true);
  ring.bytes.fill(0, at + 12, at + 28);
  ring.bytes.set(address.subarray(0, family === 4 ? 4 : 16), at + 12);
  ring.bytes.set(payload, at + RECORD_HEADER_BYTES);
  let next = at + need;
  if (next === ring.capacity) next = 0;
  Atomics.store(ring.indexes, WRITE_INDEX_SLOT, next);
  return true;
}
