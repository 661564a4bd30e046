import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { GROUP_NAME } from '../../common/subject-id';
import type { EdgeConfig, InterfaceRef, IpGroup } from '../../proto/codec';
import { hubError } from '../errors';
import { canonicalIpGroupEntry, parseIpAddress } from '../../common/ip-prefix';

export interface InterfaceSelection { allInterfaces: boolean; interfaces: InterfaceRef[] }

/** Every interface is billed until the operator narrows the selection. */
export const DEFAULT_SELECTION: InterfaceSelection = { allInterfaces: true, interfaces: [] };

const MAX_PREFIXES = 10_000;

/**
 * What each operator's edges should collect: IP groups and the interface selection.
 * Keys: edgecfg/<op>/ipg/<name>, edgecfg/<op>/ifsel, edgecfg/<op>/last (the last pushed EdgeConfig,
 * whose version the next push increments only if the content changed).
 */
export function createCollectionConfigStore(kv: KeyValueStore) {
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };

  function validateGroup(name: unknown, prefixes: unknown): IpGroup {
    if (typeof name !== 'string' || !GROUP_NAME.test(name)) throw hubError('VALIDATION_FAILED', 'name: 1-64 of [A-Za-z0-9_.-]');
    if (!Array.isArray(prefixes) || prefixes.length === 0 || prefixes.length > MAX_PREFIXES) throw hubError('VALIDATION_FAILED', `prefixes: a list of 1 to ${MAX_PREFIXES} prefixes or ranges`);
    const errors: string[] = [];
    const canonical = new Set<string>();
    for (const p of prefixes) {
      try {
        if (typeof p !== 'string') throw new Error(`${JSON.stringify(p)}: not a string`);
        canonical.add(canonicalIpGroupEntry(p));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw hubError('VALIDATION_FAILED', `invalid prefixes: ${errors.slice(0, 5).join('; ')}`, { errors });
    return { name, prefixes: [...canonical] };
  }

  return {
    async listGroups(operatorId: string): Promise<IpGroup[]> {
      return (await collect(kv, prefixRange(`edgecfg/${operatorId}/ipg/`))).map(([, v]) => decodeJson<IpGroup>(v));
    },
    getGroup: (operatorId: string, name: string) => getJson<IpGroup>(`edgecfg/${operatorId}/ipg/${name}`),
    /** Creates (mode 'create': CONFLICT if it exists) or replaces (mode 'replace': NOT_FOUND if missing). */
    async putGroup(operatorId: string, name: unknown, prefixes: unknown, mode: 'create' | 'replace'): Promise<IpGroup> {
      const group = validateGroup(name, prefixes);
      const exists = (await kv.get(`edgecfg/${operatorId}/ipg/${group.name}`)) !== undefined;
      if (mode === 'create' && exists) throw hubError('CONFLICT', `IP group ${group.name} exists`);
      if (mode === 'replace' && !exists) throw hubError('NOT_FOUND', `no IP group ${group.name}`);
      await kv.write([{ type: 'put', key: `edgecfg/${operatorId}/ipg/${group.name}`, value: encodeJson(group) }]);
      return group;
    },
    /** extraOps: written in the same atomic write (hub/edges/subject-management.ts: the unmanaged group's bill). */
    async deleteGroup(operatorId: string, name: string, extraOps?: () => Promise<KvOp[]>): Promise<void> {
      if (!(await kv.get(`edgecfg/${operatorId}/ipg/${name}`))) throw hubError('NOT_FOUND', `no IP group ${name}`);
      await kv.write([{ type: 'del', key: `edgecfg/${operatorId}/ipg/${name}` }, ...((await extraOps?.()) ?? [])]);
    },
    async getSelection(operatorId: string): Promise<InterfaceSelection> {
      return (await getJson<InterfaceSelection>(`edgecfg/${operatorId}/ifsel`)) ?? DEFAULT_SELECTION;
    },
    /**
     * Validates and stores the selection. extraOps(before, after) returns operations written in the
     * same atomic write (hub/edges/subject-management.ts: bills of the interfaces it deselects).
     */
    async putSelection(operatorId: string, body: Record<string, unknown>, extraOps?: (before: InterfaceSelection, after: InterfaceSelection) => Promise<KvOp[]>): Promise<InterfaceSelection> {
      const { allInterfaces, interfaces } = body;
      if (typeof allInterfaces !== 'boolean') throw hubError('VALIDATION_FAILED', 'allInterfaces: true or false');
      const list = interfaces ?? [];
      if (!Array.isArray(list) || list.length > MAX_PREFIXES) throw hubError('VALIDATION_FAILED', 'interfaces: a list of {exporter, ifIndex}');
      const seen = new Set<string>();
      const refs: InterfaceRef[] = [];
      for (const item of list as { exporter?: unknown; ifIndex?: unknown }[]) {
        const exporter = typeof item?.exporter === 'string' ? item.exporter.trim() : '';
        const ifIndex = item?.ifIndex;
        if (!canonicalOk(exporter)) throw hubError('VALIDATION_FAILED', `interfaces: exporter ${JSON.stringify(item?.exporter)} is not an IP address`);
        if (typeof ifIndex !== 'number' || !Number.isInteger(ifIndex) || ifIndex < 0 || ifIndex > 0xffffffff) throw hubError('VALIDATION_FAILED', 'interfaces: ifIndex is an integer from 0 to 2^32-1');
        const key = `${exporter}/${ifIndex}`;
        if (!seen.has(key)) { seen.add(key); refs.push({ exporter, ifIndex }); }
      }
      const selection: InterfaceSelection = { allInterfaces, interfaces: refs };
      const more = extraOps ? await extraOps((await getJson<InterfaceSelection>(`edgecfg/${operatorId}/ifsel`)) ?? DEFAULT_SELECTION, selection) : [];
      await kv.write([{ type: 'put', key: `edgecfg/${operatorId}/ifsel`, value: encodeJson(selection) }, ...more]);
      return selection;
    },
    getLastConfig: (operatorId: string) => getJson<EdgeConfig>(`edgecfg/${operatorId}/last`),
    async putLastConfig(operatorId: string, config: EdgeConfig): Promise<void> {
      await kv.write([{ type: 'put', key: `edgecfg/${operatorId}/last`, value: encodeJson(config) }]);
    },
  };
}

/**
 * Exporter addresses are written as the edge sees them: any single address, an IPv6 link-local one
 * with the %zone the edge's socket reported (an exporter address is not an IP group entry).
 */
function canonicalOk(exporter: string): boolean {
  const zone = exporter.includes(':') ? exporter.indexOf('%') : -1;
  return exporter !== '' && parseIpAddress(zone < 0 ? exporter : exporter.slice(0, zone)).ok;
}

export type CollectionConfigStore = ReturnType<typeof createCollectionConfigStore>;
