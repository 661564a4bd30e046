/**
 * The hub program: reads the config (hub/config.ts, environment), opens its storage (LevelDB at <dataDir>/db, or PostgreSQL: store/open-hub-storage.ts),
 * starts the hub, and stops it cleanly on SIGINT/SIGTERM (HTTP, modules, MQTT client, broker,
 * then the database, so every acknowledged batch is on disk).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createShiftedClock, systemClock, type Clock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { openHubStorage } from './store/open-hub-storage';
import { createLogger } from '../common/logger';
import { DEMO_ADMIN_PASSWORD, loadHubConfig } from './config';
import { createHub } from './create-hub';
import { createHubModules } from './hub-modules';
import { startLocalStack } from './local-stack';
import { loadHubKeyRing } from './security/key-ring-file';
import { describeRotation, rotateSecretKeyFile } from './security/key-ring-rotation';

/** `--with-edge`: also run one local edge in this process; `--demo`: and a demo exporter feeding it. */
const withEdge = process.argv.includes('--with-edge');
const demo = process.argv.includes('--demo');

async function main(): Promise<void> {
  const log = createLogger('flowbill-hub');
  // The demo keeps the well-known admin / admin (unless FLOWBILL_ADMIN_PASSWORD says otherwise); a real
  // hub without FLOWBILL_ADMIN_PASSWORD gets a one-time password at its first start (create-hub.ts).
  const config = loadHubConfig(process.env, demo ? { adminPassword: process.env.FLOWBILL_ADMIN_PASSWORD || DEMO_ADMIN_PASSWORD } : {});
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
  const { kv } = storage;
  const hub = createHub({ config, kv, seriesStore: storage.seriesStore, clock, log, modules: createHubModules, secretKeys, clockControl: config.clockControl ? shifted : undefined });
  const { httpUrl, mqttUrl } = await hub.start();
  const demoLogin = demo && config.adminPassword === DEMO_ADMIN_PASSWORD ? ` (demo: log in as admin / ${DEMO_ADMIN_PASSWORD})` : '';
  log.info({ httpUrl, mqttUrl, publicMqttUrl: config.publicMqttUrl, dataDir: path.resolve(config.dataDir), store: storage.describe }, `flowbill hub ready: web UI and API at ${httpUrl}, MQTT at ${mqttUrl}${demoLogin}`);
  const localStack = withEdge
    ? await startLocalStack({
      httpUrl, mqttUrl, adminPassword: config.adminPassword, demo, log, clock,
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
      await storage.close();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** `npm run hub -- rotate-secret-key`, with the hub stopped: hub/security/key-ring-rotation.ts. */
async function rotateSecretKey(): Promise<void> {
  const config = loadHubConfig();
  const dbDir = path.join(config.dataDir, 'db');
  const kv = await openLevelKvStore(dbDir).catch((err: Error & { cause?: Error }) => {
    throw new Error(`cannot open ${dbDir} (${err.cause?.message ?? err.message}): stop the hub first, LevelDB admits one process`);
  });
  try {
    const report = await rotateSecretKeyFile({ ...config, kv, nowMs: systemClock.nowMs() });
    for (const line of describeRotation(report)) console.log(line);
  } finally {
    await kv.close();
  }
}

const rotating = process.argv[2] === 'rotate-secret-key';
(rotating ? rotateSecretKey() : main()).catch((err) => {
  // Config errors name the key; print them plainly and exit non-zero.
  console.error(`flowbill hub ${rotating ? 'rotate-secret-key failed' : 'failed to start'}: ${(err as Error).message}`);
  process.exit(1);
});
