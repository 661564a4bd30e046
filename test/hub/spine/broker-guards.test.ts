// Pure parts of the broker hardening (issue 8): fixed-header scanning, lockout rules on a manual
// clock, client-id binding, rate-limited logging. The real-socket stories are in broker-hardening.test.ts.
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { silentLogger, type Logger } from '../../../common/logger';
import { addressKey, createAuthLockout } from '../../../hub/security/auth-lockout';
import { createFrameScanner } from '../../../hub/broker/mqtt-frame-scanner';
import { createRateLimitedLog } from '../../../common/rate-limited-log';
import { mayUseClientId, type MqttIdentity } from '../../../hub/edges/mqtt-acl';

/** MQTT 3.1.1 §2.2.3 variable byte integer. */
const vbi = (n: number) => { const out: number[] = []; do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b); } while (n > 0); return out; };

t.test('frame scanner: remaining lengths of 1-4 bytes, packets split anywhere, limit per packet index', async (t) => {
  t.same(vbi(127), [0x7f]);
  t.same(vbi(128), [0x80, 0x01]);
  t.same(vbi(268_435_455), [0xff, 0xff, 0xff, 0x7f], 'the spec maximum');
  const limits: number[] = [];
  const scanner = createFrameScanner((i) => { limits.push(i); return i === 0 ? 100 : 20_000; });
  const connect = [0x10, ...vbi(90), ...new Array(90).fill(0)];
  const publish = [0x30, ...vbi(16_384), ...new Array(16_384).fill(1)];
  const ping = [0xc0, 0x00];
  const stream = Uint8Array.from([...connect, ...publish, ...ping, ...publish]);
  for (let i = 0; i < stream.length; i += 7) t.equal(scanner.feed(stream.subarray(i, i + 7)), undefined);
  t.equal(scanner.packetsSeen(), 4);
  t.same(limits, [0, 1, 2, 3]);
});

t.test('frame scanner: a 200 MB announcement is caught from its 5 header bytes; a 5-byte length is malformed', async (t) => {
  const scanner = createFrameScanner(() => 64 * 1024);
  t.same(scanner.feed(Uint8Array.from([0x10, ...vbi(200 * 1024 * 1024)])), { kind: 'too-large', packetIndex: 0, packetType: 1, remainingLength: 200 * 1024 * 1024, limitBytes: 65536 });
  const bad = createFrameScanner(() => Infinity);
  t.same(bad.feed(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), { kind: 'malformed-length', packetIndex: 0, packetType: 3 });
  const split = createFrameScanner(() => 1000);
  t.equal(split.feed(Uint8Array.from([0x10, 0xe9])), undefined, 'header split across chunks');
  t.match(split.feed(Uint8Array.from([0x07])), { kind: 'too-large', remainingLength: 1001 });
});

const RULES = { maxFailures: 10, failureWindowMs: 5 * 60_000, lockoutMs: 15 * 60_000, maxTrackedKeys: 1000 };

t.test('lockout: 10 failures in 5 minutes lock the username and the address for 15 minutes, once', async (t) => {
  const clock = createManualClock(1_000_000);
  const lock = createAuthLockout(RULES, clock);
  for (let i = 0; i < 9; i++) {
    t.same(lock.recordFailure('edge-b', '198.51.100.7'), []);
    clock.advanceMs(1000);
  }
  t.same(lock.check('edge-b', '198.51.100.7'), { locked: false });
  const untilMs = clock.nowMs() + RULES.lockoutMs;
  t.same(lock.recordFailure('edge-b', '198.51.100.7'), [
    { scope: 'username', key: 'edge-b', untilMs }, { scope: 'address', key: '198.51.100.7', untilMs },
  ], 'the 10th failure locks both, reported once');
  t.same(lock.recordFailure('edge-b', '198.51.100.7'), [], 'a locked key is not locked again');
  t.same(lock.check('edge-b', '203.0.113.1'), { locked: true, scope: 'username', untilMs }, 'the username from anywhere');
  t.same(lock.check('consumer-x', '198.51.100.7'), { locked: true, scope: 'address', untilMs }, 'any username from that address');
  t.equal(lock.lockedCount(), 2);
  clock.advanceMs(RULES.lockoutMs - 1);
  t.equal(lock.check('edge-b', '203.0.113.1').locked, true);
  clock.advanceMs(1);
  t.same(lock.check('edge-b', '198.51.100.7'), { locked: false }, 'unlocked after 15 minutes');
  t.equal(lock.lockedCount(), 0);
});

