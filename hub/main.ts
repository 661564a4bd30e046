/**
 * The hub program: reads the config (hub/config.ts, environment), opens LevelDB at <dataDir>/db,
 * starts the hub, and stops it cleanly on SIGINT/SIGTERM (HTTP, modules, MQTT client, broker,
 * then the database, so every acknowledged batch is on disk).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { createLogger } from '../common/logger';
import { loadHubConfig } from './config';
import { createHub } from './create-hub';
import { createHubModules } from './hub-modules';
import { startLocalStack } from './local-stack';

/** `--with-edge`: also run one local edge in this process; `--demo`: and a demo exporter feeding it. */
const withEdge = process.argv.includes('--with-edge');
const demo = process.argv.includes('--demo');

async function main(): Promise<void> {
  const log = createLogger('flowbill-hub');
  const config = loadHubConfig();
  await mkdir(config.dataDir, { recursive: true });
  const kv = await openLevelKvStore(path.join(config.dataDir, 'db'));
  const hub = createHub({ config, kv, clock: systemClock, log, modules: createHubModules });
  const { httpUrl, mqttUrl } = await hub.start();
  log.info({ httpUrl, mqttUrl, publicMqttUrl: config.publicMqttUrl, dataDir: path.resolve(config.dataDir) }, `flowbill hub ready: web UI and API at ${httpUrl}, MQTT at ${mqttUrl}`);
  const localStack = withEdge
    ? await startLocalStack({
      httpUrl, mqttUrl, adminPassword: config.adminPassword, demo, log,
      edgeDataDir: process.env.FLOWBILL_EDGE_DATA_DIR ?? path.join(path.dirname(path.resolve(config.dataDir)), 'edge'),
      udpPort: Number(process.env.FLOWBILL_EDGE_UDP_PORT ?? 2055),
    })
    : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => { log.error('shutdown took over 15 s; exiting'); process.exit(1); }, 15_000);
    force.unref();
    try {
      await localStack?.stop();
      await hub.stop();
      await kv.close();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  // Config errors name the key; print them plainly and exit non-zero.
  console.error(`flowbill hub failed to start: ${(err as Error).message}`);
  process.exit(1);
});
