import t from 'tap';
import path from 'node:path';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { collect, prefixRange } from '../../../common/kv/kv-store';
import { createAccessRepository } from '../../../hub/access/access-repository';
import { createSecretBox } from '../../../hub/access/secret-box';
import { keyRingFromHex } from '../../../hub/security/key-ring';

const KEY = '3c'.repeat(32);

t.test('LevelDB: records and the encrypted password survive a reopen; the plaintext is not on disk', async (t) => {
  const dir = path.join(t.testdir(), 'db');
  let kv = await openLevelKvStore(dir);
  let repo = createAccessRepository({ kv, secrets: createSecretBox(keyRingFromHex(KEY)) });
  await repo.createClient('isp1', { clientId: 'c1', name: 'C One' }, 1);
  await repo.createService('isp1', { serviceId: 's1', clientId: 'c1', type: 'dedicated', label: 'Box' }, 1);
  const r = await repo.createRecord('isp1', 's1', { username: 'cust1', password: 'plaintext-pw', ipAddress: '192.0.2.0/29' }, 1);
  await kv.close();

  kv = await openLevelKvStore(dir);
  t.teardown(() => kv.close());
  repo = createAccessRepository({ kv, secrets: createSecretBox(keyRingFromHex(KEY)) });
  t.same((await repo.getRecord('isp1', r.recordId))?.ipAddress, '192.0.2.0/29');
  t.equal(await repo.revealPassword('isp1', 'cust1'), 'plaintext-pw');
  const raw = (await collect(kv, prefixRange('access/'))).map(([, v]) => Buffer.from(v).toString('latin1')).join('');
  t.notOk(raw.includes('plaintext-pw'));
});

t.test('concurrent creates for one service or one username: exactly one wins', async (t) => {
  const repo = createAccessRepository({ kv: createMemoryKvStore(), secrets: createSecretBox(keyRingFromHex(KEY)) });
  await repo.createClient('isp1', { clientId: 'a', name: 'A' }, 1);
  await repo.createClient('isp1', { clientId: 'b', name: 'B' }, 1);
  await repo.createService('isp1', { serviceId: 'sa', clientId: 'a', type: 'vps', label: 'A' }, 1);
  await repo.createService('isp1', { serviceId: 'sb', clientId: 'b', type: 'vps', label: 'B' }, 1);
  const same = await Promise.allSettled([1, 2, 3].map((i) => repo.createRecord('isp1', 'sa', { username: `u${i}`, ipAddress: '192.0.2.1' }, 1)));
  t.equal(same.filter((r) => r.status === 'fulfilled').length, 1, 'one record per service');
  t.equal((await repo.listRecords('isp1')).length, 1);
  // Two clients racing for one fresh username: one gets it, the other LOGIN_TAKEN.
  await repo.createService('isp1', { serviceId: 'sa2', clientId: 'a', type: 'vps', label: 'A2' }, 1);
  const race = await Promise.allSettled([
    repo.createRecord('isp1', 'sa2', { username: 'shared', password: 'password-a', ipAddress: '192.0.2.2' }, 1),
    repo.createRecord('isp1', 'sb', { username: 'shared', password: 'password-b', ipAddress: '192.0.2.3' }, 1),
  ]);
  t.same(race.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const rejected = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.equal(rejected.reason.code, 'LOGIN_TAKEN');
  t.equal(await repo.revealPassword('isp1', 'shared'), 'password-a');
});

t.test('logins are per operator: another tenant may use the same username; within one, any case of it is taken', async (t) => {
  const kv = createMemoryKvStore();
  const repo = createAccessRepository({ kv, secrets: createSecretBox(keyRingFromHex(KEY)) });
  for (const op of ['isp1', 'isp2']) {
    await repo.createClient(op, { clientId: 'c', name: 'C' }, 1);
    await repo.createClient(op, { clientId: 'd', name: 'D' }, 1);
    await repo.createService(op, { serviceId: 's', clientId: 'c', type: 'cloud', label: 'S' }, 1);
    await repo.createService(op, { serviceId: 't', clientId: 'd', type: 'cloud', label: 'T' }, 1);
  }
  await repo.createRecord('isp1', 's', { username: 'joe', password: 'joe-password', ipAddress: '192.0.2.1' }, 1);
  await repo.createRecord('isp2', 's', { username: 'joe', password: 'other-joe-pw', ipAddress: '192.0.2.1' }, 1);
  t.equal(await repo.revealPassword('isp1', 'joe'), 'joe-password');
  t.equal(await repo.revealPassword('isp2', 'joe'), 'other-joe-pw', "each tenant's joe is its own login");
  await t.rejects(repo.createRecord('isp1', 't', { username: 'JOE', ipAddress: '192.0.2.2' }, 1), { code: 'LOGIN_TAKEN' }, 'another client of isp1, any case');
  t.same((await repo.listRecords('isp2')).map((r) => r.operatorId), ['isp2'], "isp2's listing never shows isp1's records");
  // Deleting isp1's record frees the name in isp1 only.
  await repo.deleteRecord('isp1', (await repo.listRecords('isp1'))[0].recordId);
  t.equal(await repo.getLogin('isp1', 'joe'), undefined);
  t.ok(await repo.getLogin('isp2', 'joe'));
  await repo.createRecord('isp1', 't', { username: 'JOE', ipAddress: '192.0.2.2' }, 1);
});
