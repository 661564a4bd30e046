import { timingSafeEqual } from 'node:crypto';
import type { MqttIdentity } from './mqtt-acl';

/**
 * MqttAuthority: who may connect to the embedded broker. Resolves CONNECT credentials to an
 * identity (the ACL rules in mqtt-acl.ts then decide per topic), or undefined to refuse.
 * Must never throw for bad input: a refusal is `undefined`.
 */
export interface MqttAuthority {
  authenticate(username: string | undefined, password: string | undefined): Promise<MqttIdentity | undefined>;
}

/** The hub's own client: a fixed username and a random secret made fresh by every hub process. */
export const HUB_MQTT_USERNAME = 'flowbill-hub';

export function createMqttAuthority(deps: {
  verifyMqtt(username: string, password: string): Promise<MqttIdentity | undefined>;
  hubSecret: string;
}): MqttAuthority {
  const hubSecret = Buffer.from(deps.hubSecret);
  return {
    async authenticate(username, password) {
      if (!username || password === undefined) return undefined;
      if (username === HUB_MQTT_USERNAME) {
        const given = Buffer.from(password);
        return given.length === hubSecret.length && timingSafeEqual(given, hubSecret) ? { kind: 'hub' } : undefined;
      }
      try {
        return await deps.verifyMqtt(username, password);
      } catch {
        return undefined;
      }
    },
  };
}
