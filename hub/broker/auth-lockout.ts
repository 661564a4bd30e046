import ipaddr from 'ipaddr.js';
import type { Clock } from '../../common/clock';

export interface AuthLockoutRules {
  /** This many failed logins within failureWindowMs lock the username (or the address). */
  maxFailures: number;
  failureWindowMs: number;
  /** How long a lock lasts. */
  lockoutMs: number;
  /** Bound on remembered usernames, addresses and known-good pairs (oldest forgotten first). */
  maxTrackedKeys: number;
}

export type LockScope = 'username' | 'address';
export type LockCheck = { locked: false } | { locked: true; scope: LockScope; untilMs: number };

interface Entry { failuresMs: number[]; lockedUntilMs: number }

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
 *   credential must not reset its address counter by logging in with it).
 */
export function createAuthLockout(rules: AuthLockoutRules, clock: Clock) {
  const entries = new Map<string, Entry>(); // 'u:<username>' | 'a:<address key>'
  const goodPairs = new Map<string, number>(); // '<username>\n<address key>' -> failures since the last success

  const live = (e: Entry, nowMs: number) => e.lockedUntilMs > nowMs || e.failuresMs.some((t) => t > nowMs - rules.failureWindowMs);
  function makeRoom<V>(map: Map<string, V>, isLive?: (v: V) => boolean): void {
    if (map.size < rules.maxTrackedKeys) return;
    if (isLive) for (const [k, v] of map) if (!isLive(v)) map.delete(k);
    while (map.size >= rules.maxTrackedKeys) map.delete(map.keys().next().value as string);
  }
  const lockedUntil = (key: string, nowMs: number) => {
    const e = entries.get(key);
    return e && e.lockedUntilMs > nowMs ? e.lockedUntilMs : undefined;
  };

  /** Counts a failure on one key; true when this failure locked it. */
  function fail(key: string, nowMs: number): boolean {
    let e = entries.get(key);
    if (!e) {
      makeRoom(entries, (v) => live(v, nowMs));
      e = { failuresMs: [], lockedUntilMs: 0 };
      entries.set(key, e);
    }
    if (e.lockedUntilMs > nowMs) return false;
    e.failuresMs = e.failuresMs.filter((t) => t > nowMs - rules.failureWindowMs);
    e.failuresMs.push(nowMs);
    if (e.failuresMs.length < rules.maxFailures) return false;
    e.failuresMs = [];
    e.lockedUntilMs = nowMs + rules.lockoutMs;
    return true;
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

    /** A failed login; returns the scopes this failure locked (each lock is reported once). */
    recordFailure(username: string, address: string): { scope: LockScope; key: string; untilMs: number }[] {
      const nowMs = clock.nowMs();
      const addr = addressKey(address);
      const pair = `${username}\n${addr}`;
      const pairFailures = goodPairs.get(pair);
      if (pairFailures !== undefined) {
        if (pairFailures + 1 >= rules.maxFailures) goodPairs.delete(pair);
        else goodPairs.set(pair, pairFailures + 1);
      }
      const locked: { scope: LockScope; key: string; untilMs: number }[] = [];
      if (fail(`u:${username}`, nowMs)) locked.push({ scope: 'username', key: username, untilMs: nowMs + rules.lockoutMs });
      if (fail(`a:${addr}`, nowMs)) locked.push({ scope: 'address', key: addr, untilMs: nowMs + rules.lockoutMs });
      return locked;
    },

    recordSuccess(username: string, address: string): void {
      const pair = `${username}\n${addressKey(address)}`;
      const e = entries.get(`u:${username}`);
      if (e) e.failuresMs = [];
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
