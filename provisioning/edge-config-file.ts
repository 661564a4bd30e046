/**
 * The edge's config file as `provision` writes it and edge/main.ts reads it (FLOWBILL_EDGE_CONFIG).
 * It holds the edge's MQTT password, hence mode 0600. `edgeName` and `hubUrl` are for the CLI
 * (idempotent re-runs and `check`); the edge may ignore them.
 */
export interface EdgeConfigFile {
  edgeId: string;
  tenantId: string;
  edgeName: string;
  hubUrl: string;
  mqttUrl: string;
  mqttUsername: string;
  mqttPassword: string;
  /** '::' receives IPv4 and IPv6 exporters on one dual-stack socket. */
  udpHost: string;
  udpPort: number;
  dataDir: string;
}

const STRING_FIELDS = ['edgeId', 'tenantId', 'edgeName', 'hubUrl', 'mqttUrl', 'mqttUsername', 'mqttPassword', 'udpHost', 'dataDir'] as const;

/** Parses and checks a config file's text; the error names the first bad field. */
export function parseEdgeConfigFile(text: string): { ok: true; config: EdgeConfigFile } | { ok: false; error: string } {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { return { ok: false, error: `not JSON: ${(err as Error).message}` }; }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'expected a JSON object' };
  const o = raw as Record<string, unknown>;
  for (const k of STRING_FIELDS) if (typeof o[k] !== 'string' || o[k] === '') return { ok: false, error: `${k}: expected a non-empty string` };
  if (!Number.isInteger(o.udpPort) || (o.udpPort as number) < 1 || (o.udpPort as number) > 65535) return { ok: false, error: 'udpPort: expected 1-65535' };
  for (const k of ['hubUrl', 'mqttUrl'] as const) {
    try { new URL(o[k] as string); } catch { return { ok: false, error: `${k}: not a URL` }; }
  }
  return { ok: true, config: o as unknown as EdgeConfigFile };
}

export function renderEdgeConfigFile(config: EdgeConfigFile): string {
  const ordered: EdgeConfigFile = {
    edgeId: config.edgeId, tenantId: config.tenantId, edgeName: config.edgeName, hubUrl: config.hubUrl,
    mqttUrl: config.mqttUrl, mqttUsername: config.mqttUsername, mqttPassword: config.mqttPassword,
    udpHost: config.udpHost, udpPort: config.udpPort, dataDir: config.dataDir,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
