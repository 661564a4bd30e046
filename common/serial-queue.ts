/**
 * Runs async tasks one at a time, in call order. The KeyValueStore has atomic batches but no
 * compare-and-set, so a read-modify-write (an invoice number, a login claim, a day chunk) is only
 * safe when nothing else of the same kind runs meanwhile: each owner of such state keeps one queue.
 * This holds within one process.
 *
 * Contract, for both kinds of queue:
 * - A task starts only after every task queued before it (on the same key) has settled.
 * - A task's result or error goes to its own caller only: a failing task does not poison the queue,
 *   the next task runs as if it had succeeded.
 * - A task that throws synchronously is a rejected task like any other.
 */
export interface SerialQueue {
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /** Resolves (never rejects) once every task queued so far has settled: for a clean close. */
  idle(): Promise<void>;
}

const ignore = (): void => undefined;

export function createSerialQueue(): SerialQueue {
  let tail: Promise<void> = Promise.resolve();
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      const result = tail.then(() => task());
      tail = result.then(ignore, ignore);
      return result;
    },
    idle: () => tail,
  };
}

/**
 * One SerialQueue per key (an edge, an operator): tasks on one key run one at a time, in call order;
 * tasks on different keys run concurrently. A key's entry is dropped once its last task settled, so
 * the map holds only keys with work in flight.
 */
export interface KeyedSerialQueue<K = string> {
  run<T>(key: K, task: () => T | Promise<T>): Promise<T>;
  /** Resolves (never rejects) once every task queued so far on that key has settled. */
  idle(key: K): Promise<void>;
  /** Whether a task is queued or running on that key. */
  isBusy(key: K): boolean;
}

export function createKeyedSerialQueue<K = string>(): KeyedSerialQueue<K> {
  const tails = new Map<K, Promise<void>>();
  return {
    run<T>(key: K, task: () => T | Promise<T>): Promise<T> {
      const result = (tails.get(key) ?? Promise.resolve()).then(() => task());
      const tail = result.then(ignore, ignore);
      tails.set(key, tail);
      void tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
      return result;
    },
    idle: (key: K) => tails.get(key) ?? Promise.resolve(),
    isBusy: (key: K) => tails.has(key),
  };
}
