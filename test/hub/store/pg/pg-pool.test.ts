import t from 'tap';
import { createPgPool, redactPgUrl } from '../../../../hub/store/pg/pg-pool';
import { freeTcpPort } from '../../../helpers/free-ports';
import { startPostgres } from '../../../helpers/postgres';

t.test('redactPgUrl masks the password and nothing else', async (t) => {
  t.equal(redactPgUrl('postgres://hub:s3cret@db.example:5433/flowbill'), 'postgres://hub:***@db.example:5433/flowbill');
  t.equal(redactPgUrl('postgres://hub@db/flowbill'), 'postgres://hub@db/flowbill');
  t.equal(redactPgUrl('not a url s3cret'), '(unparsable URL)');
});

t.test('a server that is not there fails the start naming the URL, without its password', async (t) => {
  const port = await freeTcpPort();
  const err = await createPgPool(`postgres://hub:s3cret@127.0.0.1:${port}/flowbill`, { connectTimeoutMs: 2000 }).then(() => undefined, (e: Error) => e);
  t.ok(err, 'createPgPool rejects');
  t.match(err!.message, `PostgreSQL at postgres://hub:***@127.0.0.1:${port}/flowbill: cannot connect`);
  t.notMatch(err!.message, 's3cret');
});

t.test('a URL of another scheme is refused before connecting', async (t) => {
  await t.rejects(createPgPool('mysql://hub:s3cret@127.0.0.1/flowbill'), { message: /postgres:\/\/ or postgresql:\/\/ scheme/ });
  await t.rejects(createPgPool('nonsense'), { message: /not a URL/ });
});

t.test('against a real cluster: connects, honours maxConnections', async (t) => {
  const server = await startPostgres(t);
  if (!server) { t.pass('skipped: no PostgreSQL here'); return; }
  const pool = await createPgPool(server.url, { maxConnections: 2 });
  t.teardown(() => pool.end());
  t.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
  t.equal(pool.options.max, 2);
  // a wrong database on a live server: the server's reason is in the message
  const bad = server.url.replace(/flowbill_test$/, 'no_such_db');
  await t.rejects(createPgPool(bad), { message: /cannot connect: database "no_such_db" does not exist/ });
});
