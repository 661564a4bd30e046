/**
 * Unit tests of the key ring (hub/security/key-ring.ts), the secret box's two formats
 * (hub/access/secret-box.ts) and the secret-key config keys.
 */
import t from 'tap';
import { inspect } from 'node:util';
import { createSecretBox } from '../../hub/access/secret-box';
import { loadHubConfig } from '../../hub/config';
import { createEphemeralKeyRing, keyIdOf, keyRingFromHex, LEGACY_ZERO_KEY, parseSecretKeyHex } from '../../hub/security/key-ring';
import { sealV1 } from './legacy-sealed-secret';

const K1 = '1a'.repeat(32);
const K2 = '2b'.repeat(32);
const K3 = '3c'.repeat(32);

t.test('key ids: 16 hex, one per key, stable, and they do not give the key away', async (t) => {
  const k1 = parseSecretKeyHex(K1, 'k1');
  t.match(k1.kid, /^[0-9a-f]{16}$/);
  t.equal(k1.kid, keyIdOf(Buffer.from(K1, 'hex')), 'derived from the key alone');
  t.not(k1.kid, parseSecretKeyHex(K2, 'k2').kid);
  t.notOk(K1.includes(k1.kid) || k1.kid.includes('1a1a'), 'not a slice of the key');
  // Logging a key or a ring by mistake shows ids only.
  const ring = keyRingFromHex(K1, [K2]);
  for (const shown of [JSON.stringify(k1), JSON.stringify(ring), inspect(k1), inspect(ring.current)]) {
    t.notOk(shown.includes(K1) || shown.includes(K2) || shown.includes('26,26,26'), shown);
  }
  t.same(JSON.parse(JSON.stringify(ring)), { current: k1.kid, retired: [keyIdOf(Buffer.from(K2, 'hex'))] });
});

t.test('keys: 64 hex, and never the public all-zero key', async (t) => {
  t.throws(() => parseSecretKeyHex('00'.repeat(32), 'FLOWBILL_SECRET_KEY'), /FLOWBILL_SECRET_KEY: the all-zero key is public/);
  t.throws(() => parseSecretKeyHex('ab', 'x'), /x: expected 64 hex/);
  t.throws(() => parseSecretKeyHex(`${'g'.repeat(64)}`, 'x'), /64 hex/);
  t.throws(() => keyRingFromHex(K1, ['00'.repeat(32)]), /retired #1.*all-zero/);
  const eph = createEphemeralKeyRing();
  t.not(eph.current.kid, createEphemeralKeyRing().current.kid, 'ephemeral rings are random');
  t.not(eph.current.kid, LEGACY_ZERO_KEY.kid);
});

t.test('ring: the current key is not also retired, duplicates collapse, lookup by kid', async (t) => {
  const ring = keyRingFromHex(K1, [K2, K1, K2, K3]);
  t.same(ring.retired.map((k) => k.kid), [parseSecretKeyHex(K2, '').kid, parseSecretKeyHex(K3, '').kid]);
  t.equal(ring.byKid(parseSecretKeyHex(K3, '').kid), ring.retired[1]);
  t.equal(ring.byKid(ring.current.kid), ring.current);
  t.equal(ring.byKid('0000000000000000'), undefined);
});

t.test('secret box v2: sealed under the current key, opened by kid after a rotation, unknown kid refused', async (t) => {
  const old = createSecretBox(keyRingFromHex(K1));
  const sealed = old.seal('pw-1', 'ad');
  t.same(Object.keys(sealed).sort(), ['ciphertextB64', 'ivB64', 'kid', 'tagB64', 'v']);
  t.equal(sealed.v, 2);
  t.equal(sealed.kid, parseSecretKeyHex(K1, '').kid);
  t.notOk(old.needsResealing(sealed));

  const rotated = createSecretBox(keyRingFromHex(K2, [K1]));
  t.ok(rotated.needsResealing(sealed), 'a value under a retired key needs re-sealing');
  t.equal(rotated.open(sealed, 'ad'), 'pw-1', 'a retired key still opens');
  t.equal(rotated.seal('pw-1', 'ad').kid, parseSecretKeyHex(K2, '').kid, 'the current key seals');
  t.throws(() => createSecretBox(keyRingFromHex(K2)).open(sealed, 'ad'), /key [0-9a-f]{16} is not in the key ring/);
  t.throws(() => rotated.open({ ...sealed, kid: parseSecretKeyHex(K2, '').kid }, 'ad'), 'a forged kid names a key that fails the tag');
  t.throws(() => rotated.open(sealed, 'other'), 'bound to its associated data');
});

t.test('secret box v1: any ring key opens it; the all-zero key only when re-sealing, and it says so', async (t) => {
  const box = createSecretBox(keyRingFromHex(K2, [K1]));
  const underK1 = sealV1(K1, 'configured-key-pw', 'ad');
  t.equal(box.open(underK1, 'ad'), 'configured-key-pw', 'v1 under FLOWBILL_SECRET_KEY (now retired)');
  t.same(box.openForResealing(underK1, 'ad'), { plaintext: 'configured-key-pw', legacyZeroKey: false });
  t.ok(box.needsResealing(underK1));

  const underZero = sealV1('00'.repeat(32), 'default-key-pw', 'ad');
  t.throws(() => box.open(underZero, 'ad'), /no key of the key ring opens it/, 'the public key never opens at run time');
  t.same(box.openForResealing(underZero, 'ad'), { plaintext: 'default-key-pw', legacyZeroKey: true });
  t.throws(() => box.openForResealing(underZero, 'other'), 'still bound to its associated data');
  t.throws(() => box.openForResealing(sealV1(K3, 'x', 'ad'), 'ad'), 'a v1 value under an unknown key');
  t.throws(() => box.openForResealing({ ...box.seal('x', 'ad'), kid: 'ffffffffffffffff' }, 'ad'), 'v2 never falls back to the zero key');
  t.throws(() => box.open({ ...underK1, v: 3 } as never, 'ad'), /unknown version 3/);
});

t.test('config: FLOWBILL_SECRET_KEY optional, validated, never the zero key; retired keys parsed', async (t) => {
  t.equal(loadHubConfig({}).secretKeyHex, undefined, 'unset: the key file (no built-in default)');
  t.equal(loadHubConfig({ FLOWBILL_SECRET_KEY: '' }).secretKeyHex, undefined);
  t.equal(loadHubConfig({ FLOWBILL_SECRET_KEY: K1 }).secretKeyHex, K1);
  t.throws(() => loadHubConfig({ FLOWBILL_SECRET_KEY: '00'.repeat(32) }), /config FLOWBILL_SECRET_KEY: the all-zero key is public/);
  t.throws(() => loadHubConfig({ FLOWBILL_SECRET_KEY: 'abc' }), /config FLOWBILL_SECRET_KEY: expected 64 hex/);
  t.same(loadHubConfig({ FLOWBILL_SECRET_KEY: K1, FLOWBILL_SECRET_KEYS_RETIRED: ` ${K2}, ${K3},` }).retiredSecretKeysHex, [K2, K3]);
  t.same(loadHubConfig({}).retiredSecretKeysHex, []);
  t.throws(() => loadHubConfig({ FLOWBILL_SECRET_KEYS_RETIRED: `${K2},nope` }), /FLOWBILL_SECRET_KEYS_RETIRED \(key #2\): expected 64 hex/);
});
