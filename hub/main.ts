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
import { createHub, type HubContext, type HubModule } from './create-hub';

/** The modules the hub runs besides its spine (commerce, billing, mail, access): wired by the lead. */
function hubModules(_ctx: HubContext): HubModule[] {
  return [];
}

async function main(): Promise<void> {
  const log = createLogger('flowbill-hub');
  const config = loadHubConfig();
  await mkdir(config.dataDir, { recursive: true });
  const kv = await openLevelKvStore(path.join(config.dataDir, 'db'));
  const hub = createHub({ config, kv, clock: systemClock, log, modules: hubModules });
  const { httpUrl, mqttUrl } = await hub.start();
  log.info({ httpUrl, mqttUrl, publicMqttUrl: config.publicMqttUrl, dataDir: path.resolve(config.dataDir) }, `flowbill hub ready: web UI and API at ${httpUrl}, MQTT at ${mqttUrl}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => { log.error('shutdown took over 15 s; exiting'); process.exit(1); }, 15_000);
    force.unref();
    try {
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
