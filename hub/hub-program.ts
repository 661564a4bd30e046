/**
 * The hub as a program, for its entry points: `npm run hub` (hub/main.ts) and the local demo stack
 * (`npm start`, demo/main.ts). Reads the config (hub/config.ts, environment), loads the key file,
 * opens the storage (LevelDB at <dataDir>/db, or PostgreSQL: store/open-hub-storage.ts), builds the
 * hub with every module (hub-modules.ts) and starts it. stop() closes HTTP, modules, MQTT client and
 * broker, then the database, so every acknowledged batch is on disk.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createShiftedClock, systemClock, type Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { loadHubConfig, type HubConfig } from './config';
import { createHub, type Hub } from './create-hub';
import { createHubModules } from './hub-modules';
import { openHubStorage } from './store/open-hub-storage';
import { loadHubKeyRing } from './security/key-ring-file';

export interface HubProgramOptions {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Settings the program decides over the environment's (the demo's admin password). */
  overrides?: Partial<HubConfig>;
  /** Appended to the "flowbill hub ready" line (the demo says how to log in). */
  readyNote?(config: Readonly<HubConfig>): string;
}

export interface HubProgram {
  config: Readonly<HubConfig>;
  /** The hub's clock: the system's, or FLOWBILL_CLOCK's shifted one (whatever runs beside the hub should use it). */
  clock: Clock;
  hub: Hub;
  httpUrl: string;
  mqttUrl: string;
  stop(): Promise<void>;
}

export async function startHubProgram(opts: HubProgramOptions): Promise<HubProgram> {
  const { log } = opts;
  const config = loadHubConfig(opts.env ?? process.env, opts.overrides ?? {});
  await mkdir(config.dataDir, { recursive: true });
  // FLOWBILL_CLOCK=<instant>: a test hub whose time starts there (README, "Running the hub at a chosen time").
  const shifted = config.clockStartMs === undefined ? undefined : createShiftedClock(config.clockStartMs);
  const clock: Clock = shifted ?? systemClock;
  if (shifted) {
    log.warn({ clock: 'shifted', startedAt: new Date(config.clockStartMs!).toISOString(), control: config.clockControl },
      `NOT THE SYSTEM CLOCK: FLOWBILL_CLOCK makes this hub's time start at ${new Date(config.clockStartMs!).toISOString()} and run on from there${config.clockControl ? ', and FLOWBILL_CLOCK_CONTROL=on lets a super_admin move it forward (POST /api/v1/hub/clock)' : ''}. Trials, invoices and bills follow that time: for tests only, never in production`);
  }
  // Before the database: a key file readable by others stops the start before anything is served.
  const { ring: secretKeys } = await loadHubKeyRing({ ...config, nowMs: clock.nowMs(), log });
  const storage = await openHubStorage(config, log);
  const hub = createHub({ config, kv: storage.kv, seriesStore: storage.seriesStore, clock, log, modules: createHubModules, secretKeys, clockControl: config.clockControl ? shifted : undefined });
  // A failed start leaves things half open: the entry points exit the process on it.
  const { httpUrl, mqttUrl } = await hub.start();
  log.info({ httpUrl, mqttUrl, publicMqttUrl: config.publicMqttUrl, dataDir: path.resolve(config.dataDir), store: storage.describe },
    `flowbill hub ready: web UI and API at ${httpUrl}, MQTT at ${mqttUrl}${opts.readyNote?.(config) ?? ''}`);
  return {
    config, clock, hub, httpUrl, mqttUrl,
    async stop() {
      await hub.stop();
      await storage.close();
    },
  };
}

/**
 * SIGINT/SIGTERM run `stop` once and exit 0 (1 if it failed, or if it takes over 15 s): the shutdown
 * every flowbill program shares.
 */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => { log.error('shutdown took over 15 s; exiting'); process.exit(1); }, 15_000);
    force.unref();
    try {
      await stop();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void onSignal('SIGINT'));
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
}
