import type { Clock } from './clock';
import type { Logger } from './logger';

/**
 * "A counter and a log line" for hostile input: at most one line per key per intervalMs (WARN, or
 * ERROR for events that lose data, such as a REJECTED batch);
 * occurrences in between are summed and reported as `suppressed` on the key's next line. Callers
 * count every occurrence in their own counters. Keys are bounded (oldest forgotten first).
 */
export function createRateLimitedLog(deps: { log: Logger; clock: Clock; intervalMs: number; maxKeys?: number; level?: 'warn' | 'error' }) {
  const level = deps.level ?? 'warn';
  const maxKeys = deps.maxKeys ?? 10_000;
  const state = new Map<string, { lastMs: number; suppressed: number }>();
  return {
    /** `count` occurrences of `key` (e.g. 5,000 refused filters of one SUBSCRIBE are one call). */
    warn(key: string, fields: Record<string, unknown>, msg: string, count = 1): boolean {
      const nowMs = deps.clock.nowMs();
      const s = state.get(key);
      if (s && nowMs - s.lastMs < deps.intervalMs) {
        s.suppressed += count;
        return false;
      }
      if (!s && state.size >= maxKeys) state.delete(state.keys().next().value as string);
      const suppressed = s?.suppressed ?? 0;
      state.delete(key);
      state.set(key, { lastMs: nowMs, suppressed: 0 });
      deps.log[level](suppressed ? { ...fields, suppressedSinceLastLine: suppressed } : fields, `${msg} (at most one line per ${Math.round(deps.intervalMs / 1000)} s for this source; all are counted)`);
      return true;
    },
  };
}
