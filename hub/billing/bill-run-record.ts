import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createSerialQueue } from '../../common/serial-queue';

/**
 * The bill run's progress, stored so every hub answers GET …/bill-runs/latest for the run that did the
 * work, whichever hub ran it, live while it runs (issue 10). Only the hub inside the 'job:bill-run'
 * section writes a run's record; any hub reads it.
 *
 * Two records, because after the first hub's run the others' runs at the same hour find nothing due:
 * - the run WITH WORK, per operator: its head (instant, start, end, hub, mails) and the operator's
 *   counts; an operator's pointer moves only when a run has bills due for that operator, so neither an
 *   empty run nor another operator's run hides its figures;
 * - the last CHECK: the last run that finished, with or without work.
 */
export interface BillRunHead {
  /** The run's instant: bills due up to it (runDue's nowMs). The record's key. */
  runAtMs: number;
  startedAtMs: number;
  /** Absent while the run goes on (or when the hub running it died: the next run with work replaces it). */
  finishedAtMs?: number;
  /** Report mails handed to the outbox after the run (all operators). */
  mailed?: number;
  hubId?: string;
}

/** One operator's part of a run: done = made or found already made; failed: retried at the next run. */
export interface BillRunCounts {
  due: number;
  done: number;
  made: number;
  failed: number;
  /** When these figures were stored. */
  updatedAtMs: number;
}

export interface BillRunCheck {
  runAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  hubId?: string;
  /** Bills due in that run, all operators (not on the wire: another tenant's figure). */
  due: number;
}

/** The part of BillingStore the record uses (billing-store.ts; KV, so shared on PostgreSQL). */
export interface BillRunStore {
  /** A run with work begins: its head and every due operator's counts, and their pointers moved to it; older records no operator points at go. */
  startRun(head: BillRunHead, counts: [operatorId: string, counts: BillRunCounts][]): Promise<void>;
  /** One atomic write of any of: the run's head, operators' counts in it, the last check. */
  updateRun(runAtMs: number, change: { head?: BillRunHead; counts?: [string, BillRunCounts][]; check?: BillRunCheck }): Promise<void>;
  /** The operator's last run with work: its head and the operator's counts. */
  runOf(operatorId: string): Promise<{ head: BillRunHead; counts: BillRunCounts } | undefined>;
  getRunCheck(): Promise<BillRunCheck | undefined>;
}

export type BillOutcome = 'made' | 'found' | 'failed';

/** At most one write per operator per this many ms while the run goes on (plus the operator's last bill, and the end). */
export const PROGRESS_WRITE_INTERVAL_MS = 1000;

/**
 * The record of one run. Counters live in memory and are written through one queue, each write taking
 * the counters as they are when it runs, so a slower write can never land after a newer one. A failed
 * write is logged and the run goes on: the bills matter, their progress display does not.
 */
export async function startBillRunRecord(deps: { store: BillRunStore; clock: Clock; log: Logger; hubId?: string; intervalMs?: number },
  runAtMs: number, dueByOperator: Map<string, number>) {
  const { store, clock, log } = deps;
  const interval = deps.intervalMs ?? PROGRESS_WRITE_INTERVAL_MS;
  const hub = deps.hubId !== undefined ? { hubId: deps.hubId } : {};
  const head: BillRunHead = { runAtMs, startedAtMs: clock.nowMs(), ...hub };
  const counts = new Map<string, BillRunCounts>();
  const writtenAtMs = new Map<string, number>();
  for (const [op, due] of dueByOperator) {
    counts.set(op, { due, done: 0, made: 0, failed: 0, updatedAtMs: head.startedAtMs });
    writtenAtMs.set(op, head.startedAtMs);
  }
  const hasWork = counts.size > 0;
  const writes = createSerialQueue();
  const write = (what: string, fn: () => Promise<void>): Promise<void> =>
    writes.run(fn).catch((err: unknown) => log.error({ err: (err as Error).message, runAtMs }, `bill run record: ${what} not stored`));
  const snapshot = (ops: Iterable<string>): [string, BillRunCounts][] => {
    const at = clock.nowMs();
    return [...ops].map((op) => [op, { ...counts.get(op)!, updatedAtMs: at }]);
  };

  // A run that found nothing due leaves every operator's last run with work as it was.
  if (hasWork) await write('start', () => store.startRun({ ...head }, snapshot(counts.keys())));

  return {
    /** One due bill settled; stores the operator's counts when a second has passed since the last write, or it was its last bill. */
    count(operatorId: string, outcome: BillOutcome): Promise<void> {
      const c = counts.get(operatorId);
      if (!c) return Promise.resolve();
      if (outcome === 'failed') c.failed++;
      else { c.done++; if (outcome === 'made') c.made++; }
      const now = clock.nowMs();
      const last = c.done + c.failed >= c.due;
      if (!last && now - (writtenAtMs.get(operatorId) ?? -Infinity) < interval) return Promise.resolve();
      writtenAtMs.set(operatorId, now);
      return write('progress', () => store.updateRun(runAtMs, { counts: snapshot([operatorId]) }));
    },
    /** Generation is over: every operator's final counts, the head's end, and the last check, in one write. */
    finish(): Promise<void> {
      head.finishedAtMs = clock.nowMs();
      const due = [...counts.values()].reduce((n, c) => n + c.due, 0);
      const check: BillRunCheck = { runAtMs, startedAtMs: head.startedAtMs, finishedAtMs: head.finishedAtMs, ...hub, due };
      return write('end', () => store.updateRun(runAtMs, hasWork ? { head: { ...head }, counts: snapshot(counts.keys()), check } : { check }));
    },
    /** The mails sent after the run, on its head (a run with no work has no head to show them on). */
    mailed(n: number): Promise<void> {
      head.mailed = n;
      return hasWork ? write('mails', () => store.updateRun(runAtMs, { head: { ...head } })) : Promise.resolve();
    },
  };
}

export type BillRunRecord = Awaited<ReturnType<typeof startBillRunRecord>>;
