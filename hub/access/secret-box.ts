import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * A customer's NetFlow password, encrypted at rest with AES-256-GCM.
 * It is encrypted (not hashed like operator passwords) because the operator must be able to put it
 * into the welcome e-mail and, when enabled, the client area.
 *
 * - NIST SP 800-38D §8.2: a 96-bit IV, fresh and random for every encryption under the same key;
 * - the 16-byte auth tag is stored and checked, so a tampered value fails instead of decrypting to junk;
 * - the associated data binds the ciphertext to its login, so a value copied onto another login fails.
 * The key is never logged and a SealedSecret never leaves the hub's API.
 */
export interface SealedSecret {
  /** Format version, so the scheme can change without guessing. */
  v: 1;
  ivB64: string;
  tagB64: string;
  ciphertextB64: string;
}

export interface SecretBox {
  seal(plaintext: string, associatedData: string): SealedSecret;
  /** Throws if the key, the associated data or the bytes do not match what was sealed. */
  open(sealed: SealedSecret, associatedData: string): string;
}

const IV_BYTES = 12;

export function createSecretBox(secretKeyHex: string): SecretBox {
  if (!/^[0-9a-fA-F]{64}$/.test(secretKeyHex)) throw new Error('secret key: expected 64 hex characters (32 bytes)');
  const key = Buffer.from(secretKeyHex, 'hex');
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { v: 1, ivB64: iv.toString('base64'), tagB64: cipher.getAuthTag().toString('base64'), ciphertextB64: ciphertext.toString('base64') };
    },
    open(sealed, associatedData) {
      if (sealed.v !== 1) throw new Error(`sealed secret: unknown version ${String(sealed.v)}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.ivB64, 'base64'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tagB64, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertextB64, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
