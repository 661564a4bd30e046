/**
 * A data directory for a hub or edge that a test starts, removed only AFTER the test's own teardowns.
 *
 * Why not t.testdir(): tap removes a testdir in the test's end-of-file hook, and a t.teardown()
 * registered after it runs after that removal. A hub still running then (a bill's report mail is
 * written in the background) writes into a directory being deleted: ENOTEMPTY, the teardown that
 * would stop the hub never runs, and the file times out with its sockets open (CI, stop 16).
 * Teardowns run last-registered first, so registering the removal here, before the test registers
 * its stack.close(), removes the directory once everything in it has stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface TeardownHost { teardown(fn: () => unknown): void }

export function stackDir(t: TeardownHost, prefix = 'flowbill-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
