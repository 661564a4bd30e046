import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LEGACY_ZERO_KEY, type KeyRing, type SecretKey } from '../security/key-ring';

/**
 * A customer's NetFlow password, encrypted at rest with AES-256-GCM.
 * It is encrypted (not hashed like operator passwords) because the operator must be able to put it
 * into the welcome e-mail and, when enabled, the client area.
 *
 * - NIST SP 800-38D §8.2: a 96-bit IV, fresh and random for every encryption under the same key;
 * - the 16-byte auth tag is stored and checked, so a tampered value fails instead of decrypting to junk;
 * - the associated data binds the ciphertext to its login, so a value copied onto another login fails.
 * The key is never logged and a SealedSecret never leaves the hub's API.
 *
 * Format versions: v2 names its key by key id (hub/security/key-ring.ts), so keys can rotate.
 * v1 (before issue 9) has no key id: it was sealed with FLOWBILL_SECRET_KEY or, when that was unset,
 * the public all-zero key. It is still read, and re-sealed as v2 at start (AccessRepository.resealSecrets).
 */
export type SealedSecret = SealedSecretV1 | SealedSecretV2;

interface SealedFields {
  ivB64: string;
  tagB64: string;
  ciphertextB64: string;
}
export interface SealedSecretV1 extends SealedFields { v: 1 }
export interface SealedSecretV2 extends SealedFields { v: 2; kid: string }

export interface SecretBox {
  /** Seals under the ring's current key. */
  seal(plaintext: string, associatedData: string): SealedSecretV2;
  /**
   * Opens with the key the value names (v2) or any key of the ring (v1); never with the all-zero key.
   * Throws if no key, the associated data or the bytes do not match what was sealed.
   */
  open(sealed: SealedSecret, associatedData: string): string;
  /** True unless the value is v2 under the current key. */
  needsResealing(sealed: SealedSecret): boolean;
  /**
   * For re-sealing only: open() and, for a v1 value no ring key opens, the all-zero key of old installs
   * (`legacyZeroKey` then says so, for a warning). Throws like open() when nothing opens it.
   */
  openForResealing(sealed: SealedSecret, associatedData: string): { plaintext: string; legacyZeroKey: boolean };
}

const IV_BYTES = 12;

function gcmSeal(key: SecretKey, plaintext: string, associatedData: string): SealedFields {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ivB64: iv.toString('base64'), tagB64: cipher.getAuthTag().toString('base64'), ciphertextB64: ciphertext.toString('base64') };
}

function gcmOpen(key: SecretKey, sealed: SealedFields, associatedData: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.ivB64, 'base64'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(sealed.tagB64, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertextB64, 'base64')), decipher.final()]).toString('utf8');
}

/** The first key that opens it; GCM's tag tells a wrong key apart (2^-128 chance of a false match). */
function openWithAny(keys: readonly SecretKey[], sealed: SealedFields, associatedData: string): string | undefined {
  for (const key of keys) {
    try { return gcmOpen(key, sealed, associatedData); } catch { /* not this key */ }
  }
  return undefined;
}

export function createSecretBox(ring: KeyRing): SecretBox {
  const ringKeys = [ring.current, ...ring.retired];
  const box: SecretBox = {
    seal(plaintext, associatedData) {
      return { v: 2, kid: ring.current.kid, ...gcmSeal(ring.current, plaintext, associatedData) };
    },
    open(sealed, associatedData) {
      if (sealed.v === 2) {
        const key = ring.byKid(sealed.kid);
        if (!key) throw new Error(`sealed secret: key ${sealed.kid} is not in the key ring`);
        return gcmOpen(key, sealed, associatedData);
      }
      if (sealed.v === 1) {
        const plaintext = openWithAny(ringKeys, sealed, associatedData);
        if (plaintext === undefined) throw new Error('sealed secret (v1): no key of the key ring opens it');
        return plaintext;
      }
      throw new Error(`sealed secret: unknown version ${String((sealed as { v: unknown }).v)}`);
    },
    needsResealing(sealed) {
      return !(sealed.v === 2 && sealed.kid === ring.current.kid);
    },
    openForResealing(sealed, associatedData) {
      try {
        return { plaintext: box.open(sealed, associatedData), legacyZeroKey: false };
      } catch (err) {
        const legacy = sealed.v === 1 ? openWithAny([LEGACY_ZERO_KEY], sealed, associatedData) : undefined;
        if (legacy === undefined) throw err;
        return { plaintext: legacy, legacyZeroKey: true };
      }
    },
  };
  return box;
}
