import t from 'tap';
import { captureWarnings } from '../helpers/capture-logger';
import { createOnceLogger } from '../../common/logger';

function captureLogger() {
  const { log, warnings } = captureWarnings();
  return { log, lines: warnings };
}

t.test('one line per key, as before', async (t) => {
  const { log, lines } = captureLogger();
  const once = createOnceLogger(log);
  for (let i = 0; i < 5; i++) once.warnOnce('a', { i }, 'x');
  once.warnOnce('b', {}, 'y');
  t.equal(lines.length, 2);
  t.match(lines[0].msg, /further occurrences are only counted/);
});

t.test('issue 8: 100,000 attacker-chosen keys are at most maxLinesPerWindow lines a minute, plus one summary', async (t) => {
  const { log, lines } = captureLogger();
  let now = 0;
  const once = createOnceLogger(log, 10_000, { nowMs: () => now });
  for (let i = 0; i < 100_000; i++) once.warnOnce(`10.0.${i >> 8}.${i & 255}|bad`, { i }, 'bad datagram');
  t.equal(lines.length, 100, 'the default budget: 100 lines per window');
  now += 59_999;
  once.warnOnce('late|bad', {}, 'bad datagram');
  t.equal(lines.length, 100, 'still the same minute');
  now += 1;
  once.warnOnce('next|bad', {}, 'bad datagram');
  t.equal(lines.length, 102);
  t.match(lines[100], { obj: { suppressed: 99_901 } }, 'one line says how many were suppressed');
  t.match(lines[100].msg, /99901 further first-occurrence warnings suppressed/);
  t.same(lines[101].obj, {});
});
