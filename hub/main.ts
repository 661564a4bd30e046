/**
 * The hub program (`npm run hub`): hub-program.ts starts it from the config (hub/config.ts,
 * environment) and its storage; SIGINT/SIGTERM stop it cleanly. The local demo stack (hub + one
 * local edge + a demo exporter, `npm start`) is its own program, demo/main.ts: the hub does not
 * import the edge.
 */
import path from 'node:path';
import { systemClock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { createLogger } from '../common/logger';
import { loadHubConfig } from './config';
import { startHubProgram, stopOnSignals } from './hub-program';
import { describeRotation, rotateSecretKeyFile } from './security/key-ring-rotation';

async function main(): Promise<void> {
  // Older `npm start`s ran the demo through this program; a real hub must not quietly start instead
  // (with a one-time admin password and no edge), so those flags say where they went.
  const moved = process.argv.slice(2).filter((a) => a === '--with-edge' || a === '--demo');
  if (moved.length > 0) throw new Error(`${moved.join(' ')}: the local demo stack is its own program now: npm start (tsx demo/main.ts)`);
  const log = createLogger('flowbill-hub');
  // Without FLOWBILL_ADMIN_PASSWORD the first start prints a one-time password (create-hub.ts).
  const program = await startHubProgram({ log });
  stopOnSignals(log, () => program.stop());
}

/** `npm run hub -- rotate-secret-key`, with the hub stopped: hub/security/key-ring-rotation.ts. */
async function rotateSecretKey(): Promise<void> {
  const config = loadHubConfig();
  // A cluster's key is FLOWBILL_SECRET_KEY, given to every hub: rotating means a new key there and the
  // old one in FLOWBILL_SECRET_KEYS_RETIRED (each hub re-seals at start). There is no key file to rotate.
  if (config.hubStore === 'postgres') throw new Error('with FLOWBILL_HUB_STORE=postgres the key is FLOWBILL_SECRET_KEY on every hub: set the new key there and the old one in FLOWBILL_SECRET_KEYS_RETIRED, then restart the hubs (README, Security)');
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
