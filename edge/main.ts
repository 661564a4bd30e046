/**
 * flowbill edge agent: `tsx edge/main.ts` (config: FLOWBILL_EDGE_CONFIG JSON file and FLOWBILL_EDGE_*).
 * SIGINT / SIGTERM: final checkpoint, OFFLINE status, close. kill -9 loses at most one checkpoint
 * interval of flows and never a closed bucket.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../common/clock';
import { createLogger } from '../common/logger';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { loadEdgeConfig } from './config';
import { createEdge } from './create-edge';

const log = createLogger('flowbill-edge');
let config;
try {
  config = loadEdgeConfig();
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
await mkdir(config.dataDir, { recursive: true });
const kv = await openLevelKvStore(path.join(config.dataDir, 'state'));
const edge = createEdge({ config, clock: systemClock, log, kv });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  try {
    await edge.stop();
    await kv.close();
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

const { udpPort } = await edge.start();
log.info({ edgeId: config.edgeId, tenantId: config.tenantId, mqttUrl: config.mqttUrl, udpPort, dataDir: config.dataDir }, 'edge started');
