import type { Logger } from '../../common/logger';

/** A Logger that keeps its warn lines (object and message) for assertions; other levels are dropped. */
export function captureWarnings() {
  const warnings: Array<{ obj: Record<string, unknown>; msg?: string }> = [];
  const log: Logger = {
    debug() {}, info() {}, error() {},
    warn(obj, msg) { warnings.push({ obj: obj as Record<string, unknown>, msg }); },
    child() { return log; },
  };
  return { log, warnings };
}
