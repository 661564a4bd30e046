/**
 * The systemd unit for the edge. Choices:
 * - DynamicUser: no account to create on the box; StateDirectory gives it /var/lib/flowbill-edge.
 * - The config file stays root-owned 0600; LoadCredential hands a copy to the service's private
 *   credentials directory (%d), readable by the dynamic user only, and FLOWBILL_EDGE_CONFIG points there.
 * - Hardening leaves out MemoryDenyWriteExecute: V8's JIT needs writable+executable pages.
 * - Restart=always: the edge's outbox is on disk, so a restart loses nothing.
 */
export interface UnitOptions {
  edgeName: string;
  configPath: string;
  repoDir: string;
  nodePath: string;
  dataDir: string;
  udpPort: number;
}

export const UNIT_NAME = 'flowbill-edge.service';

/** systemd expands %-specifiers in most settings (systemd.unit(5) "Specifiers"): a literal % is %%. */
function literal(value: string): string {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`systemd unit: control character in ${JSON.stringify(value)}`);
  return value.replace(/%/g, '%%');
}

/** An ExecStart word: quoted when it has spaces (systemd.service(5) "Command lines"). */
function word(value: string): string {
  const v = literal(value);
  return /[\s"'\\]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

export function renderSystemdUnit(input: UnitOptions): string {
  const o = { ...input, edgeName: literal(input.edgeName), configPath: literal(input.configPath), repoDir: literal(input.repoDir), dataDir: literal(input.dataDir) };
  const stateDir = o.dataDir.startsWith('/var/lib/') ? o.dataDir.slice('/var/lib/'.length) : undefined;
  const lines = [
    '[Unit]',
    `Description=flowbill edge agent ${o.edgeName} (NetFlow/IPFIX collector)`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${o.repoDir}`,
    `LoadCredential=edge.json:${o.configPath}`,
    'Environment=FLOWBILL_EDGE_CONFIG=%d/edge.json',
    'Environment=NODE_ENV=production',
    `ExecStart=${word(input.nodePath)} --import tsx ${word(`${input.repoDir}/edge/main.ts`)}`,
    'Restart=always',
    'RestartSec=5',
    'TimeoutStopSec=30',
    'DynamicUser=yes',
    ...(stateDir ? [`StateDirectory=${stateDir}`, 'StateDirectoryMode=0700'] : [`ReadWritePaths=${o.dataDir}`]),
    // Ports below 1024 need the one capability; otherwise the service gets none.
    ...(o.udpPort < 1024 ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE'] : ['CapabilityBoundingSet=']),
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
