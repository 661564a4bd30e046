/**
 * Time arrives through a Clock so the domain never calls Date.now() itself.
 * Tests pass a manual clock or run under sinon fake timers (which also fake Date.now,
 * so systemClock works there too).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to: for pure unit tests. */
export function createManualClock(startMs = 0): Clock & { advanceMs(ms: number): void; setMs(ms: number): void } {
  let now = startMs;
  return {
    nowMs: () => now,
    advanceMs(ms) { now += ms; },
    setMs(ms) { now = ms; },
  };
}

/**
 * A clock that can be moved at run time, forward only: job schedules (last-run markers), ingest's
 * dedup horizon and the login and session windows all assume that time never goes back.
 */
export interface ControllableClock extends Clock {
  /** Moves time forward by ms (a non-negative safe integer); else a RangeError. */
  advanceMs(ms: number): void;
  /** Moves time forward to atMs; a RangeError if atMs is before now. */
  advanceToMs(atMs: number): void;
}

/**
 * The hub's FLOWBILL_CLOCK=<instant>: starts at startMs and runs forward at real speed, plus every
 * advance. Elapsed time is read from a monotonic source (performance.now), so a step of the system
 * clock (NTP, a VM resumed) cannot move it back. Integer milliseconds, like Date.now().
 */
export function createShiftedClock(startMs: number, monotonicMs: () => number = () => performance.now()): ControllableClock {
  const originMs = monotonicMs();
  let shiftMs = 0;
  const nowMs = () => startMs + shiftMs + Math.floor(monotonicMs() - originMs);
  return {
    nowMs,
    advanceMs(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`advanceMs(${ms}): expected a non-negative integer of milliseconds (time only moves forward)`);
      shiftMs += ms;
    },
    advanceToMs(atMs) {
      const now = nowMs();
      if (!Number.isSafeInteger(atMs) || atMs < now) throw new RangeError(`advanceToMs(${atMs}): expected an instant at or after now (${now}); time only moves forward`);
      shiftMs += atMs - now;
    },
  };
}

/** An instant written as ISO 8601 with a date, a time and an explicit zone (Z or ±hh:mm); undefined otherwise. */
export function parseIsoInstant(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):\d{2}(:\d{2}(\.\d{1,3})?)?(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m || Number(m[2]) > 23) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2027-02-30 over into March: the calendar date, read back in the text's own zone, must be the one written.
  const zoneMs = m[6] === undefined ? 0 : (m[6] === '-' ? -1 : 1) * (Number(m[7]) * 60 + Number(m[8])) * 60_000;
  return new Date(ms + zoneMs).toISOString().slice(0, 10) === m[1] ? ms : undefined;
}
