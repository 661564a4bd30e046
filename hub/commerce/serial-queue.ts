/**
 * Runs async tasks one at a time, in call order. The KeyValueStore has atomic batches but no
 * compare-and-set, so every read-modify-write of commerce state (and invoice numbering above all)
 * goes through one queue: two concurrent job runs cannot take the same invoice number or make two
 * invoices for one period. This holds within one hub process (the hub runs one commerce module).
 */
export interface SerialQueue {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task, task);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
