import { createHash, timingSafeEqual } from 'node:crypto';
import { createOnceLogger, type Logger } from '../../common/logger';
import { createDummyPasswordCheck } from '../identity/dummy-password';
import type { CustomerLoginVerifier } from '../ports-customer';
import type { AccessRepository } from './access-repository';

/**
 * Customers log in with the username/password of their access records. A login works only while it
 * has a stored password and at least one ENABLED record; it lives in one tenant (operatorId), so a
 * customer session is always bound to that tenant.
 *
 * Equal cost: a customer's password is sealed (AES-GCM, it is shown in the client area), not hashed,
 * so checking it takes microseconds where an operator user's scrypt takes tens of milliseconds. Every
 * call therefore also runs one dummy scrypt verification (dummy-password.ts), known login or not, with
 * or without a stored password: timing does not tell customers, operator users and unknown names apart.
 */
export function createCustomerLoginVerifier(deps: { repo: AccessRepository; log: Logger }): CustomerLoginVerifier {
  const once = createOnceLogger(deps.log);
  const dummyCheck = createDummyPasswordCheck();
  // Compare digests so the comparison takes the same time whatever the lengths.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

  async function check(operatorId: string, username: string, password: string) {
    const login = await deps.repo.getLogin(operatorId, username);
    if (!login?.password) return undefined;
    let stored: string | undefined;
    try {
      stored = await deps.repo.revealPassword(operatorId, username);
    } catch (err) {
      // Wrong FLOWBILL_SECRET_KEY or a damaged value: refuse the login and say so once (never the key or the value).
      once.warnOnce(`unseal:${operatorId}`, { operatorId, error: (err as Error).message }, 'cannot decrypt a stored customer password; was its key (FLOWBILL_SECRET_KEY, FLOWBILL_SECRET_KEYS_RETIRED or <data>/secret-keys.json) removed?');
      return undefined;
    }
    if (stored === undefined || !timingSafeEqual(digest(stored), digest(password))) return undefined;
    const records = await deps.repo.recordsOfLogin(operatorId, username);
    if (!records.some((r) => r.enabled)) return undefined;
    return { operatorId, customerLogin: username };
  }

  return {
    async verify(operatorId, username, password) {
      const [who] = await Promise.all([check(operatorId, username, password), dummyCheck(password)]);
      return who;
    },
  };
}
