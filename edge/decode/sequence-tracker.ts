/**
 * Sequence gap tracking for one (exporter, observation domain) stream.
 *
 * What a sequence number counts differs by version: v5 counts flow records, v9 counts export packets
 * (RFC 3954 §5.1), IPFIX counts data records modulo 2^32 (RFC 7011 §3.1). The caller passes the header's
 * number and how many units this datagram carries; the expected next number is seq + units.
 *
 * The rule, with d = (seq - expected) mod 2^32:
 * - d = 0: in order.
 * - 0 < d ≤ maxGapUnits: d units were lost; count them and move on from seq.
 * - seq falls inside the last gap we counted (a datagram that was only late): take its units back out
 *   of the gap count; expected does not move.
 * - d within reorderWindow behind expected otherwise (late or duplicate datagram): ignored.
 * - anything else (a jump too large to be loss, or back to a small number): the exporter restarted
 *   or reset its counter. Resynchronise without counting a gap.
 * A datagram whose unit count is unknown (IPFIX data held for a missing template) resynchronises the
 * next one instead of guessing.
 *
 * Exporters that number the *end* of the datagram: softflowd 1.1.0's IPFIX export sends the record
 * count including the current message (RFC 7011 says: before it). When a datagram is out of order by
 * the RFC rule but seq = previous seq + its own units, the stream switches to that numbering for good
 * (seen with softflowd -v 10: 24, 50 for messages of 24 and 26 records).
 */
export interface SequenceTracker {
  /**
   * Returns how many units this datagram shows as newly lost (negative when a late one fills a gap).
   * `flowUnits` (default `units`) leaves out options data records, which softflowd does not number.
   */
  observe(sequence: number, units: number, flowUnits?: number): number;
  /** The next datagram's number cannot be predicted: accept it as the new baseline. */
  unknown(): void;
}

/**
 * At most this many late datagrams are credited back per gap. The set of credited starts is the
 * tracker's only state that grows with input (up to the reorder window, 4096 for IPFIX, times every
 * domain of every exporter); real reordering within one gap is a handful of datagrams. Beyond it a
 * late datagram is not credited: the gap stays counted, which over-reports loss, never hides it.
 */
export const MAX_CREDITED_PER_GAP = 64;

export function createSequenceTracker(maxGapUnits: number, reorderWindowUnits: number): SequenceTracker {
  let expected = -1; // number the next datagram should start at
  let previous = -1; // sequence number of the last datagram taken in order
  let countsEnd = false; // this exporter numbers the end of each datagram (softflowd IPFIX)
  let gapStart = 0;
  let gapEnd = 0; // [gapStart, gapEnd) mod 2^32: the last gap counted
  let gapUncredited = 0; // units of that gap not yet filled by late datagrams
  const credited = new Set<number>(); // starts of late datagrams already credited: duplicates are not
  return {
    observe(sequence, units, flowUnits = units) {
      const seq = sequence >>> 0;
      let start = countsEnd ? (seq - flowUnits) >>> 0 : seq;
      if (expected < 0) {
        expected = countsEnd ? seq : (seq + units) >>> 0;
        previous = seq;
        return 0;
      }
      if (!countsEnd && start !== expected && flowUnits > 0 && previous >= 0 && seq === ((previous + flowUnits) >>> 0)) {
        countsEnd = true;
        expected = previous;
        start = previous;
      }
      const end = countsEnd ? seq : (seq + units) >>> 0;
      const ahead = (start - expected) >>> 0;
      if (ahead === 0) {
        expected = end;
        previous = seq;
        return 0;
      }
      if (ahead <= maxGapUnits) {
        gapStart = expected;
        gapEnd = start;
        gapUncredited = ahead;
        credited.clear();
        expected = end;
        previous = seq;
        return ahead;
      }
      const behind = (expected - start) >>> 0;
      if (behind <= reorderWindowUnits) {
        const intoGap = (start - gapStart) >>> 0;
        const gapLength = (gapEnd - gapStart) >>> 0;
        if (intoGap < gapLength && !credited.has(start) && credited.size < MAX_CREDITED_PER_GAP) {
          credited.add(start);
          // Never credit more than the gap held.
          const filled = Math.min(units, gapLength - intoGap, gapUncredited);
          gapUncredited -= filled;
          return -filled;
        }
        return 0;
      }
      expected = end; // restart / reset
      previous = seq;
      gapStart = gapEnd = gapUncredited = 0;
      credited.clear();
      return 0;
    },
    unknown() {
      expected = -1;
      previous = -1;
    },
  };
}
