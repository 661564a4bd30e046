/**
 * Subject order (edge/aggregate/subject-order.ts): ranks give exactly the plain JS string order
 * (a < b) of the ids that CONTENT IDENTITY (c) requires, also after keys are added between calls
 * (the merge), on the ids the edge really makes: interface subjects over IPv4 and IPv6 exporters and
 * IP groups named from [A-Za-z0-9_.-]{1,64}.
 */
import t from 'tap';
import fc from 'fast-check';
import { createSubjectOrder, subjectKeyOrder } from '../../../edge/aggregate/subject-order';
import { subjectIdOfKey, subjectKeyCount, subjectKeyOf } from '../../../edge/classify/subject-keys';
import { subjectIdArb } from './subject-id-arbs';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

t.test('ranks equal the string sort of the ids, with ids added between updates', async (t) => {
  fc.assert(fc.property(
    // Batches of ids made between two updates; duplicates are dropped as subjectKeyOf would (one key per id).
    fc.array(fc.array(subjectIdArb, { maxLength: 60 }), { minLength: 1, maxLength: 8 }),
    (batches) => {
      const ids: string[] = [];
      const seen = new Set<string>();
      const order = createSubjectOrder({ count: () => ids.length, idOf: (key) => ids[key] });
      for (const batch of batches) {
        for (const id of batch) if (!seen.has(id)) { seen.add(id); ids.push(id); }
        const n = order.update();
        if (n !== ids.length) return false;
        const keyAtRank = Array.from(order.keyAtRank().subarray(0, n));
        const expected = ids.map((_, key) => key).sort((a, b) => byString(ids[a], ids[b]));
        if (keyAtRank.join() !== expected.join()) return false;
        const rankOfKey = order.rankOfKey();
        for (let rank = 0; rank < n; rank++) if (rankOfKey[keyAtRank[rank]] !== rank) return false;
      }
      return true;
    },
  ), { numRuns: 500, seed: 21 });
  t.pass('500 random id sets');
});

t.test('ids that differ only where string order and number order disagree', async (t) => {
  const ids = ['if:192.0.2.1/9', 'if:192.0.2.1/10', 'if:192.0.2.1/100', 'if:192.0.2.10/1', 'ipg:a', 'ipg:B', 'ipg:_', 'ipg:-', 'ipg:.', 'if:2001:db8::1/3', 'if:2001:db8::/3'];
  const order = createSubjectOrder({ count: () => ids.length, idOf: (key) => ids[key] });
  const n = order.update();
  t.same(Array.from(order.keyAtRank().subarray(0, n), (key) => ids[key]), [...ids].sort(byString));
  t.same([...ids].sort(byString), [
    'if:192.0.2.1/10', 'if:192.0.2.1/100', 'if:192.0.2.1/9', 'if:192.0.2.10/1', 'if:2001:db8::/3', 'if:2001:db8::1/3',
    'ipg:-', 'ipg:.', 'ipg:B', 'ipg:_', 'ipg:a',
  ], 'the expected order, written out: "-" < "." < digits < ":" < "B" < "_" < "a"');
});

t.test('growing past the initial capacity, in one update and over many', async (t) => {
  const ids: string[] = [];
  const order = createSubjectOrder({ count: () => ids.length, idOf: (key) => ids[key] });
  const check = () => {
    const n = order.update();
    const got = Array.from(order.keyAtRank().subarray(0, n), (key) => ids[key]);
    return got.join('\n') === [...ids].sort(byString).join('\n');
  };
  for (let i = 0; i < 5000; i++) ids.push(`ipg:g${(i * 7919) % 5000}`);
  t.ok(check(), '5000 ids at once');
  for (let i = 0; i < 3000; i++) { ids.push(`if:198.51.100.${i % 256}/${i}`); if (i % 500 === 0) t.ok(check(), `after ${ids.length} ids`); }
  t.ok(check(), 'after 8000 ids');
});

t.test('the process-wide order follows the subject keys', async (t) => {
  for (const id of ['ipg:zeta', 'ipg:alpha', 'if:192.0.2.1/2', 'if:192.0.2.1/10']) subjectKeyOf(id, id.startsWith('if:') ? 1 : 2);
  let n = subjectKeyOrder.update();
  t.equal(n, subjectKeyCount());
  const inOrder = () => Array.from(subjectKeyOrder.keyAtRank().subarray(0, n), subjectIdOfKey);
  t.same(inOrder(), [...inOrder()].sort(byString));
  subjectKeyOf('ipg:beta', 2);
  n = subjectKeyOrder.update();
  t.equal(n, subjectKeyCount(), 'a key made since is covered at the next update');
  t.same(inOrder(), ['if:192.0.2.1/10', 'if:192.0.2.1/2', 'ipg:alpha', 'ipg:beta', 'ipg:zeta']);
});
