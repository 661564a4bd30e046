import { loadEdgeConfig, type EdgeAgentConfig } from '../edge/config';

/**
 * The edge's config file as `provision` writes it and edge/main.ts reads it (FLOWBILL_EDGE_CONFIG).
 * It holds the edge's MQTT password, hence mode 0600. The edge refuses unknown keys, so what only
 * the CLI needs (edge name, hub URL) goes to a sidecar file instead (ProvisionRecord below).
 */
export type EdgeConfigFile = Pick<EdgeAgentConfig, 'edgeId' | 'tenantId' | 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'udpHost' | 'udpPort' | 'dataDir'>;

const REQUIRED: (keyof EdgeConfigFile)[] = ['edgeId', 'tenantId', 'mqttUrl', 'mqttUsername', 'mqttPassword', 'udpHost', 'udpPort', 'dataDir'];

/**
 * Checks a config file's text the way the edge will load it (edge/config.ts: types, patterns, no
 * unknown keys), and that every key provisioning writes is present (the edge would fall back to
 * defaults, e.g. edgeId "edge-1"). The error names the first bad key.
 */
export function parseEdgeConfigFile(text: string): { ok: true; config: EdgeConfigFile } | { ok: false; error: string } {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { return { ok: false, error: `not JSON: ${(err as Error).message}` }; }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'expected a JSON object' };
  for (const k of REQUIRED) if (!(k in raw) || (raw as Record<string, unknown>)[k] === '') return { ok: false, error: `${k}: missing` };
  try {
    const loaded = loadEdgeConfig({ env: { FLOWBILL_EDGE_CONFIG: 'edge.json' }, readFile: () => text });
    const config = Object.fromEntries(REQUIRED.map((k) => [k, loaded[k]])) as unknown as EdgeConfigFile;
    return { ok: true, config };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function renderEdgeConfigFile(config: EdgeConfigFile): string {
  const ordered = Object.fromEntries(REQUIRED.map((k) => [k, config[k]]));
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Sidecar "<config>.provision.json": what `provision` re-runs and `check` need besides the edge's own keys. No secrets. */
export interface ProvisionRecord { edgeName: string; hubUrl: string; edgeId: string }

export function provisionRecordPath(configPath: string): string {
  return `${configPath.replace(/\.json$/, '')}.provision.json`;
}

export function parseProvisionRecord(text: string): ProvisionRecord | undefined {
  try {
    const o = JSON.parse(text) as Partial<ProvisionRecord>;
    return typeof o.edgeName === 'string' && typeof o.hubUrl === 'string' && typeof o.edgeId === 'string' ? { edgeName: o.edgeName, hubUrl: o.hubUrl, edgeId: o.edgeId } : undefined;
  } catch { return undefined; }
}
