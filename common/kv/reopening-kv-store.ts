/**
 * A KeyValueStore that closes and reopens its backend after a failed write, so a full disk heals
 * without a restart once space returns.
 *
 * Why (measured on a 5 MB tmpfs with classic-level): a batch that hits ENOSPC while appending to the
 * write-ahead log leaves a torn record in that log. LevelDB does not make that error sticky, so the
 * next batch on the same handle may succeed once space is back, appended AFTER the torn record; on
 * the next open, recovery stops at the torn record and silently drops the later, acknowledged batch
 * (the store rewinds). An error in a background compaction, on the other hand, is sticky: every
 * later write on that handle fails. Both are cured the same way: never write to a handle again after
 * a failed write; close it and open a fresh one (recovery turns the old log into a table and starts a
 * new log).
 *
 * Contract, on top of KeyValueStore's:
 * - writes are serialized here, one at a time, so no batch is ever appended behind a failed one;
 * - after a failed write the handle takes no more writes: the next write closes it and opens a new
 *   one through `open`. Reads keep using the old handle until then (a full disk still lets the
 *   outbox be read and sent). A read that fails with an I/O or "not open" error makes reads reopen
 *   too. Reopen attempts back off (minBackoffMs doubling to maxBackoffMs, measured on the injected
 *   clock); inside the backoff, calls that need a new handle fail at once with StoreUnavailableError,
 *   without touching the disk;
 * - every rejected write is counted (health().writeErrors → status counter store_write_errors);
 *   errors are logged once per kind until the store recovers, and the recovery is logged.
 */
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { Logger } from '../logger';
import type { KeyValueStore, KvHealth, KvOp, KvRange } from './kv-store';
import { createSerialQueue } from '../serial-queue';

export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, readonly cause?: unknown) { super(message); }
}

export interface ReopeningKvStoreDeps {
  /** Opens a fresh handle on the same location (the previous one is closed first). */
  open: () => Promise<KeyValueStore>;
  log: Logger;
  clock?: Clock;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ReopeningKvStore extends KeyValueStore {
  health(): KvHealth;
  /** Forget the backoff: the next call tries to reopen at once (clean shutdown's final flush). */
  retryNow(): void;
}

/** Errors that mean the handle itself is unusable (not a missing key or a bad argument). */
export function isStoreIoError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : '';
  return code === 'LEVEL_IO_ERROR' || code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_CORRUPTION'
    || code === 'ENOSPC' || code === 'EIO' || code === 'EROFS' || code === 'EDQUOT' || code === 'STORE_UNAVAILABLE'
    || /IO error|not open|No space left|Corruption/i.test(msg);
}

function errorKind(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if (/No space left|ENOSPC/i.test(msg) || e?.code === 'ENOSPC') return 'ENOSPC';
  return typeof e?.code === 'string' ? e.code : msg.slice(0, 80);
}

export async function openReopeningKvStore(deps: ReopeningKvStoreDeps): Promise<ReopeningKvStore> {
  const store = createReopeningKvStore(deps);
  await store.get('\u0000reopening-kv-store/probe'); // open now: a store that cannot open fails fast at start
  return store;
}

