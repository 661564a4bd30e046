/**
 * Named critical sections: the read-modify-writes the hub's repositories must not interleave (the
 * next invoice or bill number, a login name's claim, a job's "what is due since the last run").
 *
 * One hub process: a SerialQueue per name (common/serial-queue.ts) is all it takes. Several hub
 * processes on one PostgreSQL (README, "Running at scale"): the same exclusion must hold ACROSS
 * processes, so each section also holds a PostgreSQL advisory lock, keyed by the section's name, for
 * the whole task, on a connection of its own. Tasks read and write through other connections; they
 * see every write of the previous holder, which committed before it released the lock (READ
 * COMMITTED takes a new snapshot per statement).
 *
 * Contract (test/common/critical-sections.test.ts runs it on both backends; the PostgreSQL one
 * is hub/store/pg/pg-sections.ts):
 * - run(task): starts once every earlier task of this section, in ANY process, has settled; the
 *   task's result or error is its caller's only (a failure does not poison the section);
 * - tryRun(task): runs the task now if no process holds the section, else resolves to undefined
 *   without running it (a scheduled job another hub is already running);
 * - shared: true when other processes may write the same data: a module must then not keep, between
 *   two sections, a cache of state another process can change (e.g. the last bill number).
 * If the lock's connection dies mid-task, PostgreSQL releases the lock with the session; the task
 * goes on and another process may enter: the section's writes must stay safe to repeat, as after a
 * crash in one process (a bill is found again by its plan, subject and span, an invoice by its
 * operator and period, and they are written in one atomic write each).
 */
import type { KeyValueStore } from './kv/kv-store';
import { createSerialQueue, type SerialQueue } from './serial-queue';

export interface CriticalSection extends SerialQueue {
  tryRun<T>(task: () => T | Promise<T>): Promise<T | undefined>;
}

export interface CriticalSections {
  /** The section called `name` (the same object for the same name). */
  section(name: string): CriticalSection;
  readonly shared: boolean;
}

/**
 * A section over `enter`: tasks of this process queue locally first (one at a time, in call order),
 * then `enter` runs the task with whatever exclusion the backend adds; tryRun gives up when a task of
 * this process is already in the section, or when `enter` says another process holds it.
 */
export function localSection(enter: <T>(task: () => T | Promise<T>, wait: boolean) => Promise<{ ran: true; value: T } | { ran: false }>): CriticalSection {
  const queue = createSerialQueue();
  let busy = 0;
  async function inside<T>(task: () => T | Promise<T>, wait: boolean): Promise<T | undefined> {
    busy++;
    try {
      const r = await enter(task, wait);
      return r.ran ? r.value : undefined;
    } finally {
      busy--;
    }
  }
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      return queue.run(() => inside(task, true) as Promise<T>);
    },
    tryRun<T>(task: () => T | Promise<T>): Promise<T | undefined> {
      return busy > 0 ? Promise.resolve(undefined) : queue.run(() => inside(task, false));
    },
    idle: () => queue.idle(),
  };
}

export function namedSections(shared: boolean, make: (name: string) => CriticalSection): CriticalSections {
  const sections = new Map<string, CriticalSection>();
  return {
    shared,
    section(name) {
      let s = sections.get(name);
      if (!s) { s = make(name); sections.set(name, s); }
      return s;
    },
  };
}

/** One process: a queue per name. */
export function inProcessSections(): CriticalSections {
  return namedSections(false, () => localSection(async (task) => ({ ran: true, value: await task() })));
}

/**
 * The sections of the data in `kv`: the store decides how its writers exclude each other. A store
 * shared by several processes carries its own (the PostgreSQL KV store gets postgresSections at the
 * hub's wiring); any other store gets in-process sections, one set per store object, so every module
 * writing to the same store shares a section of the same name.
 */
export function sectionsOf(kv: KeyValueStore & { sections?: CriticalSections }): CriticalSections {
  if (kv.sections) return kv.sections;
  let local = localByStore.get(kv);
  if (!local) { local = inProcessSections(); localByStore.set(kv, local); }
  return local;
}
const localByStore = new WeakMap<object, CriticalSections>();
