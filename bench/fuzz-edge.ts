/**
 * Issue 8, the long run: a REAL edge process takes >= 1,000,000 fuzzed datagrams and keeps working.
 *
 *   npx tsx bench/fuzz-edge.ts [--datagrams 1000000] [--seed 1] [--rate 10000] [--sources 200] [--offline]
 *
 * Starts a real hub (hub/main.ts: LevelDB, embedded broker, modules) and provisions an edge through its
 * API (operator with the NetFlow trial, IP group fuzz-legit = 198.18.77.0/24), then edge/main.ts with
 * FLOWBILL_EDGE_* env (temp data dir, free UDP port, 1 s checkpoints and heartbeats, 64 exporters max
 * so the sources force evictions). The fuzzer (test/fuzz/datagram-mutator.ts: ../shared/interop
 * captures when present + generated v5/v9/IPFIX, mutated) sends at a steady rate from --sources
 * sockets bound to 127.1.x.y (all of 127/8 is loopback on Linux), a different source per datagram.
 *
 * Watched: the edge's exit (crash), its error-level log lines, VmRSS every second, and its heartbeats
 * as the hub sees them: a hang is > 10 s without a new heartbeat while the hub is up. Afterwards,
 * valid v5 and v9 traffic for the fuzz-legit group (which no fuzzed datagram can name: the fuzzer
 * scrubs 198.18.77 from every datagram) must reach the hub's API to the byte.
 * --offline: MQTT URL points at a closed port; liveness is then "alive, and exits cleanly on SIGTERM
 * after the fuzz" (no byte comparison).
 * Exit code 1 on a crash, a hang or a byte mismatch.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUCKET_MS, bucketStartSecOfMs } from '../common/bucket';
import { legitTraffic } from '../test/fuzz/legit-traffic';
import { createDatagramFuzzer, defaultInteropDir, loadInteropCorpus, LEGIT_PREFIX } from '../test/fuzz/datagram-mutator';
import { arg, freeTcpPort, freeUdpPort, mib, repoRoot, sleep, spawnChild, startHubProcess, setUpOperator, subjectTotals, type Child, type HubProcess } from './fuzz-stack';

const DATAGRAMS = Number(arg('datagrams', '1000000'));
const SEED = Number(arg('seed', '1'));
const RATE = Number(arg('rate', '10000'));
const SOURCES = Math.min(4000, Number(arg('sources', '200')));
const OFFLINE = process.argv.includes('--offline');
const HANG_MS = 10_000;
const OPERATOR = 'fuzz';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flowbill-fuzz-edge-'));
const t0 = Date.now();
let hub: HubProcess | undefined;
let edge: Child | undefined;
let crashes = 0;
let hangs = 0;
const problems: string[] = [];

async function main(): Promise<number> {
  // ---- hub and edge
  let trialStartMs = Date.now();
  let creds = { edgeId: 'fuzz-edge', tenantId: OPERATOR, username: '', password: '', mqttUrl: `mqtt://127.0.0.1:${await freeTcpPort()}` };
  if (!OFFLINE) {
    hub = await startHubProcess(dir);
    trialStartMs = Date.now();
    [creds] = await setUpOperator(hub, OPERATOR, [{ name: 'fuzz-legit', prefixes: [LEGIT_PREFIX] }], ['fuzz-edge']);
    creds.mqttUrl = hub.mqttUrl;
  }
  const udpPort = await freeUdpPort();
  const edgeEnv = {
    FLOWBILL_EDGE_ID: creds.edgeId, FLOWBILL_EDGE_TENANT_ID: creds.tenantId, FLOWBILL_EDGE_MQTT_URL: creds.mqttUrl,
    FLOWBILL_EDGE_MQTT_USERNAME: creds.username, FLOWBILL_EDGE_MQTT_PASSWORD: creds.password,
    FLOWBILL_EDGE_UDP_HOST: '127.0.0.1', FLOWBILL_EDGE_UDP_PORT: String(udpPort), FLOWBILL_EDGE_DATA_DIR: path.join(dir, 'edge'),
    FLOWBILL_EDGE_UDP_RECV_BUFFER_BYTES: String(32 * 1024 * 1024),
    FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: '1000', FLOWBILL_EDGE_CLOSE_GRACE_SEC: '0', FLOWBILL_EDGE_HEARTBEAT_INTERVAL_MS: '1000',
    FLOWBILL_EDGE_LIVE_INTERVAL_MS: '1000', FLOWBILL_EDGE_ACK_TIMEOUT_MS: '5000', FLOWBILL_EDGE_MAX_EXPORTERS: '64',
  };
  const startEdge = async () => {
    edge = spawnChild('edge', 'edge/main.ts', edgeEnv);
    await edge.waitForLine(/edge started/, 60_000);
    if (!OFFLINE) await edge.waitForLine(/collection config applied/, 30_000).catch(() => undefined);
  };
  await startEdge();
  console.log(`edge pid ${edge!.proc.pid} on udp 127.0.0.1:${udpPort}, ${OFFLINE ? 'MQTT offline (dead URL)' : `hub ${hub!.httpUrl} pid ${hub!.child.proc.pid}`}`);

  // ---- senders: one socket per spoofed source address
  const sockets = new Map<string, dgram.Socket>();
  for (let i = 0; i < SOURCES; i++) {
    const address = `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`;
    const s = dgram.createSocket('udp4');
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind({ address, port: 0 }, () => { s.off('error', reject); resolve(); }); });
    sockets.set(address, s);
  }
  const corpus = loadInteropCorpus(defaultInteropDir(repoRoot));
  const fuzzer = createDatagramFuzzer({ seed: SEED, nowMs: () => Date.now(), corpus, exporters: [...sockets.keys()] });
  console.log(`fuzzing: ${DATAGRAMS} datagrams at ${RATE}/s from ${SOURCES} source addresses, seed ${SEED}, corpus ${corpus.length} captures${corpus.length ? '' : ' (../shared/interop absent: generated datagrams only)'}`);

  // ---- watchers: crash, RSS, heartbeat
  let lastHeartbeat = { atMs: Date.now(), lastSeenMs: 0, packetsReceived: 0, internalErrors: 0, decodeErrors: 0, flowsOutOfBounds: 0, tableEvictions: 0 };
  // The last 2,000 datagrams sent (a ring), saved as a fixture if the edge dies.
  const ring: ({ exporter: string; bytes: Uint8Array } | undefined)[] = new Array(2000);
  const recentList = () => { const out: { exporter: string; bytes: Uint8Array }[] = []; for (let i = 0; i < ring.length; i++) { const d = ring[(sent + i) % ring.length]; if (d) out.push(d); } return out; };
  let sent = 0;
  let stopWatch = false;
  const watch = (async () => {
    while (!stopWatch) {
      edge!.sampleRss();
      hub?.child.sampleRss();
      if (edge!.exited) {
        crashes++;
        const msg = `edge EXITED (${JSON.stringify(edge!.exited)}) after ${sent} datagrams; stderr:\n${edge!.stderrTail.slice(-4000)}\nlast error lines:\n${edge!.errorLines.slice(-5).join('\n')}`;
        problems.push(msg);
        console.log(`!! ${msg}`);
        const saved = saveCrashWindow(recentList(), sent);
        console.log(`!! the datagrams sent before the crash: ${saved}`);
        if (crashes > 5) { stopWatch = true; break; }
        await startEdge().catch((err) => problems.push(`edge restart failed: ${(err as Error).message}`));
      }
      if (hub && !hub.child.exited) {
        try {
          const r = await hub.api('GET', `/operators/${OPERATOR}/edges`);
          const st = r.body?.edges?.[0]?.status;
          if (st?.lastSeenMs && st.lastSeenMs !== lastHeartbeat.lastSeenMs) {
            const c = st.counters ?? {};
            lastHeartbeat = { atMs: Date.now(), lastSeenMs: st.lastSeenMs, packetsReceived: c.packetsReceived ?? 0, internalErrors: c.internalErrors ?? 0, decodeErrors: c.decodeErrors ?? 0, flowsOutOfBounds: c.flowsOutOfBounds ?? 0, tableEvictions: c.tableEvictions ?? 0 };
          } else if (Date.now() - lastHeartbeat.atMs > HANG_MS && !edge!.exited) {
            hangs++;
            problems.push(`HANG: no heartbeat for ${((Date.now() - lastHeartbeat.atMs) / 1000).toFixed(0)} s after ${sent} datagrams (edge alive, hub up)`);
            console.log(`!! ${problems.at(-1)}`);
            lastHeartbeat.atMs = Date.now(); // count the next 10 s separately
          }
        } catch (err) {
          console.log(`(hub API unreachable: ${(err as Error).message})`);
        }
      }
      await sleep(1000);
    }
  })();

  // ---- the fuzz, at a steady rate (ticks of 10 ms)
  const udpBefore = udpErrors();
  const sendStart = Date.now();
  let nextReport = sendStart + 10_000;
  while (sent < DATAGRAMS && !stopWatch) {
    const due = Math.min(DATAGRAMS, Math.floor(((Date.now() - sendStart) / 1000) * RATE) + Math.ceil(RATE / 100));
    while (sent < due) {
      const d = fuzzer.next();
      sockets.get(d.exporter)!.send(d.bytes, udpPort, '127.0.0.1');
      ring[sent % ring.length] = { exporter: d.exporter, bytes: d.bytes };
      sent++;
    }
    if (Date.now() >= nextReport) {
      nextReport += 10_000;
      console.log(`  ${sent} sent (${((sent / (Date.now() - sendStart)) * 1000).toFixed(0)}/s); edge RSS ${mib(edge!.sampleRss())} (peak ${mib(edge!.peakRss)}); heartbeat: ${lastHeartbeat.packetsReceived} received, ${lastHeartbeat.decodeErrors} decode errors, ${lastHeartbeat.internalErrors} internal errors; crashes ${crashes}, hangs ${hangs}`);
    }
    await sleep(10);
  }
  const sendSec = (Date.now() - sendStart) / 1000;
  await sleep(3000);
  const udpAfter = udpErrors();

  // ---- valid traffic afterwards. The hub refuses buckets that ended before the operator's NetFlow
  // trial started (collection paused), so the flows go to the bucket holding the trial start (or
  // the previous one if that is later): closed already (grace 0) → a late revision, or closed when it ends.
  const nowMs = Date.now();
  const prevBucketMs = Math.max(bucketStartSecOfMs(trialStartMs) * 1000, bucketStartSecOfMs(nowMs) * 1000 - BUCKET_MS);
  const curBucketMs = prevBucketMs + BUCKET_MS; // the end of the bucket the valid flows are in
  const endMs = Math.max(prevBucketMs + 500, Math.min(nowMs - 1000, prevBucketMs + BUCKET_MS - 1000));
  if (curBucketMs > nowMs) console.log(`valid traffic goes to the bucket of the trial start; waiting ${((curBucketMs - nowMs) / 1000).toFixed(0)} s for it to close`);
  const legit = legitTraffic({ count: 90, nowMs, endMsOf: () => endMs, v9SourceId: 1 });
  const { expectedBytes, expectedPackets } = legit;
  const legitV5 = dgram.createSocket('udp4');
  const legitV9 = dgram.createSocket('udp4');
  await new Promise<void>((r) => legitV5.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  await new Promise<void>((r) => legitV9.bind({ address: '127.0.0.2', port: 0 }, () => r()));
  const send = (s: dgram.Socket, b: Uint8Array) => new Promise<void>((r) => s.send(b, udpPort, '127.0.0.1', () => r()));
  for (const d of legit.v5Datagrams) await send(legitV5, d);
  for (const d of legit.v9Datagrams) await send(legitV9, d);
  legitV5.close();
  legitV9.close();

  let got: { bytesIn: number; packetsIn: number } | undefined;
  if (!OFFLINE && hub) {
    const deadline = Math.max(Date.now(), curBucketMs) + 90_000;
    while (Date.now() < deadline) {
      got = await subjectTotals(hub, OPERATOR, 'ipg:fuzz-legit', prevBucketMs / 1000, curBucketMs / 1000).catch(() => undefined);
      if (got && got.bytesIn >= expectedBytes) break;
      await sleep(1000);
    }
    await sleep(2000); // anything more (a double count) would show now
    got = await subjectTotals(hub, OPERATOR, 'ipg:fuzz-legit', prevBucketMs / 1000, curBucketMs / 1000).catch(() => got);
  }
  stopWatch = true;
  await watch;

  // ---- liveness at the end: still running, and a clean shutdown answers SIGTERM
  const aliveAtEnd = !edge!.exited;
  const edgeCpuSec = cpuSecOf(edge!.proc.pid);
  const hubCpuSec = hub ? cpuSecOf(hub.child.proc.pid) : NaN;
  const benchCpu = process.cpuUsage();
  const stopStart = Date.now();
  await edge!.stop();
  const cleanExit = edge!.exited?.code === 0;
  if (!cleanExit) problems.push(`edge did not exit cleanly on SIGTERM: ${JSON.stringify(edge!.exited)} after ${Date.now() - stopStart} ms; stderr: ${edge!.stderrTail.slice(-2000)}`);

  const bytesOk = OFFLINE || got?.bytesIn === expectedBytes;
  const packetsOk = OFFLINE || got?.packetsIn === expectedPackets;
  console.log('\n== fuzz-edge results');
  console.log(`datagrams sent        ${sent} in ${sendSec.toFixed(1)} s (${(sent / sendSec).toFixed(0)}/s) from ${SOURCES} source addresses, seed ${SEED}`);
  console.log(`edge received         ${lastHeartbeat.packetsReceived} by its last heartbeat (${((lastHeartbeat.packetsReceived / sent) * 100).toFixed(1)}%); kernel UDP receive-buffer drops during the fuzz (all sockets): ${udpAfter.rcvbuf - udpBefore.rcvbuf}`);
  console.log(`crashes               ${crashes}`);
  console.log(`hangs                 ${hangs} (> ${HANG_MS / 1000} s without a heartbeat)`);
  console.log(`alive at the end      ${aliveAtEnd}; clean SIGTERM exit ${cleanExit} (${Date.now() - stopStart} ms)`);
  console.log(`CPU seconds           edge ${edgeCpuSec.toFixed(1)}, hub ${hubCpuSec.toFixed(1)}, this sender ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} (2 cores shared)`);
  console.log(`peak RSS              edge ${mib(edge!.peakRss)}${hub ? `, hub ${mib(hub.child.peakRss)}` : ''}`);
  console.log(`edge counters         internal errors ${lastHeartbeat.internalErrors}, decode errors ${lastHeartbeat.decodeErrors}, flows out of bounds ${lastHeartbeat.flowsOutOfBounds}, table evictions ${lastHeartbeat.tableEvictions}`);
  console.log(`edge error log lines  ${edge!.errorCount}${edge!.errorLines.length ? `, first: ${edge!.errorLines[0].slice(0, 600)}` : ''}`);
  if (!OFFLINE) console.log(`valid traffic         expected ${expectedBytes} bytes / ${expectedPackets} packets, hub API shows ${got?.bytesIn ?? 'nothing'} / ${got?.packetsIn ?? 'nothing'}: ${bytesOk && packetsOk ? 'EXACT' : 'MISMATCH'}`);
  else console.log('valid traffic         (offline: not compared)');
  for (const p of problems) console.log(`!! ${p.slice(0, 3000)}`);
  return crashes === 0 && hangs === 0 && bytesOk && packetsOk && cleanExit ? 0 : 1;
}

/** Linux's UDP counters (/proc/net/snmp): datagrams dropped for a full receive buffer, host-wide. */
function udpErrors(): { rcvbuf: number } {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/).map(Number);
    return { rcvbuf: values[names.indexOf('RcvbufErrors')] ?? NaN };
  } catch { return { rcvbuf: NaN }; }
}

