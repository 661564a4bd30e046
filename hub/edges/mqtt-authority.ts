import { timingSafeEqual } from 'node:crypto';
import { hashPassword, randomSecret, verifyPassword } from '../identity/password-hash';
import type { MqttIdentity } from './mqtt-acl';

/**
 * MqttAuthority: who may connect to the embedded broker. Resolves CONNECT credentials to an
 * identity (the ACL rules in mqtt-acl.ts then decide per topic), or undefined to refuse.
 * Must never throw for bad input: a refusal is `undefined`. Lockout and rate limits are the
 * broker adapter's (it knows the remote address); this only answers "whose credentials are these".
 */
export interface MqttAuthority {
  authenticate(username: string | undefined, password: string | undefined): Promise<MqttIdentity | undefined>;
}

/** The hub's own client: a fixed username and a random secret made fresh by every hub process. */
export const HUB_MQTT_USERNAME = 'flowbill-hub';

/**
 * Every refused attempt costs about one scrypt verification, whatever the username. verifyMqtt
 * (edge-registry.ts) answers at once for an unknown, malformed or revoked username (~2 ms) but runs
 * scrypt for a known one (~37 ms on a fast core), which told an attacker which usernames exist.
 * verifyMqtt does not say whether it checked a password, so: when it refuses faster than half a
 * scrypt, it cannot have run one, and a verification against a dummy hash of the same kind (scrypt,
 * same parameters, hub/identity/password-hash.ts) runs before the answer. A known username with a wrong
 * password costs one scrypt, never two. (Running the dummy in parallel instead doubles the CPU of
 * every known-username attempt and, with few cores, makes those the slower ones.) If verifyMqtt
 * ever verifies against a dummy hash itself, this check simply never fires.
 * The scrypt duration is measured when the dummy hash is made and follows each dummy verification.
 */
export function createMqttAuthority(deps: {
  verifyMqtt(username: string, password: string): Promise<MqttIdentity | undefined>;
  hubSecret: string;
}): MqttAuthority {
  const hubSecret = Buffer.from(deps.hubSecret);
  let scryptMs = 0;
  const dummyHash = (async () => {
    const t0 = performance.now();
    const hash = await hashPassword(randomSecret());
    scryptMs = performance.now() - t0;
    return hash;
  })();
  async function dummyVerify(password: string): Promise<void> {
    const hash = await dummyHash;
    const t0 = performance.now();
    await verifyPassword(password, hash).catch(() => false);
    scryptMs = 0.8 * scryptMs + 0.2 * (performance.now() - t0);
  }
  return {
    async authenticate(username, password) {
      if (username === undefined || password === undefined) {
        await dummyVerify(password ?? '');
        return undefined;
      }
      if (username === HUB_MQTT_USERNAME) {
        const given = Buffer.from(password);
        return given.length === hubSecret.length && timingSafeEqual(given, hubSecret) ? { kind: 'hub' } : undefined;
      }
      await dummyHash; // scryptMs is known from here on
      const t0 = performance.now();
      const who = await deps.verifyMqtt(username, password).catch(() => undefined);
      if (!who && performance.now() - t0 < scryptMs / 2) await dummyVerify(password);
      return who;
    },
  };
}
