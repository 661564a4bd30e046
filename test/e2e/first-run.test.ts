/**
 * Issue 11, first run: `npm start` (demo/main.ts) shows a first 5-minute point
 * within about five minutes, with no error or warning in the log.
 *
 * The real demo stack in this process: createHub with every module (as hub/hub-program.ts) and startLocalStack
 * (demo operator set up over HTTP, trial started, an edge provisioned and run, the demo exporter
 * sending NetFlow v9 over UDP). Hub, edge and demo share one manual clock; the edge's and the demo's
 * interval timers are manual too and move with it, one simulated second at a time. While a closed
 * bucket is on its way (the edge's outbox is not empty) simulated time waits, as a real second
 * would be far longer than the round trip.
 */
import t, { type Test } from 'tap';
import { stackDir } from '../helpers/stack-dir';
import path from 'node:path';
import { createManualClock } from '../../common/clock';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import type { Logger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { DEMO_ADMIN_PASSWORD, loadHubConfig } from '../../hub/config';
import { createHub } from '../../hub/create-hub';
import { createHubModules } from '../../hub/hub-modules';
import { startLocalStack } from '../../demo/local-stack';
import { loadHubKeyRing } from '../../hub/security/key-ring-file';
import { freeTcpPort } from '../helpers/free-ports';
import { waitFor } from './stack';

interface LogLine { level: 'warn' | 'error'; msg?: string; obj: unknown }

/** A Logger keeping warn and error lines from every component (children included). */
function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug() {}, info() {},
    warn(obj, msg) { lines.push({ level: 'warn', msg: typeof obj === 'string' ? obj : msg, obj: { ...bindings, ...(typeof obj === 'object' ? obj : {}) } }); },
    error(obj, msg) { lines.push({ level: 'error', msg: typeof obj === 'string' ? obj : msg, obj: { ...bindings, ...(typeof obj === 'object' ? obj : {}) } }); },
    child: (more) => make({ ...bindings, ...more }),
  });
  return { log: make({}), lines };
}

/**
 * Starts the demo stack at startIso and runs simulated time until the demo customer's first 5-minute
 * point is visible over the API (or limitSec passes). Returns the simulated seconds it took.
 */
async function firstPointAfter(t: Test, startIso: string, limitSec: number): Promise<{ elapsedSec: number | undefined; lines: LogLine[] }> {
  const dir = stackDir(t);
  const startMs = Date.parse(startIso);
  const clock = createManualClock(startMs);
  const timers = createManualTimers();
  const { log, lines } = recordingLogger();
  const mqttPort = await freeTcpPort();
  const config = loadHubConfig({}, {
    httpPort: 0, mqttPort, adminPassword: DEMO_ADMIN_PASSWORD, dataDir: path.join(dir, 'hub'), publicMqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
  });
  // As main.ts: the key file first (a first start generates it and says so at warn level).
  const { ring: secretKeys } = await loadHubKeyRing({ ...config, nowMs: clock.nowMs(), log });
  const kv = await openLevelKvStore(path.join(dir, 'hub', 'db'));
  const hub = createHub({ config, kv, clock, log, modules: createHubModules, secretKeys });
  const { httpUrl, mqttUrl } = await hub.start();
  const stack = await startLocalStack({
    httpUrl, mqttUrl, adminPassword: DEMO_ADMIN_PASSWORD, edgeDataDir: path.join(dir, 'edge'), udpPort: 0, sflowPort: 0, demo: true, log, clock, timers,
  });
  t.teardown(async () => { await stack.stop(); await hub.stop(); await kv.close(); });

  const login = await (await fetch(`${httpUrl}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'noc', password: 'flowbill' }) })).json() as { token: string };
  const points = async () => {
    const res = await fetch(`${httpUrl}/api/v1/operators/demo/subjects/${encodeURIComponent('ipg:cust-c')}/series`, { headers: { authorization: `Bearer ${login.token}` } });
    if (!res.ok) throw new Error(`series: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { points: { bucketStartSec: number; bytesIn: number }[] }).points;
  };
  // As a person would: the demo customer's IP groups classify once the edge has the hub's config.
  await waitFor('the edge to receive its collection config', async () => (stack.edge.status().configVersion > 0 ? true : undefined), 15_000);

  for (let sec = 1; sec <= limitSec; sec++) {
    clock.advanceMs(1000);
    await timers.tick(1000);
    await waitFor('the edge\'s outbox to drain (hub ack)', async () => (stack.edge.status().counters.outboxDepth === 0 ? true : undefined), 15_000);
    if ((await points()).some((p) => p.bytesIn > 0)) return { elapsedSec: (clock.nowMs() - startMs) / 1000, lines };
  }
  return { elapsedSec: undefined, lines };
}

/** What a first start rightly says at warn level: back up the key file it generated. Nothing else. */
const unexpected = (lines: LogLine[]) => lines.filter((l) => !(l.level === 'warn' && /^generated a random secret key/.test(l.msg ?? '')));
const describe = (lines: LogLine[]) => lines.map((l) => `${l.level}: ${l.msg} ${JSON.stringify(l.obj)}`).join('\n') || 'none';

t.test('started mid-slot (12:03:40): the partial first slot is stored, visible within two minutes, nothing logged at warn or error', async (t) => {
  const { elapsedSec, lines } = await firstPointAfter(t, '2027-03-10T12:03:40Z', 300);
  t.ok(elapsedSec !== undefined && elapsedSec <= 120, `first point after ${elapsedSec} s (the 12:00 slot closes at 12:05 plus the demo's 10 s grace and a checkpoint)`);
  t.same(unexpected(lines), [], `no other warn or error line: ${describe(unexpected(lines))}`);
});

t.test('started just after a slot boundary (12:00:02, the worst case): first point by T+5 min 15 s, no REJECTED batch, nothing at warn or error', async (t) => {
  // A 5-minute point exists once its slot has ended: 12:05:00 + 10 s grace + the 5 s checkpoint.
  const { elapsedSec, lines } = await firstPointAfter(t, '2027-03-10T12:00:02Z', 330);
  t.ok(elapsedSec !== undefined && elapsedSec <= 315, `first point after ${elapsedSec} s`);
  t.same(unexpected(lines), [], `no other warn or error line: ${describe(unexpected(lines))}`);
});