function cpuSecOf(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (USER_HZ 100)
  } catch { return NaN; }
}

/** The datagrams sent just before a crash, as a regression fixture for test/fuzz/regressions.test.ts to replay in-process. */
function saveCrashWindow(recent: { exporter: string; bytes: Uint8Array }[], sent: number): string {
  const dirOut = path.join(repoRoot, 'test', 'fuzz', 'regressions');
  mkdirSync(dirOut, { recursive: true });
  const file = path.join(dirOut, `edge-process-crash-seed${SEED}-n${sent}.json`);
  writeFileSync(file, JSON.stringify({
    description: `bench/fuzz-edge.ts seed ${SEED}: the edge process exited after ${sent} datagrams; the last ${recent.length} sent (not minimized)`,
    nowMs: Date.now(), datagrams: recent.map((d) => ({ exporter: d.exporter, hex: Buffer.from(d.bytes).toString('hex') })),
    finding: { kind: 'process-exit', message: edge?.stderrTail.slice(-2000) ?? '' },
  }, null, 1) + '\n');
  return file;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.log(`!! fuzz-edge failed: ${(err as Error).stack}`);
  if (edge) console.log(`edge stderr: ${edge.stderrTail.slice(-3000)}`);
} finally {
  await edge?.stop().catch(() => undefined);
  await hub?.child.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  console.log(`(total ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
process.exit(code);
