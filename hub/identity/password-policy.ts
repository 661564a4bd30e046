import { hubError } from '../errors';
import { randomSecret } from './password-hash';

/**
 * Rules for passwords people choose (a forced change, "change my password") and for the ones the hub
 * generates (first super_admin, a reset). Existing shorter passwords keep working: the rule applies
 * when a password is set, not when one is checked.
 */

/** NIST SP 800-63B §5.1.1.2 asks for at least 8; 12 leaves room against offline guessing of a leaked hash. */
export const MIN_NEW_PASSWORD_CHARS = 12;
/** scrypt hashes whatever it is given; a cap keeps a megabyte "password" from costing a request anything. */
export const MAX_PASSWORD_CHARS = 1024;

/** Throws VALIDATION_FAILED unless `next` may replace `current` (long enough, not too long, not the same). */
export function assertNewPassword(next: unknown, current?: string): asserts next is string {
  if (typeof next !== 'string') throw hubError('BAD_REQUEST', 'newPassword is required');
  if (next.length < MIN_NEW_PASSWORD_CHARS) throw hubError('VALIDATION_FAILED', `the new password needs at least ${MIN_NEW_PASSWORD_CHARS} characters`);
  if (next.length > MAX_PASSWORD_CHARS) throw hubError('VALIDATION_FAILED', `the new password may have at most ${MAX_PASSWORD_CHARS} characters`);
  if (current !== undefined && next === current) throw hubError('VALIDATION_FAILED', 'the new password must differ from the current one');
}

/** A one-time password: 15 random bytes (120 bits) as 20 base64url characters, shown once, stored only hashed. */
export function oneTimePassword(): string {
  return randomSecret(15);
}
