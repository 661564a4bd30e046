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
