import { CliError, type CliIo } from './cli-io';

/** What the hub hands a newly registered (or re-registered) edge. */
export interface EdgeCredentials { edgeId: string; tenantId: string; mqttUrl: string; username: string; password: string }

export type HubAuth =
  | { kind: 'operator'; username: string; password: string; operatorId: string }
  | { kind: 'token'; token: string };

/**
 * Registers an edge through the hub's API:
 *   operator: POST /api/v1/login {username,password} → {token};
 *             POST /api/v1/operators/:operatorId/edges {name} (Bearer) → {edge, credentials}
 *   token:    POST /api/v1/enroll {token, name} → {edge, credentials}
 * The hub is idempotent by name: an existing edge comes back with rotated credentials.
 */
export async function registerEdge(io: CliIo, hubUrl: string, auth: HubAuth, name: string): Promise<EdgeCredentials> {
  const base = hubUrl.replace(/\/+$/, '');
  const call = async (method: string, path: string, body: unknown, bearer?: string): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await io.fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new CliError(`cannot reach the hub at ${base}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try { json = text ? JSON.parse(text) : {}; } catch { /* not JSON: reported below */ }
    if (!res.ok) {
      const e = json.error as { code?: string; message?: string } | undefined;
      throw new CliError(`hub ${method} ${path}: HTTP ${res.status}${e ? ` ${e.code}: ${e.message}` : ''}`);
    }
    return json;
  };

  let reply: Record<string, unknown>;
  if (auth.kind === 'operator') {
    const login = await call('POST', '/api/v1/login', { username: auth.username, password: auth.password });
    if (typeof login.token !== 'string') throw new CliError('hub login answered without a token');
    reply = await call('POST', `/api/v1/operators/${encodeURIComponent(auth.operatorId)}/edges`, { name }, login.token);
  } else {
    reply = await call('POST', '/api/v1/enroll', { token: auth.token, name });
  }
  const c = reply.credentials as Partial<EdgeCredentials> | undefined;
  if (!c || ![c.edgeId, c.tenantId, c.mqttUrl, c.username, c.password].every((v) => typeof v === 'string' && v !== '')) {
    throw new CliError('the hub answered without complete credentials {edgeId, tenantId, mqttUrl, username, password}');
  }
  return c as EdgeCredentials;
}
