// HTTP login limits on a manual clock: auth-lockout.ts's escalation and separate address threshold,
// and login-throttle.ts's several-keys attempts and serialization. The real-hub stories are in
// test/security/brute-force.test.ts.
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { createAuthLockout } from '../../../hub/security/auth-lockout';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from '../../../hub/security/login-throttle';
import { captureWarnings } from '../../helpers/capture-logger';

const MIN = 60_000;

t.test('lockout escalation: each lock right after the last is twice as long, up to the maximum; quiet or success starts over', async (t) => {
  const clock = createManualClock(0);
  const lock = createAuthLockout({ maxFailures: 3, failureWindowMs: 10 * MIN, lockoutMs: 5 * MIN, backoffFactor: 2, maxLockoutMs: 30 * MIN, maxTrackedKeys: 100 }, clock);
  const lockFor = (address: string) => {
    let out: { scope: string; untilMs: number }[] = [];
    for (let i = 0; i < 3; i++) out = lock.recordFailure('joe', address);
    return out.filter((l) => l.scope === 'username').map((l) => (l.untilMs - clock.nowMs()) / MIN);
  };
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    const [minutes] = lockFor(`192.0.2.${i}`); // three failures from a fresh address: only the name locks
    durations.push(minutes);
    clock.advanceMs(minutes * MIN); // wait the lock out, then fail again at once
  }
  t.same(durations, [5, 10, 20, 30, 30]);
  clock.advanceMs(30 * MIN); // quiet for the longest lock
  t.same(lockFor('192.0.2.9'), [5], 'starts over');
  clock.advanceMs(5 * MIN);
  lock.recordSuccess('joe', '192.0.2.9');
  t.same(lockFor('192.0.2.10'), [5], 'a success starts over too');
});

t.test('lockout: the address threshold is its own; one attempt over several names counts the address once', async (t) => {
  const clock = createManualClock(0);
  const lock = createAuthLockout({ maxFailures: 3, maxAddressFailures: 6, failureWindowMs: MIN, lockoutMs: MIN, maxTrackedKeys: 100 }, clock);
  t.same(lock.recordFailure(['op:a/joe', 'op:b/joe'], '192.0.2.1'), []);
  t.same(lock.recordFailure(['op:a/joe', 'op:b/joe'], '192.0.2.1'), []);
  t.same(lock.recordFailure(['op:a/joe', 'op:b/joe'], '192.0.2.1').map((l) => l.key), ['op:a/joe', 'op:b/joe'], 'each name tried counts');
  for (let i = 0; i < 2; i++) t.same(lock.recordFailure(`x${i}`, '192.0.2.1'), []);
  t.same(lock.recordFailure('x9', '192.0.2.1').map((l) => l.scope), ['address'], 'the 6th failure from the address, not the 9th name-failure');
});

t.test('throttle: a name held in several tenants, one of them locked, leaves the others open', async (t) => {
  const clock = createManualClock(0);
  const { log, warnings } = captureWarnings();
  const th = createLoginThrottle({ rules: { ...DEFAULT_LOGIN_THROTTLE_RULES, maxFailuresPerUsername: 2 }, clock, log });
  th.failed(['op:b/joe'], '203.0.113.9');
  th.failed(['op:b/joe'], '203.0.113.9');
  t.same(th.admit(['op:a/joe', 'op:b/joe'], '192.0.2.1'), { ok: true, open: ['op:a/joe'] }, "B's lock does not lock A's joe out");
  t.match(th.admit(['op:b/joe'], '192.0.2.1'), { ok: false, scope: 'username', untilMs: DEFAULT_LOGIN_THROTTLE_RULES.lockoutMs });
  t.equal(warnings.length, 1);
  t.match(warnings[0].obj, { scope: 'username', username: 'op:b/joe', address: '203.0.113.9' });
  t.match(th.counters(), { loginFailures: 2, loginLockouts: 1, loginRefusedLocked: 1, loginLockedNow: 1 });
});

t.test('throttle: attempts sharing a name or an address run one at a time; others in parallel', async (t) => {
  const th = createLoginThrottle({ rules: DEFAULT_LOGIN_THROTTLE_RULES, clock: createManualClock(0), log: silentLogger });
  const events: string[] = [];
  const gate = () => { let open!: () => void; const p = new Promise<void>((r) => { open = r; }); return { p, open }; };
  const g1 = gate();
  const first = th.exclusive(['op:a/joe'], '192.0.2.1', async () => { events.push('1 start'); await g1.p; events.push('1 end'); });
  const sameName = th.exclusive(['op:a/joe', 'op:b/joe'], '198.51.100.1', async () => { events.push('2'); });
  const sameAddress = th.exclusive(['op:a/kim'], '192.0.2.1', async () => { events.push('3'); });
  await th.exclusive(['op:c/lee'], '198.51.100.7', async () => { events.push('unrelated'); });
  t.same(events, ['1 start', 'unrelated'], 'an unrelated attempt does not wait; the same name, or the same address, does');
  g1.open();
  await Promise.all([first, sameName, sameAddress]);
  t.equal(events[2], '1 end');
  t.same(events.slice(3).sort(), ['2', '3']);
});
