import path from 'node:path';
import { CliError, writeSecretFile, type CliIo } from './cli-io';
import { parseEdgeConfigFile, renderEdgeConfigFile, type EdgeConfigFile } from './edge-config-file';
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
  let existing: string | undefined;
  try { existing = await io.fs.readFile(configPath, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${configPath}: ${(err as Error).message}`);
  }
  let config: EdgeConfigFile | undefined;
  if (existing !== undefined && !o.force) {
    const parsed = parseEdgeConfigFile(existing);
    if (!parsed.ok) throw new CliError(`${configPath} exists but is not a valid edge config (${parsed.error}); fix it or re-run with --force`, 2);
    if (parsed.config.edgeName !== o.name || parsed.config.hubUrl !== o.hubUrl) {
      throw new CliError(`${configPath} already holds edge "${parsed.config.edgeName}" of ${parsed.config.hubUrl}; use another --out or --force`, 2);
    }
    config = parsed.config;
    io.stdout(`already provisioned: edge ${config.edgeName} (${config.edgeId}) in ${configPath}; --force re-registers and rotates its credentials`);
  }
  if (!config) {
    const creds = await registerEdge(io, o.hubUrl, o.auth, o.name);
    config = {
      edgeId: creds.edgeId, tenantId: creds.tenantId, edgeName: o.name, hubUrl: o.hubUrl,
      mqttUrl: creds.mqttUrl, mqttUsername: creds.username, mqttPassword: creds.password,
      udpHost: '::', udpPort: o.udpPort, dataDir: o.dataDir,
    };
    await writeSecretFile(io, configPath, renderEdgeConfigFile(config));
    io.stdout(`registered edge ${o.name} as ${config.edgeId} (operator ${config.tenantId}); config written to ${configPath} (mode 0600)`);
  }
  const unitPath = path.join(o.systemdDir, UNIT_NAME);
  const unit = renderSystemdUnit({ edgeName: config.edgeName, configPath, repoDir: io.repoDir, nodePath: io.nodePath, dataDir: config.dataDir, udpPort: config.udpPort });
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
