import ipaddr from 'ipaddr.js';
import type { Clock } from '../../common/clock';

export interface AuthLockoutRules {
  /** This many failed logins within failureWindowMs lock the username (and the address, unless maxAddressFailures says otherwise). */
  maxFailures: number;
  /** Failures from one address that lock it (default maxFailures). Higher for HTTP: one NAT'd office is one address. */
  maxAddressFailures?: number;
  failureWindowMs: number;
  /** How long a (first) lock lasts. */
  lockoutMs: number;
  /**
   * Escalation (default 1: every lock lasts lockoutMs): a key locked again less than maxLockoutMs after its
   * previous lock ended is locked backoffFactor times longer than the previous time, up to maxLockoutMs.
   */
  backoffFactor?: number;
  /** Longest lock (default lockoutMs); also how long a key must stay quiet for its escalation to restart. */
  maxLockoutMs?: number;
  /** Bound on remembered usernames, addresses and known-good pairs (oldest forgotten first). */
  maxTrackedKeys: number;
}

export type LockScope = 'username' | 'address';
export type LockCheck = { locked: false } | { locked: true; scope: LockScope; untilMs: number };

/** level: how many times the key was locked in a row (escalation); lockMs: how long its last lock lasted. */
interface Entry { failuresMs: number[]; lockedUntilMs: number; level: number; lockMs: number }

/**
 * The address a lock applies to: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64,
 * since one IPv6 host commonly holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${(ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
}

/**
 * Failed-login counting with temporary lockout, per username and per remote address. Pure: time
 * comes from the Clock. Unknown usernames are counted exactly like known ones (a lock reveals
 * nothing about whether the username exists).
 *
 * - maxFailures failures within failureWindowMs lock the username for lockoutMs, from every
 *   address; the same count from one address locks that address for every username.
 * - While locked, attempts are refused without checking the password (and not counted again).
 * - A (username, address) pair that logged in successfully before is exempt from both locks, so a
 *   tenant's consumer that knows an edge's username (it is in the topics) or a misconfigured client
 *   behind the same NAT cannot lock a working edge out. The exemption ends after maxFailures failures
 *   of that pair, so it is not a way around the limit.
 * - A success clears the username's failures (not the address's: an attacker holding one valid
 *   credential must not reset its address counter by logging in with it). It also restarts the
 *   username's escalation.
 * - With backoffFactor > 1, a key that keeps failing is locked longer each time (lockoutMs, x factor,
 *   ... up to maxLockoutMs), so a slow attacker who waits out each lock gets fewer and fewer tries.
 */
export function createAuthLockout(rules: AuthLockoutRules, clock: Clock) {
  const maxAddressFailures = rules.maxAddressFailures ?? rules.maxFailures;
  const backoffFactor = rules.backoffFactor ?? 1;
  const maxLockoutMs = Math.max(rules.maxLockoutMs ?? rules.lockoutMs, rules.lockoutMs);
  const entries = new Map<string, Entry>(); // 'u:<username>' | 'a:<address key>'
  const goodPairs = new Map<string, number>(); // '<username>\n<address key>' -> failures since the last success

  // An entry is worth keeping while it is locked, has recent failures, or could still escalate.
  const escalationMs = backoffFactor > 1 ? maxLockoutMs : 0;
  const live = (e: Entry, nowMs: number) => e.lockedUntilMs + escalationMs > nowMs || e.failuresMs.some((t) => t > nowMs - rules.failureWindowMs);
  function makeRoom<V>(map: Map<string, V>, isLive?: (v: V) => boolean): void {
    if (map.size < rules.maxTrackedKeys) return;
    if (isLive) for (const [k, v] of map) if (!isLive(v)) map.delete(k);
    while (map.size >= rules.maxTrackedKeys) map.delete(map.keys().next().value as string);
  }
  const lockedUntil = (key: string, nowMs: number) => {
    const e = entries.get(key);
    return e && e.lockedUntilMs > nowMs ? e.lockedUntilMs : undefined;
  };

  /** Counts a failure on one key; the end of the lock when this failure locked it. */
  function fail(key: string, maxFailures: number, nowMs: number): number | undefined {
    let e = entries.get(key);
    if (!e) {
      makeRoom(entries, (v) => live(v, nowMs));
      e = { failuresMs: [], lockedUntilMs: 0, level: 0, lockMs: 0 };
      entries.set(key, e);
    }
    if (e.lockedUntilMs > nowMs) return undefined;
    e.failuresMs = e.failuresMs.filter((t) => t > nowMs - rules.failureWindowMs);
    e.failuresMs.push(nowMs);
    if (e.failuresMs.length < maxFailures) return undefined;
    e.failuresMs = [];
    const again = e.level > 0 && nowMs - e.lockedUntilMs < maxLockoutMs;
    e.level = again ? e.level + 1 : 1;
    e.lockMs = again ? Math.min(e.lockMs * backoffFactor, maxLockoutMs) : rules.lockoutMs;
    e.lockedUntilMs = nowMs + e.lockMs;
    return e.lockedUntilMs;
  }

  return {
    /** Whether this attempt must be refused before its password is even checked. */
    check(username: string, address: string): LockCheck {
      const nowMs = clock.nowMs();
      const addr = addressKey(address);
      if (goodPairs.has(`${username}\n${addr}`)) return { locked: false };
      const byAddress = lockedUntil(`a:${addr}`, nowMs);
      if (byAddress !== undefined) return { locked: true, scope: 'address', untilMs: byAddress };
      const byUser = lockedUntil(`u:${username}`, nowMs);
      if (byUser !== undefined) return { locked: true, scope: 'username', untilMs: byUser };
      return { locked: false };
    },

    /**
     * A failed login; returns the scopes this failure locked (each lock is reported once). Several
     * usernames: one attempt checked the password of each (e.g. one login name in several tenants);
     * each counts a failure, the address counts one.
     */
    recordFailure(username: string | readonly string[], address: string): { scope: LockScope; key: string; untilMs: number }[] {
      const nowMs = clock.nowMs();
      const addr = addressKey(address);
      const locked: { scope: LockScope; key: string; untilMs: number }[] = [];
      for (const name of typeof username === 'string' ? [username] : username) {
        const pair = `${name}\n${addr}`;
        const pairFailures = goodPairs.get(pair);
        if (pairFailures !== undefined) {
          if (pairFailures + 1 >= rules.maxFailures) goodPairs.delete(pair);
          else goodPairs.set(pair, pairFailures + 1);
        }
        const untilMs = fail(`u:${name}`, rules.maxFailures, nowMs);
        if (untilMs !== undefined) locked.push({ scope: 'username', key: name, untilMs });
      }
      const untilMs = fail(`a:${addr}`, maxAddressFailures, nowMs);
      if (untilMs !== undefined) locked.push({ scope: 'address', key: addr, untilMs });
      return locked;
    },

    recordSuccess(username: string, address: string): void {
      const pair = `${username}\n${addressKey(address)}`;
      const e = entries.get(`u:${username}`);
      if (e) { e.failuresMs = []; e.level = 0; }
      goodPairs.delete(pair); // re-insert: most recently used last, evicted last
      makeRoom(goodPairs);
      goodPairs.set(pair, 0);
    },

    /** Usernames and addresses locked right now (for health counters). */
    lockedCount(): number {
      const nowMs = clock.nowMs();
      let n = 0;
      for (const e of entries.values()) if (e.lockedUntilMs > nowMs) n++;
      return n;
    },
  };
}

export type AuthLockout = ReturnType<typeof createAuthLockout>;
