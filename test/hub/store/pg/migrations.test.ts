import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../../../../hub/store/pg/migrations';
import { createPgPool, type PgPool } from '../../../../hub/store/pg/pg-pool';
import { startPostgres } from '../../../helpers/postgres';

t.test('readMigrations: version order, misnamed and repeated files refused', async (t) => {
  const dir = t.testdir({ '010_ten.sql': 'SELECT 10;', '002_two.sql': 'SELECT 2;', 'README.md': 'not a migration' });
  t.same(readMigrations(dir).map((m) => [m.version, m.name]), [[2, 'two'], [10, 'ten']]);
  t.throws(() => readMigrations(t.testdir({ '1_short.sql': '' })), { message: /expected a name like 001_create_kv\.sql/ });
  t.throws(() => readMigrations(t.testdir({ '001_Upper.sql': '' })), { message: /001_Upper\.sql: expected a name like/ });
  t.throws(() => readMigrations(t.testdir({ '001_a.sql': '', '0001_b.sql': '' })), { message: /have the same version 1/ });
  const crlf = readMigrations(t.testdir({ '001_a.sql': 'SELECT 1;\r\nSELECT 2;\r\n' }))[0];
  const lf = readMigrations(t.testdir({ '001_a.sql': 'SELECT 1;\nSELECT 2;\n' }))[0];
  t.equal(crlf.checksum, lf.checksum, 'line endings of a checkout are not an edit');
});

t.test('against PostgreSQL', async (t) => {
  const server = await startPostgres(t);
  if (!server) { t.pass('skipped: no PostgreSQL here'); return; }
  let dbCount = 0;
  /** A fresh database per subtest, so each story starts from an empty schema. */
  const freshPool = async (): Promise<{ url: string; pool: PgPool }> => {
    const admin = await createPgPool(server.url, { maxConnections: 1 });
    const name = `mig_${dbCount++}`;
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = server.url.replace(/\/flowbill_test$/, `/${name}`);
    const pool = await createPgPool(url, { maxConnections: 2 });
    t.teardown(() => pool.end());
    return { url, pool };
  };
  const tables = async (pool: PgPool) => (await pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r) => r.tablename);
  const recorded = async (pool: PgPool) => (await pool.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;
  const twoFiles = {
    '001_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);',
    '002_b.sql': 'CREATE TABLE b (id int PRIMARY KEY);',
  };

  t.test('a fresh database gets every file, in order, recorded with its checksum; a re-run is a no-op', async (t) => {
    const { pool } = await freshPool();
    const dir = t.testdir(twoFiles);
    const first = await migrate(pool, { dir });
    t.same(first.applied.map((m) => m.file), ['001_a.sql', '002_b.sql']);
    t.same(await tables(pool), ['a', 'b', 'schema_migrations']);
    t.same(await recorded(pool), readMigrations(dir).map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })));
    const again = await migrate(pool, { dir });
    t.same(again.applied, [], 'nothing applied twice');
    t.same((await pool.query('SELECT count(*)::int AS n FROM a')).rows[0].n, 1);
    writeFileSync(join(dir, '003_c.sql'), 'CREATE TABLE c (id int);');
    t.same((await migrate(pool, { dir })).applied.map((m) => m.file), ['003_c.sql'], 'a new file is applied alone');
  });

  t.test('three hubs starting at once: each file applied exactly once', async (t) => {
    const { url, pool } = await freshPool();
    // not idempotent on purpose: a second run of 001 would fail on CREATE TABLE, a second run of 002 would count 2
    const dir = t.testdir({
      '001_runs.sql': 'CREATE TABLE runs (n int NOT NULL);',
      '002_count.sql': 'INSERT INTO runs VALUES (1); SELECT pg_sleep(0.2);',
      '003_more.sql': 'INSERT INTO runs VALUES (2);',
    });
    const pools = [pool, await createPgPool(url, { maxConnections: 1 }), await createPgPool(url, { maxConnections: 1 })];
    t.teardown(() => Promise.all(pools.slice(1).map((p) => p.end())));
    const results = await Promise.all(pools.map((p) => migrate(p, { dir })));
    t.same(results.flatMap((r) => r.applied.map((m) => m.version)).sort(), [1, 2, 3], 'the three calls applied 3 files between them');
    t.same((await pool.query('SELECT n FROM runs ORDER BY n')).rows.map((r) => r.n), [1, 2]);
    t.equal((await recorded(pool)).length, 3);
    const locks = await pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
    t.equal(locks.rows[0].n, 0, 'the advisory lock is released');
  });

  t.test('a failing migration leaves nothing of itself; the files before it stay applied', async (t) => {
    const { pool } = await freshPool();
    const dir = t.testdir({
      '001_ok.sql': 'CREATE TABLE ok (id int);',
      '002_half.sql': 'CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nINSERT INTO half VALUES (\'not a number\');\n',
      '003_after.sql': 'CREATE TABLE after_ (id int);',
    });
    await t.rejects(migrate(pool, { dir }), { message: /^migration 002_half\.sql failed at line 3, nothing of it was applied: invalid input syntax for type integer/ });
    t.same(await tables(pool), ['ok', 'schema_migrations'], 'no table half, and 003 not attempted');
    t.same((await recorded(pool)).map((r) => r.version), [1]);
    // fixed (it was never applied, so editing it is fine): the next start applies 002 and 003
    writeFileSync(join(dir, '002_half.sql'), 'CREATE TABLE half (id int);');
    t.same((await migrate(pool, { dir })).applied.map((m) => m.version), [2, 3]);
    t.equal((await pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n, 0, 'the lock was released after the failure too');
  });

  t.test('an applied file that was edited is a clear startup error', async (t) => {
    const { pool } = await freshPool();
    const dir = t.testdir(twoFiles);
    await migrate(pool, { dir });
    writeFileSync(join(dir, '001_a.sql'), twoFiles['001_a.sql'] + '\n-- a harmless-looking edit');
    writeFileSync(join(dir, '003_c.sql'), 'CREATE TABLE c (id int);');
    await t.rejects(migrate(pool, { dir }), { message: /^migration 001_a\.sql was changed after it was applied .* never edit an applied migration, add a new one/ });
    t.notOk((await tables(pool)).includes('c'), 'nothing else ran');
  });

  t.test('a version recorded by a newer hub is logged, not fatal', async (t) => {
    const { pool } = await freshPool();
    const newer = t.testdir({ ...twoFiles, '003_c.sql': 'CREATE TABLE c (id int);' });
    await migrate(pool, { dir: newer });
    const warnings: unknown[] = [];
    const log = { debug() {}, info() {}, warn(o: unknown) { warnings.push(o); }, error() {}, child() { return log; } };
    t.same((await migrate(pool, { dir: t.testdir(twoFiles), log })).applied, []);
    t.same(warnings, [{ version: 3, name: 'c' }]);
  });

  t.test("the repo's own migrations apply to a fresh database", async (t) => {
    const { pool } = await freshPool();
    const { applied } = await migrate(pool);
    t.same(applied.map((m) => m.file), readMigrations(MIGRATIONS_DIR).map((m) => m.file));
    t.ok((await tables(pool)).includes('kv'));
  });
});
