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
 */
export interface SequenceTracker {
  /** Returns how many units this datagram shows as newly lost (may be negative when a late one fills a gap). */
  observe(sequence: number, units: number): number;
  /** The next datagram's number cannot be predicted: accept it as the new baseline. */
  unknown(): void;
}

export function createSequenceTracker(maxGapUnits: number, reorderWindowUnits: number): SequenceTracker {
  let expected = -1;
  let gapStart = 0;
  let gapEnd = 0; // [gapStart, gapEnd) mod 2^32: the last gap counted
  let gapUncredited = 0; // units of that gap not yet filled by late datagrams
  return {
    observe(sequence, units) {
      const seq = sequence >>> 0;
      if (expected < 0) {
        expected = (seq + units) >>> 0;
        return 0;
      }
      const ahead = (seq - expected) >>> 0;
      if (ahead === 0) {
        expected = (seq + units) >>> 0;
        return 0;
      }
      if (ahead <= maxGapUnits) {
        gapStart = expected;
        gapEnd = seq;
        gapUncredited = ahead;
        expected = (seq + units) >>> 0;
        return ahead;
      }
      const behind = (expected - seq) >>> 0;
      if (behind <= reorderWindowUnits) {
        const intoGap = (seq - gapStart) >>> 0;
        const gapLength = (gapEnd - gapStart) >>> 0;
        if (intoGap < gapLength) {
          // Never credit more than the gap held, so duplicates cannot drive the count below the truth.
          const filled = Math.min(units, gapLength - intoGap, gapUncredited);
          gapUncredited -= filled;
          return -filled;
        }
        return 0;
      }
      expected = (seq + units) >>> 0; // restart / reset
      gapStart = gapEnd = gapUncredited = 0;
      return 0;
    },
    unknown() {
      expected = -1;
    },
  };
}
