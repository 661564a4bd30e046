/**
 * flowbill edge agent: `tsx edge/main.ts` (config: FLOWBILL_EDGE_CONFIG JSON file and FLOWBILL_EDGE_*).
 * SIGINT / SIGTERM: final checkpoint, OFFLINE status, close. kill -9 loses at most one checkpoint
 * interval of flows and never a closed bucket. The store is opened through the reopening wrapper, so
 * a full disk heals without a restart; a SIGTERM while the final checkpoint cannot be written exits 1
 * with an error line saying what was not saved (what is on disk stays intact).
 *
 * FLOWBILL_EDGE_THREADS=2 (the default): this thread reads the UDP socket and a worker thread runs
 * the edge (edge/threads/threaded-edge.ts), store and all; 1: everything on this thread.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../common/clock';
import { createLogger } from '../common/logger';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { openReopeningKvStore } from '../common/kv/reopening-kv-store';
import { loadEdgeConfig, type EdgeAgentConfig } from './config';
import { createEdge } from './create-edge';
import { createThreadedEdge } from './threads/threaded-edge';
import { setReaderNice } from './receive/reader-priority';

const log = createLogger('flowbill-edge');
let config: ReturnType<typeof loadEdgeConfig>;
try {
  config = loadEdgeConfig();
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
await mkdir(config.dataDir, { recursive: true });
const statePath = path.join(config.dataDir, 'state');
if (config.threads === 2) {
  await runThreaded(config, statePath);
} else {
  await runSingleThread(config, statePath);
}

/** The threaded edge: the worker owns the store; its final checkpoint's failure comes back from stop(). */
async function runThreaded(config: Readonly<EdgeAgentConfig>, statePath: string): Promise<void> {
  const edge = createThreadedEdge({
    config, log, store: { kind: 'level', path: statePath },
    onFatal: (err) => { log.error({ err }, `edge worker failed: ${err.message}; exiting with code 1`); process.exit(1); },
  });
  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await edge.stop();
      process.exit(0);
    } catch (err) {
      const e = err as Error & { storeHealth?: unknown };
      log.error({ err, dataDir: config.dataDir, storeHealth: e.storeHealth }, `shutdown FAILED: ${e.message}; exiting with code 1`);
      process.exit(1);
    }
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const { udpPort, sflowPort } = await edge.start();
  log.info({ edgeId: config.edgeId, tenantId: config.tenantId, mqttUrl: config.mqttUrl, udpPort, sflowPort, dataDir: config.dataDir, threads: 2 }, 'edge started');
}

async function runSingleThread(config: Readonly<EdgeAgentConfig>, statePath: string): Promise<void> {
  const kv = await openReopeningKvStore({ open: () => openLevelKvStore(statePath), log: log.child({ module: 'store' }), clock: systemClock });
  const edge = createEdge({ config, clock: systemClock, log, kv });
  setReaderNice(config.readerNice, log); // the one thread reads the socket too

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    kv.retryNow(); // the final checkpoint tries the disk now, whatever the reopen backoff says
    let failure: unknown;
    try {
      await edge.stop();
    } catch (err) {
      failure = err;
    }
    try {
      await kv.close();
    } catch (err) {
      failure ??= err;
    }
    if (failure === undefined) process.exit(0);
    log.error({ err: failure, dataDir: config.dataDir, storeHealth: kv.health() }, `shutdown FAILED: ${(failure as Error)?.message ?? String(failure)}; exiting with code 1`);
    process.exit(1);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

  const { udpPort } = await edge.start();
  log.info({ edgeId: config.edgeId, tenantId: config.tenantId, mqttUrl: config.mqttUrl, udpPort, dataDir: config.dataDir }, 'edge started');
}
