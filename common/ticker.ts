/**
 * Periodic work that one bad value cannot kill.
 *
 * A throw inside a bare setInterval callback (or an unhandled rejection of an async one) ends a Node
 * process. Every tick goes through guardTick(): sync throws and async rejections are caught, counted
 * (the status counter internal_errors) and logged once per tick name, then at most once per
 * repeatLogMs with the number of errors since the last line, so a tick that fails every second cannot
 * flood the log.
 *
 * Timers are a port, injected like the Clock (MQTT.js takes a `{set, clear}` timer the same way):
 * tests pass a manual Timers and call the ticks themselves, or run under sinon fake timers, which the
 * default systemTimers follow because it looks the globals up at call time.
 */
import type { Clock } from './clock';
import { systemClock } from './clock';
import type { Logger } from './logger';

/** The interval-timer port. Handles are opaque to callers. */
export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The process's timers, looked up at call time (so sinon fake timers replace them in tests). */
export const systemTimers: Timers = {
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
};

export interface ErrorRecorderDeps {
  log: Logger;
  clock?: Clock;
  /** After the first line for a name, at most one more line per name per this many ms. Default 60 s. */
  repeatLogMs?: number;
  /** Called for every caught error (after counting). Must not throw; if it does, it is ignored. */
  onError?: (name: string, err: unknown) => void;
}

/** Counts and rate-limits the logging of errors caught at a boundary (tick, datagram, event handler). */
export interface ErrorRecorder {
  record(name: string, err: unknown): void;
  /** Every error recorded so far (internal_errors). */
  count(): number;
}

export function createErrorRecorder(deps: ErrorRecorderDeps): ErrorRecorder {
  const clock = deps.clock ?? systemClock;
  const repeatLogMs = deps.repeatLogMs ?? 60_000;
  const perName = new Map<string, { lastLogMs: number; suppressed: number }>();
  let total = 0;
  return {
    record(name, err) {
      total++;
      try { deps.onError?.(name, err); } catch { /* a broken hook must not break the boundary */ }
      const nowMs = clock.nowMs();
      const seen = perName.get(name);
      if (seen === undefined) {
        if (perName.size >= 1000) perName.clear(); // names are code constants; bounded all the same
        perName.set(name, { lastLogMs: nowMs, suppressed: 0 });
        deps.log.error({ err, tick: name }, `internal error in ${name}; caught and counted, the program carries on (repeats are logged at most every ${repeatLogMs / 1000} s)`);
        return;
      }
      if (nowMs - seen.lastLogMs >= repeatLogMs) {
        deps.log.error({ err, tick: name, since: seen.suppressed + 1 }, `internal error in ${name} again (${seen.suppressed + 1} since the last line)`);
        seen.lastLogMs = nowMs;
        seen.suppressed = 0;
      } else {
        seen.suppressed++;
      }
    },
    count: () => total,
  };
}

/**
 * Wraps a tick so that neither a sync throw nor a rejected promise escapes; both go to `errors`.
 * The returned function never throws and returns nothing (timer callbacks ignore return values).
 */
export function guardTick(name: string, fn: () => unknown, errors: ErrorRecorder): () => void {
  return () => {
    try {
      const r = fn();
      if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err: unknown) => errors.record(name, err));
      }
    } catch (err) {
      errors.record(name, err);
    }
  };
}

export interface SafeTicker {
  /** Runs fn every ms through guardTick. unref: the timer does not keep the process alive. */
  every(name: string, ms: number, fn: () => unknown, opts?: { unref?: boolean }): void;
  /** Clears every interval started by this ticker. */
  stopAll(): void;
  /** The ticker's error recorder (share it with other boundaries of the same component). */
  errors: ErrorRecorder;
}

export function createSafeTicker(deps: ErrorRecorderDeps & { timers?: Timers; errors?: ErrorRecorder }): SafeTicker {
  const timers = deps.timers ?? systemTimers;
  const errors = deps.errors ?? createErrorRecorder(deps);
  const handles: unknown[] = [];
  return {
    every(name, ms, fn, opts = {}) {
      const handle = timers.setInterval(guardTick(name, fn, errors), ms);
      if (opts.unref) (handle as { unref?: () => void } | undefined)?.unref?.();
      handles.push(handle);
    },
    stopAll() {
      for (const h of handles) timers.clearInterval(h);
      handles.length = 0;
    },
    errors,
  };
}

/** Timers driven by hand, for tests: tick(ms) fires what is due, in order, and awaits microtasks. */
export function createManualTimers(): Timers & { tick(ms: number): Promise<void>; active(): number; activePeriodsMs(): number[]; clearAll(): void } {
  let nowMs = 0;
  let nextId = 1;
  const intervals = new Map<number, { fn: () => void; ms: number; dueMs: number }>();
  return {
    setInterval(fn, ms) {
      const id = nextId++;
      intervals.set(id, { fn, ms: Math.max(1, ms), dueMs: nowMs + Math.max(1, ms) });
      return id;
    },
    clearInterval(handle) { intervals.delete(handle as number); },
    async tick(ms) {
      const endMs = nowMs + ms;
      for (;;) {
        let next: [number, { fn: () => void; ms: number; dueMs: number }] | undefined;
        for (const e of intervals) if (e[1].dueMs <= endMs && (next === undefined || e[1].dueMs < next[1].dueMs)) next = e;
        if (next === undefined) break;
        nowMs = next[1].dueMs;
        next[1].dueMs += next[1].ms;
        next[1].fn();
        await new Promise((r) => setImmediate(r));
      }
      nowMs = endMs;
    },
    active: () => intervals.size,
    /** The period of each running interval, so a test can name the timer it means. */
    activePeriodsMs: () => [...intervals.values()].map((e) => e.ms),
    clearAll() { intervals.clear(); },
  };
}