/** Lazy: the first call opens the backend. */
export function createReopeningKvStore(deps: ReopeningKvStoreDeps): ReopeningKvStore {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  const minBackoffMs = deps.minBackoffMs ?? 200;
  const maxBackoffMs = deps.maxBackoffMs ?? 10_000;
  let handle: KeyValueStore | undefined;
  let generation = 0;
  let broken = false; // no more writes on this handle
  let readBroken = false; // no more reads either
  let closed = false;
  let opening: Promise<KeyValueStore> | undefined;
  let lastError: unknown;
  let backoffMs = 0;
  let nextAttemptMs = 0;
  let failingSinceMs: number | undefined;
  const loggedKinds = new Set<string>();
  const health = { writeErrors: 0, readErrors: 0, reopens: 0 };
  const writes = createSerialQueue(); // writes apply in call order

  function markBroken(gen: number, err: unknown, op: string): void {
    lastError = err;
    if (failingSinceMs === undefined) failingSinceMs = clock.nowMs();
    const kind = `${op}:${errorKind(err)}`;
    if (!loggedKinds.has(kind)) {
      loggedKinds.add(kind);
      log.error({ err, op, writeErrors: health.writeErrors }, `store ${op} failed (${errorKind(err)}); the store will be reopened and the data stays in memory until a write succeeds (further ${kind} errors are only counted until recovery)`);
    }
    if (gen !== generation) return; // an older handle
    if (op !== 'write') readBroken = true;
    if (broken) return; // already scheduled
    broken = true;
    backoffMs = backoffMs === 0 ? minBackoffMs : Math.min(maxBackoffMs, backoffMs * 2);
    // The first reopen may go at once: most often the error was one torn append, and space is back.
    nextAttemptMs = backoffMs === minBackoffMs ? clock.nowMs() : clock.nowMs() + backoffMs;
  }

  function noteSuccess(): void {
    if (failingSinceMs === undefined) return;
    log.warn({ failedForMs: clock.nowMs() - failingSinceMs, writeErrors: health.writeErrors, reopens: health.reopens }, 'store recovered: writes succeed again');
    failingSinceMs = undefined;
    backoffMs = 0;
    loggedKinds.clear();
  }

  async function reopen(): Promise<KeyValueStore> {
    const old = handle;
    handle = undefined;
    if (old) { try { await old.close(); } catch { /* a broken handle may fail to close; its lock is released all the same */ } }
    try {
      const h = await deps.open();
      handle = h;
      generation++;
      broken = false;
      readBroken = false;
      health.reopens++;
      if (failingSinceMs !== undefined) log.info({ reopens: health.reopens }, 'store reopened');
      return h;
    } catch (err) {
      // Stay broken; back off before the next attempt.
      lastError = err;
      if (failingSinceMs === undefined) failingSinceMs = clock.nowMs();
      backoffMs = Math.min(maxBackoffMs, Math.max(minBackoffMs, backoffMs * 2));
      nextAttemptMs = clock.nowMs() + backoffMs;
      const kind = `open:${errorKind(err)}`;
      if (!loggedKinds.has(kind)) { loggedKinds.add(kind); log.error({ err }, `store reopen failed (${errorKind(err)}); retrying with backoff`); }
      throw new StoreUnavailableError(`store reopen failed: ${(err as Error)?.message ?? String(err)}`, err);
    }
  }

  async function current(forWrite: boolean): Promise<[KeyValueStore, number]> {
    if (closed) throw new StoreUnavailableError('store is closed');
    if (opening) { const h = await opening; return [h, generation]; }
    if (handle && !broken) return [handle, generation];
    if (handle && !forWrite && !readBroken) return [handle, generation];
    if (handle === undefined && !broken && generation === 0) {
      // First open (lazy).
      opening = deps.open().then((h) => { handle = h; generation = 1; return h; }).finally(() => { opening = undefined; });
      const h = await opening;
      return [h, generation];
    }
    if (clock.nowMs() < nextAttemptMs) {
      throw new StoreUnavailableError(`store unavailable after ${errorKind(lastError)}; next reopen in ${nextAttemptMs - clock.nowMs()} ms`, lastError);
    }
    opening = reopen().finally(() => { opening = undefined; });
    const h = await opening;
    return [h, generation];
  }

  async function read<T>(op: string, fn: (h: KeyValueStore) => Promise<T>): Promise<T> {
    const [h, gen] = await current(false);
    try {
      return await fn(h);
    } catch (err) {
      if (isStoreIoError(err)) { health.readErrors++; markBroken(gen, err, op); }
      throw err;
    }
  }

  function write(ops: KvOp[]): Promise<void> {
    const run = async (): Promise<void> => {
      let gen = generation;
      try {
        const [h, g] = await current(true);
        gen = g;
        await h.write(ops);
      } catch (err) {
        health.writeErrors++;
        if (!(err instanceof StoreUnavailableError)) markBroken(gen, err, 'write');
        else if (!loggedKinds.has('write:unavailable')) { loggedKinds.add('write:unavailable'); log.warn({ err: err.message }, 'store write refused while the store is being reopened (further ones are only counted until recovery)'); }
        throw err;
      }
      noteSuccess();
    };
    return writes.run(run);
  }

  return {
    get: (key) => read('get', (h) => h.get(key)),
    getMany: (keys) => read('getMany', (h) => h.getMany(keys)),
    write,
    async *entries(range: KvRange) {
      const [h, gen] = await current(false);
      try {
        for await (const e of h.entries(range)) yield e;
      } catch (err) {
        if (isStoreIoError(err)) { health.readErrors++; markBroken(gen, err, 'entries'); }
        throw err;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await writes.idle();
      if (opening) { try { await opening; } catch { /* nothing to close */ } }
      const h = handle;
      handle = undefined;
      if (h) await h.close();
    },
    health: () => ({ ...health, healthy: !broken && failingSinceMs === undefined }),
    retryNow() { nextAttemptMs = 0; },
  };
}
