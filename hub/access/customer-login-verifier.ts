import { createHash, timingSafeEqual } from 'node:crypto';
import { createOnceLogger, type Logger } from '../../common/logger';
import type { CustomerLoginVerifier } from '../ports-customer';
import type { AccessRepository } from './access-repository';

/**
 * Customers log in with the username/password of their access records. A login works only while it
 * has a stored password and at least one ENABLED record; the operatorId comes from the login, so a
 * customer session is always bound to one tenant.
 */
export function createCustomerLoginVerifier(deps: { repo: AccessRepository; log: Logger }): CustomerLoginVerifier {
  const once = createOnceLogger(deps.log);
  // Compare digests so the comparison takes the same time whatever the lengths.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return {
    async verify(username, password) {
      const login = await deps.repo.getLogin(username);
      if (!login?.password) return undefined;
      let stored: string | undefined;
      try {
        stored = await deps.repo.revealPassword(username);
      } catch (err) {
        // Wrong FLOWBILL_SECRET_KEY or a damaged value: refuse the login and say so once (never the key or the value).
        once.warnOnce(`unseal:${login.operatorId}`, { operatorId: login.operatorId, error: (err as Error).message }, 'cannot decrypt a stored customer password; is FLOWBILL_SECRET_KEY the one it was stored with?');
        return undefined;
      }
      if (stored === undefined || !timingSafeEqual(digest(stored), digest(password))) return undefined;
      const records = await deps.repo.recordsOfLogin(login.operatorId, username);
      if (!records.some((r) => r.enabled)) return undefined;
      return { operatorId: login.operatorId, customerLogin: username };
    },
  };
}
