import { createCipheriv, randomBytes } from 'node:crypto';
import type { SealedSecretV1 } from '../../hub/access/secret-box';

/** A customer password as versions before key ids stored it (SealedSecret v1, no kid). */
export function sealV1(keyHex: string, plaintext: string, associatedData: string): SealedSecretV1 {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { v: 1, ivB64: iv.toString('base64'), tagB64: cipher.getAuthTag().toString('base64'), ciphertextB64: ciphertext.toString('base64') };
}
