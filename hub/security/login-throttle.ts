import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { addressKey, createAuthLockout } from './auth-lockout';

export interface LoginThrottleRules {
  /** Failed logins of one login name (within its namespace) that lock it, from every address... */
  maxFailuresPerUsername: number;
  /** ...and failed logins from one address (IPv4, or IPv6 /64) that lock it, for every name. */
  maxFailuresPerAddress: number;
  /** Failures count within this window. */
  failureWindowMs: number;
  /** The first lock lasts this long; each further one twice as long as the one before... */
  lockoutMs: number;
  /** ...up to this (and a key quiet this long after its lock starts over at lockoutMs). */
  maxLockoutMs: number;
  /** Bound on remembered names and addresses. */
  maxTrackedKeys: number;
}

/**
 * Defaults: a person mistyping is not locked out, a guesser gets 8 tries per name per 15 minutes,
 * then 5, 10, 20, 40 and 60 minutes of nothing. One address may fail 50 times (a NAT'd office's
 * whole staff, or a customer base behind carrier-grade NAT), and a name that logged in from an
 * address before keeps working from there (auth-lockout.ts's known-good pairs).
 */
export const DEFAULT_LOGIN_THROTTLE_RULES: Readonly<LoginThrottleRules> = {
  maxFailuresPerUsername: 8, maxFailuresPerAddress: 50, failureWindowMs: 15 * 60_000,
  lockoutMs: 5 * 60_000, maxLockoutMs: 60 * 60_000, maxTrackedKeys: 50_000,
};

export type Admission = { ok: true; open: string[] } | { ok: false; scope: 'username' | 'address'; untilMs: number };

const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…` : s);

/**
 * Brute-force limits of HTTP logins: createAuthLockout's counting per login key and per address,
 * with escalating locks, a counter per outcome and one log line per lockout.
 *
 * A login key names one account's name in its namespace ("op:isp1/joe", "platform/admin"), or a name
 * nobody holds (namespace "*"), which is counted exactly the same way: a lock reveals nothing. One attempt
 * may try several keys (a name held in several tenants, login without organization): admit() says
 * which of them may be tried now, failed() counts a failure on each key tried and one on the address.
 */
export function createLoginThrottle(deps: { rules: LoginThrottleRules; clock: Clock; log: Logger }) {
  const { rules, clock, log } = deps;
  const lockout = createAuthLockout({
    maxFailures: rules.maxFailuresPerUsername, maxAddressFailures: rules.maxFailuresPerAddress,
    failureWindowMs: rules.failureWindowMs, lockoutMs: rules.lockoutMs, backoffFactor: 2, maxLockoutMs: rules.maxLockoutMs,
    maxTrackedKeys: rules.maxTrackedKeys,
  }, clock);
  const counters = { loginFailures: 0, loginLockouts: 0, loginRefusedLocked: 0, loginAmbiguous: 0 };
  const tails = new Map<string, Promise<void>>();

  return {
    /**
     * Runs one attempt (admit, check the password, count) alone among attempts sharing a key or the
     * address. Without this, N concurrent attempts would all be admitted before the first failure is
     * counted: a guesser firing 1,000 requests at once would get 1,000 guesses instead of maxFailures.
     * Locks are taken in sorted order, so attempts over overlapping key sets cannot deadlock.
     */
    async exclusive<T>(keys: readonly string[], address: string, fn: () => Promise<T>): Promise<T> {
      const releases: (() => void)[] = [];
      try {
        for (const k of [...new Set([...keys.map((key) => `u:${key}`), `a:${addressKey(address)}`])].sort()) {
          const prev = tails.get(k) ?? Promise.resolve();
          let release!: () => void;
          const mine = new Promise<void>((resolve) => { release = resolve; });
          const tail = prev.then(() => mine);
          tails.set(k, tail);
          releases.push(() => { release(); if (tails.get(k) === tail) tails.delete(k); });
          await prev;
        }
        return await fn();
      } finally {
        for (const release of releases) release();
      }
    },

    /**
     * The keys this attempt may try: those neither locked themselves nor from a locked address
     * (a key that logged in from this address before is exempt from both). None: the attempt is
     * refused without looking at its password, and counted.
     */
    admit(keys: readonly string[], address: string): Admission {
      const open: string[] = [];
      let refused: { scope: 'username' | 'address'; untilMs: number } | undefined;
      for (const key of keys) {
        const c = lockout.check(key, address);
        if (!c.locked) open.push(key);
        else if (!refused || c.untilMs < refused.untilMs) refused = { scope: c.scope, untilMs: c.untilMs };
      }
      if (open.length > 0 || !refused) return { ok: true, open };
      counters.loginRefusedLocked++;
      return { ok: false, ...refused };
    },

    /** A failed attempt that tried these keys; logs one line per lock it caused. */
    failed(keys: readonly string[], address: string): void {
      counters.loginFailures++;
      for (const locked of lockout.recordFailure(keys, address)) {
        counters.loginLockouts++;
        const username = locked.scope === 'username' ? locked.key : keys.join(',');
        log.warn({ scope: locked.scope, username: clip(username), address: locked.scope === 'address' ? locked.key : addressKey(address),
          untilMs: locked.untilMs, until: new Date(locked.untilMs).toISOString(), lockoutSec: Math.round((locked.untilMs - clock.nowMs()) / 1000) },
        `HTTP logins for this ${locked.scope} locked after repeated failures`);
      }
    },

    succeeded(key: string, address: string): void {
      lockout.recordSuccess(key, address);
    },

    /** Several accounts matched (login without organization): refused, counted, not a failure. */
    ambiguous(): void {
      counters.loginAmbiguous++;
    },

    counters(): Record<string, number> {
      return { ...counters, loginLockedNow: lockout.lockedCount() };
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
