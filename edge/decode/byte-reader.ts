/**
 * Unsigned big-endian reads of any width up to 8 bytes. Reduced-size encoding (RFC 7011 §6.2) lets an
 * exporter send a counter in fewer bytes than its type (e.g. octetDeltaCount, an unsigned64, in 4),
 * so every numeric field is read by the length its template declares, never by its type.
 * Values above 2^53 lose precision; no real counter delta gets there.
 *
 * Always finite, at most 2^64: RFC 7011 §6.2 only allows *shorter* encodings, so a numeric field
 * never needs more than 8 bytes. compileTemplate never gives a numeric role a field of length 0 or
 * more than 8; should a longer one reach here anyway, only its low-order 8 bytes are read (a 9+ byte
 * loop would pass 2^1024 and return Infinity). Length 0 or less reads as 0.
 */
export function readUint(view: DataView, offset: number, length: number): number {
  switch (length) {
    case 1: return view.getUint8(offset);
    case 2: return view.getUint16(offset);
    case 4: return view.getUint32(offset);
    case 8: return view.getUint32(offset) * 4294967296 + view.getUint32(offset + 4);
    default: {
      if (length > 8) {
        offset += length - 8;
        length = 8;
      }
      let value = 0;
      for (let i = 0; i < length; i++) value = value * 256 + view.getUint8(offset + i);
      return value;
    }
  }
}

/** Seconds between the NTP era 0 epoch (1900-01-01) and the Unix epoch. */
const NTP_UNIX_OFFSET_SEC = 2_208_988_800;

/**
 * RFC 7011 §6.1.9/§6.1.10: dateTimeMicroseconds and dateTimeNanoseconds are NTP timestamps
 * (32-bit seconds since 1900, 32-bit binary fraction). Returns Unix milliseconds.
 */
export function readNtpTimestampMs(view: DataView, offset: number): number {
  const seconds = view.getUint32(offset);
  const fraction = view.getUint32(offset + 4);
  return (seconds - NTP_UNIX_OFFSET_SEC) * 1000 + Math.floor(fraction / 4_294_967.296);
}
