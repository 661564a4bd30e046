import path from 'node:path';
import { CliError, writeSecretFile, type CliIo } from './cli-io';
import { parseEdgeConfigFile, parseProvisionRecord, provisionRecordPath, renderEdgeConfigFile, type EdgeConfigFile, type ProvisionRecord } from './edge-config-file';
import { registerEdge, type HubAuth } from './hub-client';
import { renderSystemdUnit, UNIT_NAME } from './systemd-unit';

export interface ProvisionOptions {
  hubUrl: string;
  auth: HubAuth;
  name: string;
  outFile: string;
  systemdDir: string;
  udpPort: number;
  dataDir: string;
  force: boolean;
}

/**
 * `provision`: register the edge and write its config and systemd unit.
 * Re-running is safe: a valid config for the same edge name and hub is kept ("already provisioned")
 * and the hub is not called, so the credentials in use stay valid; --force re-registers, which
 * rotates the credentials (the hub answers an existing name with new ones) and rewrites the file.
 * A config for another edge is never overwritten without --force.
 */
export async function runProvision(io: CliIo, o: ProvisionOptions): Promise<number> {
  const configPath = path.resolve(o.outFile);
  const recordPath = provisionRecordPath(configPath);
  const readOptional = async (file: string): Promise<string | undefined> => {
    try { return await io.fs.readFile(file, 'utf8'); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const existing = await readOptional(configPath);
  let config: EdgeConfigFile | undefined;
  if (existing !== undefined && !o.force) {
    const parsed = parseEdgeConfigFile(existing);
    if (!parsed.ok) throw new CliError(`${configPath} exists but is not a valid edge config (${parsed.error}); fix it or re-run with --force`, 2);
    const record = parseProvisionRecord((await readOptional(recordPath)) ?? '');
    if (!record || record.edgeId !== parsed.config.edgeId) {
      throw new CliError(`${configPath} exists but ${recordPath} does not say which edge it is; re-run with --force to re-register`, 2);
    }
    if (record.edgeName !== o.name || record.hubUrl !== o.hubUrl) {
      throw new CliError(`${configPath} already holds edge "${record.edgeName}" of ${record.hubUrl}; use another --out or --force`, 2);
    }
    config = parsed.config;
    io.stdout(`already provisioned: edge ${record.edgeName} (${config.edgeId}) in ${configPath}; --force re-registers and rotates its credentials`);
  }
  if (!config) {
    const creds = await registerEdge(io, o.hubUrl, o.auth, o.name);
    config = {
      edgeId: creds.edgeId, tenantId: creds.tenantId, mqttUrl: creds.mqttUrl, mqttUsername: creds.username, mqttPassword: creds.password,
      udpHost: '::', udpPort: o.udpPort, dataDir: o.dataDir,
    };
    const text = renderEdgeConfigFile(config);
    const check = parseEdgeConfigFile(text);
    if (!check.ok) throw new CliError(`the hub's credentials do not make a valid edge config: ${check.error}`);
    await writeSecretFile(io, configPath, text);
    const record: ProvisionRecord = { edgeName: o.name, hubUrl: o.hubUrl, edgeId: config.edgeId };
    await io.fs.writeFile(recordPath, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    io.stdout(`registered edge ${o.name} as ${config.edgeId} (operator ${config.tenantId}); config written to ${configPath} (mode 0600)`);
  }
  const unitPath = path.join(o.systemdDir, UNIT_NAME);
  const unit = renderSystemdUnit({ edgeName: o.name, configPath, repoDir: io.repoDir, nodePath: io.nodePath, dataDir: config.dataDir, udpPort: config.udpPort });
  let currentUnit: string | undefined;
  try { currentUnit = await io.fs.readFile(unitPath, 'utf8'); } catch { /* absent */ }
  if (currentUnit !== unit) {
    await io.fs.mkdir(o.systemdDir, { recursive: true });
    await io.fs.writeFile(unitPath, unit, { mode: 0o644 });
    io.stdout(`systemd unit written to ${unitPath}`);
  } else {
    io.stdout(`systemd unit ${unitPath} is up to date`);
  }
  io.stdout('next: `tsx provisioning/cli.ts check --config ' + configPath + '`, then `systemctl daemon-reload && systemctl enable --now flowbill-edge`');
  return 0;
}
