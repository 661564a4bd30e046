/**
 * Invoice periods: what one of flowbill's invoices to an operator (subscription, NetFlow add-on)
 * covers. Not the bill cycle an operator bills its own customers by (hub/billing/bill-cycle.ts).
 * Default chosen here (the issue is silent): a period is a calendar month in UTC,
 * [00:00 UTC on the 1st, 00:00 UTC on the 1st of the next month), the same for every operator
 * (no anniversary dates, so one invoice run on the 1st covers everyone). Invoices are issued in
 * arrears: the invoice for a month lists what was in force on each of its days.
 */
export const DAY_MS = 86_400_000;

export interface InvoicePeriod {
  /** "YYYY-MM", also the idempotency key's period part. */
  key: string;
  startMs: number;
  endMs: number;
  days: number;
}

export function periodContaining(atMs: number): InvoicePeriod {
  const d = new Date(atMs);
  return periodOfMonth(d.getUTCFullYear(), d.getUTCMonth());
}

/** month is 0-based, as in Date; Date.UTC normalises month 12 into January of the next year. */
export function periodOfMonth(year: number, month0: number): InvoicePeriod {
  const startMs = Date.UTC(year, month0, 1);
  const endMs = Date.UTC(year, month0 + 1, 1);
  const s = new Date(startMs);
  const key = `${s.getUTCFullYear()}-${String(s.getUTCMonth() + 1).padStart(2, '0')}`;
  return { key, startMs, endMs, days: Math.round((endMs - startMs) / DAY_MS) };
}

export function nextPeriod(p: InvoicePeriod): InvoicePeriod {
  return periodContaining(p.endMs);
}

export function periodByKey(key: string): InvoicePeriod | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  if (!m) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return periodOfMonth(Number(m[1]), month - 1);
}

/** "2026-03-14" for an instant, in UTC. */
export function utcDate(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 10);
}
