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

/**
 * "A counter and one log line": bad input is counted every time but logged only the first time
 * a given kind of problem is seen from a given source, so a misconfigured exporter sending garbage
 * at line rate cannot flood the log.
 */
export function createOnceLogger(log: Logger, maxKeys = 10_000) {
  const seen = new Set<string>();
  return {
    warnOnce(key: string, obj: object, msg: string): void {
      if (seen.has(key)) return;
      if (seen.size >= maxKeys) seen.clear();
      seen.add(key);
      log.warn(obj, `${msg} (further occurrences are only counted)`);
    },
  };
}
