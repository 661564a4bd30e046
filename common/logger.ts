import { pino } from 'pino';

/** The logging port every module takes; pino in production, silent or captured in tests. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }) as unknown as Logger;
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};

export interface OnceLoggerOptions {
  /** Time source for the rate limit (ms); defaults to Date.now. Decoders pass their input's time. */
  nowMs?: () => number;
  /** At most this many lines per window (default 100) ... */
  maxLinesPerWindow?: number;
  /** ... per this many ms (default 60 s); beyond it one summary line per window says how many were suppressed. */
  windowMs?: number;
}

/**
 * "A counter and one log line": bad input is counted every time but logged only the first time
 * a given kind of problem is seen from a given source, so a misconfigured exporter sending garbage
 * at line rate cannot flood the log.
 *
 * Keys often hold attacker-chosen parts (a spoofed UDP source address): 100k sources would be 100k
 * "first" lines, and forgetting keys once maxKeys is reached starts them over. So the lines are also
 * rate limited over all keys: at most maxLinesPerWindow per window, and the first line after a window
 * with suppressed lines says how many there were (one line, at most once per window).
 */
export function createOnceLogger(log: Logger, maxKeys = 10_000, opts: OnceLoggerOptions = {}) {
  const nowMs = opts.nowMs ?? Date.now;
  const maxLines = opts.maxLinesPerWindow ?? 100;
  const windowMs = opts.windowMs ?? 60_000;
  const seen = new Set<string>();
  let windowStartMs = -Infinity;
  let lines = 0;
  let suppressed = 0;
  return {
    warnOnce(key: string, obj: object, msg: string): void {
      if (seen.has(key)) return;
      if (seen.size >= maxKeys) seen.clear();
      seen.add(key);
      const now = nowMs();
      const elapsedMs = now - windowStartMs;
      if (!(elapsedMs >= 0 && elapsedMs < windowMs)) { // a clock stepped back starts a window too
        if (suppressed > 0) {
          log.warn({ suppressed, windowMs }, `${suppressed} further first-occurrence warnings suppressed (rate limit)`);
        }
        windowStartMs = now;
        lines = 0;
        suppressed = 0;
      }
      if (lines >= maxLines) {
        suppressed++;
        return;
      }
      lines++;
      log.warn(obj, `${msg} (further occurrences are only counted)`);
    },
  };
}
