/**
 * The UDP-reading thread's nice value (FLOWBILL_EDGE_READER_NICE, default -10).
 *
 * Why: the reader only has to keep the kernel's socket buffer from overflowing; the worker behind it
 * has a 64 MiB ring to absorb its lag. When a box has more runnable threads than cores (a cold edge's
 * first second: the worker in V8's lower tiers, V8's compiler and GC threads, and whatever else runs
 * there), the scheduler must not starve the reader, or datagrams are lost in the kernel while the
 * ring still has room. Measured (issue 13, 2 vCPUs, 130,000 v5 datagrams/s into a cold edge): 1.5%
 * and 6% lost at nice 0, 0.36% and 0 at nice -10.
 *
 * Linux nice is per thread: os.setPriority(0, n) sets the calling thread's, and threads it creates
 * afterwards inherit it (the native reader's pthread is created after this call; the worker before).
 * A negative value needs root or CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE); without
 * it the edge says so once and runs at nice 0.
 */
import os from 'node:os';
import type { Logger } from '../../common/logger';

export function setReaderNice(nice: number, log: Logger): void {
  if (nice === 0) return;
  try {
    os.setPriority(0, nice);
    log.info({ readerNice: nice }, 'UDP-reading thread nice value set');
  } catch (err) {
    const code = (err as { info?: { code?: string } }).info?.code;
    if (code === 'EACCES' || code === 'EPERM') {
      log.info({ readerNice: nice }, 'UDP-reading thread keeps nice 0: a negative nice needs root or CAP_SYS_NICE (FLOWBILL_EDGE_READER_NICE=0 silences this); under full load a cold start may drop datagrams');
    } else {
      log.warn({ err, readerNice: nice }, 'cannot set the UDP-reading thread\'s nice value; left as it was');
    }
  }
}
