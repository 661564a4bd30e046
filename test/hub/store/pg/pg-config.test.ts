import t from 'tap';
import { loadHubConfig } from '../../../../hub/config';

t.test('FLOWBILL_HUB_STORE defaults to level, with no PostgreSQL settings needed', async (t) => {
  const c = loadHubConfig({});
  t.equal(c.hubStore, 'level');
  t.equal(c.pgUrl, undefined);
  t.equal(c.pgMaxConnections, 10);
});

t.test('postgres mode takes the URL and the pool size', async (t) => {
  const c = loadHubConfig({ FLOWBILL_HUB_STORE: 'postgres', FLOWBILL_PG_URL: 'postgres://hub:pw@db:5432/flowbill?sslmode=require', FLOWBILL_PG_MAX_CONNECTIONS: '25' });
  t.equal(c.hubStore, 'postgres');
  t.equal(c.pgUrl, 'postgres://hub:pw@db:5432/flowbill?sslmode=require');
  t.equal(c.pgMaxConnections, 25);
  t.equal(loadHubConfig({ FLOWBILL_HUB_STORE: 'postgres', FLOWBILL_PG_URL: 'postgresql://db/flowbill' }).pgUrl, 'postgresql://db/flowbill');
});

t.test('bad values fail at start naming the key, never echoing the URL (it may hold a password)', async (t) => {
  t.throws(() => loadHubConfig({ FLOWBILL_HUB_STORE: 'mysql' }), { message: 'config FLOWBILL_HUB_STORE=mysql: expected level or postgres' });
  t.throws(() => loadHubConfig({ FLOWBILL_HUB_STORE: 'postgres' }), { message: /^config FLOWBILL_PG_URL: required with FLOWBILL_HUB_STORE=postgres/ });
  const err = t.throws(() => loadHubConfig({ FLOWBILL_HUB_STORE: 'postgres', FLOWBILL_PG_URL: 'mysql://hub:s3cret@db/x' })) as Error;
  t.match(err.message, /^config FLOWBILL_PG_URL: expected postgres:\/\//);
  t.notMatch(err.message, 's3cret');
  t.throws(() => loadHubConfig({ FLOWBILL_PG_MAX_CONNECTIONS: '0' }), { message: /FLOWBILL_PG_MAX_CONNECTIONS=0: expected an integer from 1 to 1000/ });
});
