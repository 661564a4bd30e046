/**
 * `npm start`: the local demo stack, its own program. It starts the hub exactly as `npm run hub`
 * does (hub/hub-program.ts) but keeps the demo's well-known admin / admin (unless
 * FLOWBILL_ADMIN_PASSWORD says otherwise), then runs one local edge and a demo exporter feeding it
 * (demo/local-stack.ts), on the hub's clock. This program imports hub and edge; the hub never imports
 * the edge (test/hub/import-boundary.test.ts).
 *
 * Environment, beside the hub's: FLOWBILL_EDGE_DATA_DIR (default <dataDir>/../edge),
 * FLOWBILL_EDGE_UDP_PORT (NetFlow/IPFIX, default 2055), FLOWBILL_EDGE_SFLOW_PORT (default 6343;
 * 0 picks a free port, -1 none).
 */
import path from 'node:path';
import { createLogger } from '../common/logger';
import { DEMO_ADMIN_PASSWORD } from '../hub/config';
import { startHubProgram, stopOnSignals } from '../hub/hub-program';
import { startLocalStack } from './local-stack';

/** A port from the environment, or `def` when unset; anything else than an integer in [min, 65535] is refused by name. */
function portFromEnv(name: string, def: number | undefined, min = 0): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < min || port > 65535) throw new Error(`config ${name}: expected an integer from ${min} to 65535, got "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const log = createLogger('flowbill-hub');
  const udpPort = portFromEnv('FLOWBILL_EDGE_UDP_PORT', 2055)!;
  const sflowPort = portFromEnv('FLOWBILL_EDGE_SFLOW_PORT', undefined, -1);
  const adminPassword = process.env.FLOWBILL_ADMIN_PASSWORD || DEMO_ADMIN_PASSWORD;
  const program = await startHubProgram({
    log, overrides: { adminPassword },
    readyNote: (config) => (config.adminPassword === DEMO_ADMIN_PASSWORD ? ` (demo: log in as admin / ${DEMO_ADMIN_PASSWORD})` : ''),
  });
  const stack = startLocalStack({
    httpUrl: program.httpUrl, mqttUrl: program.mqttUrl, adminPassword: program.config.adminPassword, demo: true, log, clock: program.clock,
    edgeDataDir: process.env.FLOWBILL_EDGE_DATA_DIR ?? path.join(path.dirname(path.resolve(program.config.dataDir)), 'edge'),
    udpPort, sflowPort,
  });
  // A signal while the demo is being set up waits for the set-up (it talks to the hub), then stops
  // the edge and the hub in that order; a set-up that failed leaves the hub alone to stop.
  stopOnSignals(log, async () => {
    await (await stack.catch(() => undefined))?.stop();
    await program.stop();
  });
  await stack;
}

main().catch((err) => {
  console.error(`flowbill demo failed to start: ${(err as Error).message}`);
  process.exit(1);
});
