import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * The hub's secret keys (AES-256) for values encrypted at rest: one current key that seals, older
 * (retired) keys kept only to open what was sealed before a rotation. Pure: no files, no environment
 * (hub/security/key-ring-file.ts and hub/config.ts supply the keys).
 *
 * A key is named by its key id (kid): the first 16 hex digits of SHA-256("flowbill/secret-key-id/v1\0" ‖ key).
 * The kid is stored beside each sealed value to pick the key; being a truncated hash of a 256-bit random
 * key it reveals nothing about the key, and the label keeps it from matching any other hash of the key.
 */
export interface SecretKey {
  readonly kid: string;
  /** 32 bytes. Never log it: toJSON and util.inspect show only the kid. */
  readonly key: Buffer;
}

export interface KeyRing {
  readonly current: SecretKey;
  /** Keys that only open, newest first; never the current key, never a duplicate. */
  readonly retired: readonly SecretKey[];
  /** The current or a retired key with this kid. */
  byKid(kid: string): SecretKey | undefined;
}

export const SECRET_KEY_BYTES = 32;
const KID_LABEL = Buffer.from('flowbill/secret-key-id/v1\0', 'utf8');

/**
 * The key every install before issue 9 used when FLOWBILL_SECRET_KEY was unset. It is public, so it
 * never seals and is refused as a configured key; secret-box.ts uses it only to migrate old v1 values.
 */
export const LEGACY_ZERO_KEY: SecretKey = secretKey(Buffer.alloc(SECRET_KEY_BYTES));

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(KID_LABEL).update(key).digest('hex').slice(0, 16);
}

function secretKey(key: Buffer): SecretKey {
  const kid = keyIdOf(key);
  const shown = { kid };
  return Object.freeze({ kid, key, toJSON: () => shown, [inspect.custom]: () => `SecretKey(${kid})` });
}

/** Checks a key written as 64 hex digits; `what` names its source (an env key, a file) in the error. */
export function parseSecretKeyHex(hex: string, what: string): SecretKey {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${what}: expected 64 hex characters (32 bytes)`);
  const key = Buffer.from(hex, 'hex');
  if (key.equals(LEGACY_ZERO_KEY.key)) throw new Error(`${what}: the all-zero key is public (the old default); generate one with: openssl rand -hex 32`);
  return secretKey(key);
}

/** A fresh random key as 64 hex digits. */
export function generateSecretKeyHex(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('hex');
}

export function createKeyRing(current: SecretKey, retired: readonly SecretKey[] = []): KeyRing {
  const byKid = new Map<string, SecretKey>([[current.kid, current]]);
  const kept: SecretKey[] = [];
  for (const k of retired) {
    if (byKid.has(k.kid)) continue;
    byKid.set(k.kid, k);
    kept.push(k);
  }
  return Object.freeze({
    current, retired: Object.freeze(kept),
    byKid: (kid: string) => byKid.get(kid),
    toJSON: () => ({ current: current.kid, retired: kept.map((k) => k.kid) }),
  });
}

/** A ring from hex keys (FLOWBILL_SECRET_KEY and FLOWBILL_SECRET_KEYS_RETIRED, or tests). */
export function keyRingFromHex(currentHex: string, retiredHex: readonly string[] = [], what = 'secret key'): KeyRing {
  return createKeyRing(parseSecretKeyHex(currentHex, what), retiredHex.map((h, i) => parseSecretKeyHex(h, `${what} (retired #${i + 1})`)));
}

/**
 * A random ring that lives as long as the process: for a hub created without keys (tests). Values it
 * seals cannot be opened after a restart, so createHub logs a warning when it falls back to it.
 */
export function createEphemeralKeyRing(): KeyRing {
  return keyRingFromHex(generateSecretKeyHex());
}
