/**
 * Fault injection under the KV port, for disk-full stories: handle() gives a view of one shared
 * backing store whose writes can be made to fail with an ENOSPC-like error (atomically: a failed
 * write changes nothing, as LevelDB's batch does), and whose reads can be made to fail.
 * Each handle can also be closed; calls on a closed handle fail like LevelDB's "not open".
 */
import type { KeyValueStore, KvOp } from '../../../common/kv/kv-store';

export function enospc(): Error {
  return Object.assign(new Error('IO error: 000003.log: No space left on device'), { code: 'ENOSPC' });
}

export function createFaultyKv(backing: KeyValueStore) {
  let failingWrites = false;
  let failCount = 0;
  let readError: Error | undefined;
  let writesFailed = 0;
  let writesOk = 0;
  const writeFilter: { fn?: (ops: KvOp[]) => boolean } = {};

  function notOpen(): Error {
    return Object.assign(new Error('Database is not open'), { code: 'LEVEL_DATABASE_NOT_OPEN' });
  }

  return {
    /** A new handle on the shared backing store (what a reopen returns). */
    handle(): KeyValueStore {
      let open = true;
      return {
        async get(key) { if (!open) throw notOpen(); if (readError) throw readError; return backing.get(key); },
        async getMany(keys) { if (!open) throw notOpen(); if (readError) throw readError; return backing.getMany(keys); },
        async write(ops) {
          if (!open) throw notOpen();
          const selected = writeFilter.fn ? writeFilter.fn(ops) : true;
          if (selected && (failingWrites || failCount > 0)) {
            if (failCount > 0) failCount--;
            writesFailed++;
            throw enospc();
          }
          await backing.write(ops);
          writesOk++;
        },
        async *entries(range) { if (!open) throw notOpen(); if (readError) throw readError; yield* backing.entries(range); },
        async close() { open = false; },
      };
    },
    /** The disk is full (true) or has space again (false). */
    failWrites(on: boolean) { failingWrites = on; },
    /** Fail the next n writes (that match the filter, if one is set). */
    failNextWrites(n: number) { failCount = n; },
    /** Only writes for which fn returns true are failed (e.g. only deletes of outbox batches). */
    onlyFail(fn: ((ops: KvOp[]) => boolean) | undefined) { writeFilter.fn = fn; },
    failReads(err: Error | undefined) { readError = err; },
    stats: () => ({ writesFailed, writesOk }),
    backing,
  };
}
