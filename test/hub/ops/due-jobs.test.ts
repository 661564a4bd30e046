import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { createDueJobsRunner, type DueJobsModule } from '../../../hub/ops/due-jobs';

t.test('runs each module\'s due jobs at the clock\'s now, one run at a time; a failing module does not stop the others', async (t) => {
  const clock = createManualClock(1_000);
  const calls: string[] = [];
  let active = 0;
  let release: (() => void) | undefined;
  const modules: DueJobsModule[] = [
    { name: 'mail' },
    { name: 'commerce', async runDueJobs(nowMs) {
      active++;
      t.equal(active, 1, 'never two runs at once');
      calls.push(`commerce@${nowMs}`);
      if (nowMs === 1_000) await new Promise<void>((r) => { release = r; });
      active--;
      return ['trial-expiry'];
    } },
    { name: 'billing', async runDueJobs(nowMs) { calls.push(`billing@${nowMs}`); if (nowMs === 5_000) throw new Error('store down'); return { generated: 1 }; } },
  ];
  const runner = createDueJobsRunner({ modules: () => modules, clock, log: silentLogger });
  const first = runner.runNow();
  await new Promise((r) => setImmediate(r));
  clock.advanceMs(4_000);
  const second = runner.runNow(); // queued behind the first: runs at the time it starts
  await runner.tick(); // a minute tick during a run does nothing
  release!();
  t.same(await first, { commerce: ['trial-expiry'], billing: { generated: 1 } });
  t.same(await second, { commerce: ['trial-expiry'], billing: { error: 'store down' } });
  t.same(calls, ['commerce@1000', 'billing@1000', 'commerce@5000', 'billing@5000']);
  clock.advanceMs(1);
  await runner.tick();
  await runner.idle();
  t.same(calls.slice(4), ['commerce@5001', 'billing@5001'], 'an idle tick runs');
});
