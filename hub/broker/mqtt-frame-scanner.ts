/**
 * Reads MQTT fixed headers as bytes stream in, without buffering packets, so a packet that
 * announces more than a limit is caught from its first 2-5 bytes, before anyone buffers its body.
 * mqtt-packet (under aedes 1.x) has no maximum packet size: it accumulates a packet until its
 * announced remaining length has arrived, up to 256 MB, before authentication.
 *
 * MQTT 3.1.1 §2.2: fixed header = 1 byte (type and flags) + remaining length as a variable byte
 * integer of 1-4 bytes (§2.2.3: 7 bits per byte, high bit = "more bytes follow"). A fifth byte
 * with the continuation bit set is malformed. The limit applies to the remaining length
 * (variable header + payload), i.e. the packet minus its 2-5 header bytes.
 */
export type FrameProblem =
  | { kind: 'too-large'; packetIndex: number; packetType: number; remainingLength: number; limitBytes: number }
  | { kind: 'malformed-length'; packetIndex: number; packetType: number };

export interface FrameScanner {
  /** Feeds the next bytes of the stream; returns the first problem found (then stop feeding). */
  feed(chunk: Uint8Array): FrameProblem | undefined;
  /** Packets whose fixed header was fully read so far. */
  packetsSeen(): number;
}

/** limitBytes(packetIndex) is asked at each fixed header: packet 0 is the CONNECT [MQTT-3.1.0-1]. */
export function createFrameScanner(limitBytes: (packetIndex: number) => number): FrameScanner {
  let state: 'type' | 'length' | 'body' = 'type';
  let packetIndex = 0;
  let packetType = 0;
  let remaining = 0; // length being decoded, then body bytes still to skip
  let multiplier = 1;
  let lengthBytes = 0;

  const headerDone = (): FrameProblem | undefined => {
    const limit = limitBytes(packetIndex);
    if (remaining > limit) return { kind: 'too-large', packetIndex, packetType, remainingLength: remaining, limitBytes: limit };
    packetIndex++;
    state = remaining > 0 ? 'body' : 'type';
    return undefined;
  };

  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (state === 'body') {
          const skip = Math.min(remaining, chunk.length - i);
          remaining -= skip;
          i += skip;
          if (remaining === 0) state = 'type';
          continue;
        }
        const byte = chunk[i++];
        if (state === 'type') {
          packetType = byte >> 4;
          state = 'length';
          remaining = 0;
          multiplier = 1;
          lengthBytes = 0;
          continue;
        }
        // state === 'length'
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if ((byte & 0x80) === 0) {
          const problem = headerDone();
          if (problem) return problem;
        } else if (lengthBytes === 4) {
          return { kind: 'malformed-length', packetIndex, packetType }; // §2.2.3: at most 4 bytes
        }
      }
      return undefined;
    },
    packetsSeen: () => packetIndex,
  };
}
