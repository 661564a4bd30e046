/**
 * Critical sections (hub/cluster/critical-sections.ts): one contract, two backends. The PostgreSQL
 * one is run as several hub processes would run it: separate pools, a read-modify-write of one
 * counter row through yet another connection, concurrent tasks from every "process". Without the
 * exclusion the counter loses updates; with it the total is exact, and tryRun skips while another
 * "process" holds the section.
 */
import t, { type Test } from 'tap';
import pg from 'pg';
import { silentLogger } from '../../common/logger';
import { inProcessSections, sectionsOf, type CriticalSections } from '../../common/critical-sections';
import { advisoryKey, postgresSections } from '../../hub/store/pg/pg-sections';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { startPostgres } from '../helpers/postgres';

const tick = () => new Promise((r) => setImmediate(r));

function contract(t: Test, name: string, open: () => Promise<{ processes: CriticalSections[]; read(): Promise<number>; write(n: number): Promise<void> }>): void {
  t.test(`${name}: tasks of one section never interleave, across every process; errors stay with their caller`, async (t) => {
    const { processes, read, write } = await open();
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const s = processes[i % processes.length].section('counter');
      tasks.push(s.run(async () => { const n = await read(); await tick(); await write(n + 1); }));
      if (i === 7) tasks.push(s.run(async () => { throw new Error('boom'); }).catch((err: Error) => t.equal(err.message, 'boom', 'the failure goes to its caller')));
    }
    await Promise.all(tasks);
    t.equal(await read(), 40, 'no lost update');
  });

  t.test(`${name}: tryRun skips while the section is held (by this process or another), runs when free`, async (t) => {
    const { processes } = await open();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    const a = processes[0].section('job');
    const running = a.run(() => { entered(); return held; });
    await inside; // the section is taken (on PostgreSQL: the lock is held) once its task runs
    for (const p of processes) t.equal(await p.section('job').tryRun(() => 'ran'), undefined, 'skipped: held');
    release();
    await running;
    t.equal(await processes[processes.length - 1].section('job').tryRun(() => 'ran'), 'ran', 'free again');
    t.equal(await processes[0].section('other').tryRun(() => 1), 1, 'another name is another section');
  });
}

contract(t, 'in one process', async () => {
  let counter = 0;
  const one = inProcessSections();
  return { processes: [one], read: async () => counter, write: async (n) => { counter = n; } };
});

t.test('sectionsOf(kv): one set per store object, or the store\'s own', async (t) => {
  const a = createMemoryKvStore();
  const b = createMemoryKvStore();
  t.equal(sectionsOf(a).section('x'), sectionsOf(a).section('x'), 'modules writing one store share its sections');
  t.not(sectionsOf(a).section('x'), sectionsOf(b).section('x'), 'another store, other sections');
  const own = inProcessSections();
  t.equal(sectionsOf(Object.assign(createMemoryKvStore(), { sections: own })), own, 'a store that carries sections (PostgreSQL) decides');
});

t.test('the advisory key is a stable signed 64-bit decimal', async (t) => {
  t.equal(advisoryKey('counter'), advisoryKey('counter'));
  t.not(advisoryKey('counter'), advisoryKey('job'));
  const k = BigInt(advisoryKey('counter'));
  t.ok(k >= -(2n ** 63n) && k < 2n ** 63n);
});

t.test('PostgreSQL: three pools as three hub processes', async (t) => {
  const server = await startPostgres(t);
  if (!server) return;
  const pools: pg.Pool[] = [];
  const poolOf = () => { const p = new pg.Pool({ connectionString: server.url, max: 4 }); pools.push(p); return p; };
  const data = poolOf();
  t.teardown(async () => { for (const p of pools) await p.end(); });
  await data.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
  contract(t, 'PostgreSQL', async () => {
    await data.query('INSERT INTO counter VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0');
    return {
      processes: [0, 1, 2].map(() => postgresSections(poolOf(), { log: silentLogger })),
      read: async () => (await data.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0].n,
      write: async (n) => { await data.query('UPDATE counter SET n = $1 WHERE id = 1', [n]); },
    };
  });
});
