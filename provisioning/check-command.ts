import type dgram from 'node:dgram';
import { CliError, type CliIo } from './cli-io';
import { parseEdgeConfigFile, parseProvisionRecord, provisionRecordPath, type EdgeConfigFile } from './edge-config-file';

export interface CheckOptions {
  configFile: string;
  /** How long to wait for the first exporter packet; 0 skips that step. */
  waitSeconds: number;
  /** The hub's URL; default: the one `provision` recorded next to the config. */
  hubUrl?: string;
  /** MQTT client id for the login test (default: the edge id, as the edge itself connects). */
  clientId?: string;
}

type Outcome = 'ok' | 'FAIL' | 'skip';

/**
 * `check` on the edge box, in order: config valid → hub reachable → MQTT login → UDP port free →
 * first exporter packet. The edge itself must be stopped: it holds the UDP port, and it may share
 * the MQTT client id (a broker drops the older of two sessions with one id, [MQTT-3.1.4-2]).
 * Exit code 0 when every step passed, 1 otherwise.
 */
export async function runCheck(io: CliIo, o: CheckOptions): Promise<number> {
  let failed = false;
  const report = (outcome: Outcome, step: string, detail: string) => {
    if (outcome === 'FAIL') failed = true;
    io.stdout(`${outcome.padEnd(4)} ${step}: ${detail}`);
  };

  let text: string;
  try { text = await io.fs.readFile(o.configFile, 'utf8'); } catch (err) {
    throw new CliError(`cannot read ${o.configFile}: ${(err as Error).message}`, 2);
  }
  const parsed = parseEdgeConfigFile(text);
  if (!parsed.ok) { report('FAIL', 'config', `${o.configFile}: ${parsed.error}`); return 1; }
  const config = parsed.config;
  report('ok', 'config', `edge ${config.edgeId}, operator ${config.tenantId}`);

  let hubUrl = o.hubUrl;
  if (!hubUrl) {
    try { hubUrl = parseProvisionRecord(await io.fs.readFile(provisionRecordPath(o.configFile), 'utf8'))?.hubUrl; } catch { /* no sidecar */ }
  }
  if (hubUrl) await checkHub(io, hubUrl, report);
  else report('FAIL', 'hub reachable', `no hub URL: ${provisionRecordPath(o.configFile)} is missing; give --hub URL`);
  await checkMqtt(io, config, o.clientId ?? config.edgeId, report);

  const socket = await bindUdp(io, config, report);
  if (socket) {
    if (o.waitSeconds > 0) await waitFirstPacket(io, socket, config, o.waitSeconds, report);
    else report('skip', 'first exporter packet', '--wait-seconds 0');
    socket.close();
  } else {
    report('skip', 'first exporter packet', 'the UDP port could not be bound');
  }
  io.stdout(failed ? 'check failed' : 'all checks passed');
  return failed ? 1 : 0;
}

async function checkHub(io: CliIo, hubUrl: string, report: (o: Outcome, s: string, d: string) => void) {
  const url = `${hubUrl.replace(/\/+$/, '')}/api/v1/health`;
  try {
    const res = await io.fetch(url, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    // Any HTTP answer proves the hub is reachable; a 404 only means this hub has no health route.
    report('ok', 'hub reachable', `${url} answered HTTP ${res.status}`);
  } catch (err) {
    // fetch wraps the socket error: "fetch failed" with the useful part in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    report('FAIL', 'hub reachable', `${url}: ${cause?.code ?? cause?.message ?? (err as Error).message} (DNS, firewall, or FLOWBILL_PUBLIC_URL on the hub?)`);
  }
}

async function checkMqtt(io: CliIo, config: EdgeConfigFile, clientId: string, report: (o: Outcome, s: string, d: string) => void) {
  await new Promise<void>((resolve) => {
    const client = io.mqttConnect(config.mqttUrl, {
      clientId, username: config.mqttUsername, password: config.mqttPassword,
      reconnectPeriod: 0, connectTimeout: 10_000, clean: true,
    });
    let done = false;
    const finish = (outcome: Outcome, detail: string) => {
      if (done) return;
      done = true;
      report(outcome, 'mqtt login', detail);
      client.end(true, {}, () => resolve());
    };
    client.once('connect', () => finish('ok', `${config.mqttUrl} as ${config.mqttUsername}`));
    client.once('error', (err: Error & { code?: number | string }) => {
      // MQTT 3.1.1 §3.2.2.3 CONNACK return codes: 4 bad user name or password, 5 not authorized.
      if (err.code === 4 || err.code === 5) {
        finish('FAIL', `${config.mqttUrl}: the broker refused ${config.mqttUsername}: ${err.code === 4 ? 'bad user name or password' : 'not authorized'} (revoked or rotated credentials? re-run provision --force)`);
      } else {
        finish('FAIL', `${config.mqttUrl}: ${err.message}`);
      }
    });
    client.once('close', () => finish('FAIL', `${config.mqttUrl}: connection closed before CONNACK (wrong port, TLS mismatch, or a firewall)`));
  });
}

async function bindUdp(io: CliIo, config: EdgeConfigFile, report: (o: Outcome, s: string, d: string) => void): Promise<dgram.Socket | undefined> {
  const socket = io.createUdpSocket(config.udpHost.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EADDRINUSE' ? 'in use: stop flowbill-edge (or another collector) for this check' : err.code === 'EACCES' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : err.message;
      report('FAIL', 'udp port free', `[${config.udpHost}]:${config.udpPort}: ${hint}`);
      socket.close();
      resolve(undefined);
    });
    socket.bind(config.udpPort, config.udpHost, () => {
      socket.removeAllListeners('error');
      report('ok', 'udp port free', `[${config.udpHost}]:${config.udpPort}`);
      resolve(socket);
    });
  });
}

/** NetFlow v5 / v9 and IPFIX (10) all start with a 2-byte version (RFC 3954 §5.1, RFC 7011 §3.1). */
export function describeFlowPacket(msg: Uint8Array): string {
  if (msg.length < 2) return 'a datagram too short to be NetFlow';
  const version = (msg[0] << 8) | msg[1];
  const name = version === 5 ? 'NetFlow v5' : version === 9 ? 'NetFlow v9' : version === 10 ? 'IPFIX' : `not NetFlow/IPFIX (first word ${version}; sFlow or another protocol?)`;
  return `${name}, ${msg.length} bytes`;
}

async function waitFirstPacket(io: CliIo, socket: dgram.Socket, config: EdgeConfigFile, waitSeconds: number, report: (o: Outcome, s: string, d: string) => void) {
  io.stdout(`     waiting up to ${waitSeconds} s for the first exporter packet on UDP ${config.udpPort}…`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.removeAllListeners('message');
      report('FAIL', 'first exporter packet', `nothing within ${waitSeconds} s: check the exporter's destination/port (see \`snippets\`) and firewalls`);
      resolve();
    }, waitSeconds * 1000);
    socket.once('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      clearTimeout(timer);
      const from = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
      report('ok', 'first exporter packet', `from ${from} port ${rinfo.port}: ${describeFlowPacket(msg)}`);
      resolve();
    });
  });
}
