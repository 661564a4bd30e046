/**
 * `npm run hub -- rotate-secret-key`: a new current key in <dataDir>/secret-keys.json, every stored
 * customer password re-sealed under it, then the retired keys dropped from the file once no stored
 * value names them. Run it with the hub stopped (LevelDB admits one process).
 *
 * Crash-safe by order: the file gains the new key before anything is re-sealed and loses the old ones
 * only after, so at every moment the file opens every stored value; a rotation cut short is finished by
 * the next start (the access module re-seals at start) or by running the command again.
 */
import type { KeyValueStore } from '../../common/kv/kv-store';
import { createAccessRepository, type ResealReport } from '../access/access-repository';
import { createSecretBox } from '../access/secret-box';
import { keyRingOfFile, newKeyFileEntry, readKeyFile, secretKeyFilePath, writeKeyFile, type KeyFile } from './key-ring-file';
import { parseSecretKeyHex } from './key-ring';

export interface RotationReport extends ResealReport {
  file: string;
  newKid: string;
  /** Retired keys removed from the file... */
  droppedKids: string[];
  /** ...and those kept because a stored value (one no key could open) still names them. */
  keptKids: string[];
}

export async function rotateSecretKeyFile(deps: {
  dataDir: string; secretKeyHex: string | undefined; retiredSecretKeysHex: readonly string[]; kv: KeyValueStore; nowMs: number;
}): Promise<RotationReport> {
  if (deps.secretKeyHex !== undefined) {
    throw new Error('FLOWBILL_SECRET_KEY is set, so the key is managed in the environment: set a new FLOWBILL_SECRET_KEY (openssl rand -hex 32), '
      + 'move the old one to FLOWBILL_SECRET_KEYS_RETIRED and restart the hub; it re-seals the stored values at start');
  }
  const file = secretKeyFilePath(deps.dataDir);
  const before = await readKeyFile(file);
  const { entry } = newKeyFileEntry(deps.nowMs);
  const rotated: KeyFile = { v: 1, currentKid: entry.kid, keys: [entry, ...(before?.keys ?? [])] };
  await writeKeyFile(file, rotated, before ? 'replace' : 'create');

  const envRetired = deps.retiredSecretKeysHex.map((h, i) => parseSecretKeyHex(h, `FLOWBILL_SECRET_KEYS_RETIRED (key #${i + 1})`));
  const ring = keyRingOfFile(rotated, envRetired);
  const repo = createAccessRepository({ kv: deps.kv, secrets: createSecretBox(ring) });
  const resealed = await repo.resealSecrets();

  const kept = rotated.keys.filter((k) => k.kid === entry.kid || resealed.kidsStillInUse.includes(k.kid));
  if (kept.length < rotated.keys.length) await writeKeyFile(file, { ...rotated, keys: kept }, 'replace');
  return {
    ...resealed, file, newKid: entry.kid,
    droppedKids: rotated.keys.filter((k) => !kept.includes(k)).map((k) => k.kid),
    keptKids: kept.filter((k) => k.kid !== entry.kid).map((k) => k.kid),
  };
}

/** What the command prints: counts and key ids, never a key or a password. */
export function describeRotation(r: RotationReport): string[] {
  const lines = [
    `new current secret key ${r.newKid} in ${r.file}`,
    `customer passwords: ${r.resealed} re-sealed, ${r.alreadyCurrent} already under the current key, ${r.unopenableUsernames.length} that no key opens`,
  ];
  if (r.legacyZeroKey > 0) lines.push(`warning: ${r.legacyZeroKey} of them were stored under the insecure all-zero default key of older versions; consider changing those passwords`);
  if (r.unopenableUsernames.length > 0) lines.push(`warning: no key opens the stored password of: ${r.unopenableUsernames.slice(0, 20).join(', ')}${r.unopenableUsernames.length > 20 ? ', …' : ''} (set a new password for them)`);
  lines.push(`retired keys dropped from the file: ${r.droppedKids.join(', ') || 'none'}`);
  if (r.keptKids.length > 0) lines.push(`retired keys kept (stored values still name them): ${r.keptKids.join(', ')}`);
  return lines;
}
