import t from 'tap';
import { createErrorRecorder, createManualTimers, createSafeTicker, guardTick } from '../../common/ticker';
import { createManualClock } from '../../common/clock';
import type { Logger } from '../../common/logger';

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const log: Logger = {
    debug: (o, m) => lines.push({ level: 'debug', msg: String(m ?? o) }),
    info: (o, m) => lines.push({ level: 'info', msg: String(m ?? o) }),
    warn: (o, m) => lines.push({ level: 'warn', msg: String(m ?? o) }),
    error: (o, m) => lines.push({ level: 'error', msg: String(m ?? o) }),
    child: () => log,
  };
  return { log, lines };
}

t.test('a throwing or rejecting tick is counted, logged once, then rate-limited; the interval keeps running', async (t) => {
  const { log, lines } = capture();
  const clock = createManualClock(0);
  const timers = createManualTimers();
  const seen: string[] = [];
  const ticker = createSafeTicker({ log, clock, timers, repeatLogMs: 10_000, onError: (name) => seen.push(name) });
  let runs = 0;
  ticker.every('sync', 1000, () => { runs++; throw new RangeError('uint32 expected'); });
  ticker.every('async', 1000, async () => { throw new Error('rejected'); });
  for (let i = 0; i < 5; i++) { clock.advanceMs(1000); await timers.tick(1000); }
  t.equal(runs, 5, 'the throwing tick kept running');
  t.equal(ticker.errors.count(), 10);
  t.equal(lines.filter((l) => l.level === 'error').length, 2, 'one line per tick name');
  t.equal(seen.length, 10);
  for (let i = 0; i < 10; i++) { clock.advanceMs(1000); await timers.tick(1000); }
  t.equal(lines.filter((l) => l.level === 'error').length, 4, 'one repeat line per name after repeatLogMs');
  t.match(lines.at(-1)!.msg, /again \(\d+ since the last line\)/);
  ticker.stopAll();
  t.equal(timers.active(), 0);
});

t.test('guardTick never throws, even when onError throws', async (t) => {
  const errors = createErrorRecorder({ log: capture().log, onError: () => { throw new Error('hook'); } });
  t.doesNotThrow(guardTick('x', () => { throw new Error('boom'); }, errors));
  guardTick('y', () => Promise.reject(new Error('later')), errors)();
  await new Promise((r) => setImmediate(r));
  t.equal(errors.count(), 2);
});

t.test('systemTimers follow sinon fake timers (looked up at call time)', async (t) => {
  const sinon = await import('sinon');
  const fake = sinon.useFakeTimers();
  t.teardown(() => fake.restore());
  const ticker = createSafeTicker({ log: capture().log });
  let n = 0;
  ticker.every('n', 500, () => { n++; }, { unref: true });
  fake.tick(1600);
  t.equal(n, 3);
  ticker.stopAll();
  fake.tick(1000);
  t.equal(n, 3);
});
