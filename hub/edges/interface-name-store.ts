import type { KeyValueStore } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { cleanInterfaceName, INTERFACE_NAME_MAX } from '../../common/interface-name';
import { parseIpAddress } from '../../common/ip-prefix';
import { hubError } from '../errors';

/** Names one operator may give; far above any real network's interfaces, a bound on what a form can store. */
export const MAX_OPERATOR_INTERFACE_NAMES = 50_000;

export interface OperatorInterfaceName { exporter: string; ifIndex: number; name: string }

/**
 * The names an operator gives interfaces, per (operator, exporter, ifIndex): shown instead of the
 * exporter's ifName/ifDescr. Key: ifname/<op>/<exporter>/<ifIndex>.
 */
export function createInterfaceNameStore(kv: KeyValueStore) {
  const keyOf = (operatorId: string, exporter: string, ifIndex: number) => `ifname/${operatorId}/${exporter}/${ifIndex}`;
  return {
    async list(operatorId: string): Promise<OperatorInterfaceName[]> {
      return (await collect(kv, prefixRange(`ifname/${operatorId}/`))).map(([, v]) => decodeJson<OperatorInterfaceName>(v));
    },
    /** Validates and stores; an empty name removes the operator's name (the exporter's shows again). */
    async put(operatorId: string, body: Record<string, unknown>): Promise<OperatorInterfaceName> {
      const exporter = typeof body.exporter === 'string' ? body.exporter.trim() : '';
      if (!isExporterAddress(exporter)) throw hubError('VALIDATION_FAILED', `exporter: ${JSON.stringify(body.exporter)} is not an IP address`);
      const { ifIndex, name } = body;
      if (typeof ifIndex !== 'number' || !Number.isInteger(ifIndex) || ifIndex < 0 || ifIndex > 0xffffffff) throw hubError('VALIDATION_FAILED', 'ifIndex: an integer from 0 to 2^32-1');
      if (typeof name !== 'string') throw hubError('VALIDATION_FAILED', 'name: a text (empty to remove it)');
      const clean = cleanInterfaceName(name);
      if (clean !== name.trim().replace(/\s+/gu, ' ') || [...name.trim()].length > INTERFACE_NAME_MAX) {
        throw hubError('VALIDATION_FAILED', `name: at most ${INTERFACE_NAME_MAX} printable characters`);
      }
      const key = keyOf(operatorId, exporter, ifIndex);
      if (clean === '') {
        await kv.write([{ type: 'del', key }]);
      } else {
        if ((await kv.get(key)) === undefined && (await collect(kv, prefixRange(`ifname/${operatorId}/`))).length >= MAX_OPERATOR_INTERFACE_NAMES) {
          throw hubError('VALIDATION_FAILED', `at most ${MAX_OPERATOR_INTERFACE_NAMES} interface names per operator`);
        }
        await kv.write([{ type: 'put', key, value: encodeJson({ exporter, ifIndex, name: clean } satisfies OperatorInterfaceName) }]);
      }
      return { exporter, ifIndex, name: clean };
    },
  };
}

/** As the edge's socket reports it: one address, IPv6 link-local with its %zone (collection-config-store.ts). */
function isExporterAddress(exporter: string): boolean {
  const zone = exporter.includes(':') ? exporter.indexOf('%') : -1;
  return exporter !== '' && parseIpAddress(zone < 0 ? exporter : exporter.slice(0, zone)).ok;
}

export type InterfaceNameStore = ReturnType<typeof createInterfaceNameStore>;
