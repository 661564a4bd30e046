/**
 * Every input a fuzzer once broke the edge with (test/fuzz/regressions/*.json, minimized and saved
 * by edge-fuzz.test.ts / bench/fuzz-edge.ts), replayed into a fresh edge: none may still produce a
 * finding (a throw, an error log line, the decoder's last-resort catch, a non-finite counter).
 */
import t from 'tap';
import { fromHex, loadRegressions, replay } from './edge-harness';

const fixtures = loadRegressions();
if (fixtures.length === 0) t.pass('no regression fixtures saved yet');
for (const { file, fixture } of fixtures) {
  t.test(`${file}: ${fixture.description.slice(0, 160)}`, async (t) => {
    const findings = await replay(fixture.nowMs, fixture.datagrams.map((d) => ({ exporter: d.exporter, bytes: fromHex(d.hex) })));
    t.same(findings.map((f) => `${f.kind}: ${f.message}`), [], `no finding (was: ${fixture.finding.kind}: ${fixture.finding.message.slice(0, 200)})`);
  });
}
