/**
 * An error with a stable machine-readable code. Each program defines its codes in one place
 * (hub/errors.ts, edge/errors.ts) and maps them to HTTP status or counters at the boundary.
 */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CodedError';
  }
}