t.test('lockout: failures older than the window do not count; unknown usernames count like known ones', async (t) => {
  const clock = createManualClock(0);
  const lock = createAuthLockout(RULES, clock);
  for (let i = 0; i < 30; i++) {
    lock.recordFailure('nobody', `192.0.2.${i}`);
    clock.advanceMs(34_000); // any 10 consecutive failures span 306 s: never 10 within 5 minutes
  }
  t.same(lock.check('nobody', '192.0.2.200'), { locked: false });
  clock.setMs(10_000_000);
  for (let i = 0; i < 10; i++) lock.recordFailure('nobody', `192.0.2.${i}`);
  t.equal(lock.check('nobody', '192.0.2.200').locked, true, 'spread over addresses: the username locks');
  t.equal(lock.check('someone', '192.0.2.1').locked, false, 'one failure per address does not lock the addresses');
});

t.test('lockout: a known-good username+address pair is exempt, for at most maxFailures failures', async (t) => {
  const clock = createManualClock(0);
  const lock = createAuthLockout(RULES, clock);
  lock.recordSuccess('edge-b', '10.0.0.2');
  for (let i = 0; i < 10; i++) lock.recordFailure('edge-b', '203.0.113.66'); // a tenant consumer guessing edge-b
  t.equal(lock.check('edge-b', '203.0.113.66').locked, true);
  t.same(lock.check('edge-b', '10.0.0.2'), { locked: false }, 'the edge at its usual address still connects');
  t.equal(lock.check('edge-c', '10.0.0.2').locked, false);
  for (let i = 0; i < 10; i++) lock.recordFailure('edge-b', '10.0.0.2');
  t.equal(lock.check('edge-b', '10.0.0.2').locked, true, 'failing from the good address ends the exemption');
});

t.test('lockout: a success clears the username failures but not the address failures', async (t) => {
  const clock = createManualClock(0);
  const lock = createAuthLockout(RULES, clock);
  for (let i = 0; i < 9; i++) lock.recordFailure('edge-a', '192.0.2.9');
  lock.recordSuccess('edge-a', '192.0.2.9');
  t.same(lock.recordFailure('edge-a', '198.51.100.1'), [], 'the username count restarted');
  t.same(lock.recordFailure('other', '192.0.2.9').map((l) => l.scope), ['address'], 'the address count did not');
});

t.test('lockout: addresses: IPv4-mapped unwrapped, IPv6 by /64; memory bounded', async (t) => {
  t.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::9'));
  t.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  const clock = createManualClock(0);
  const lock = createAuthLockout({ ...RULES, maxTrackedKeys: 50 }, clock);
  for (let i = 0; i < 10_000; i++) lock.recordFailure(`u${i}`, `10.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`);
  t.ok(lock.lockedCount() <= 50);
});

t.test('client ids are bound to the credential', async (t) => {
  const edge: MqttIdentity = { kind: 'edge', edgeId: 'edge-0123456789ab', operatorId: 'isp1' };
  const consumer: MqttIdentity = { kind: 'consumer', username: 'consumer-aabbccddeeff', operatorId: 'isp1' };
  const ok = (who: MqttIdentity, id: string) => mayUseClientId(who, id);
  t.ok(ok(edge, 'edge-0123456789ab'));
  t.ok(ok(edge, 'flowbill-edge-isp1-edge-0123456789ab'), 'what the edge agent sends');
  t.ok(ok(edge, 'edge-0123456789ab-check'), 'provisioning check and other tools');
  t.notOk(ok(edge, 'flowbill-edge-isp2-edge-0123456789ab'), 'another tenant');
  t.notOk(ok(edge, 'edge-ffffffffffff'), "another edge's id");
  t.notOk(ok(edge, 'edge-0123456789ab-'), 'empty suffix');
  t.notOk(ok(edge, 'edge-0123456789ab-a/b'));
  t.notOk(ok(edge, 'flowbill-hub'));
  t.ok(ok(consumer, 'consumer-aabbccddeeff'));
  t.ok(ok(consumer, 'consumer-aabbccddeeff-node-red'));
  t.notOk(ok(consumer, 'edge-0123456789ab'), "an edge's id");
  t.notOk(ok(consumer, 'flowbill-edge-isp1-edge-0123456789ab'), "the edge agent's id");
  t.notOk(ok(consumer, 'mqttjs_1234abcd'));
  t.ok(ok({ kind: 'hub' }, 'flowbill-hub'));
  t.notOk(ok({ kind: 'hub' }, 'flowbill-hub-2'));
});

t.test('rate-limited log: one line per key per interval, the rest summed into the next line', async (t) => {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const log: Logger = { ...silentLogger, warn: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg: String(msg) }); } };
  const clock = createManualClock(0);
  const rl = createRateLimitedLog({ log, clock, intervalMs: 60_000 });
  t.equal(rl.warn('a', { n: 1 }, 'refused', 5000), true);
  for (let i = 0; i < 100; i++) rl.warn('a', { n: 2 }, 'refused');
  t.equal(rl.warn('b', { n: 3 }, 'refused'), true, 'other keys are independent');
  clock.advanceMs(60_000);
  rl.warn('a', { n: 4 }, 'refused');
  t.same(lines.map((l) => l.obj), [{ n: 1 }, { n: 3 }, { n: 4, suppressedSinceLastLine: 100 }]);
});
