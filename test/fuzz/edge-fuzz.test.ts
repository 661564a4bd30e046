/**
 * Issue 8: hostile datagrams cannot stop the edge or corrupt what it counts for legitimate exporters.
 *
 * 20,000 structure-aware fuzzed datagrams (seed fixed, see datagram-mutator.ts) from 2,000 spoofed
 * exporter addresses go through createEdge's ingest() with the edge's timers (checkpoint, decoder
 * expiry, live top talkers, heartbeat) run on fake setInterval as the manual clock advances. Then:
 *  - nothing threw, no error was logged, the decoder's last-resort catch never fired;
 *  - every status counter is finite; the tables stay under the caps of edge/config.ts;
 *  - valid v5 and v9 traffic sent afterwards is in the outbox's batches to the byte.
 * A finding is minimized and saved under test/fuzz/regressions/ (replayed by regressions.test.ts).
 */
import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { legitTraffic } from './legit-traffic';
import { createDatagramFuzzer, defaultExporterPool, defaultInteropDir, loadInteropCorpus, type FuzzDatagram } from './datagram-mutator';
import { LEGIT_GROUP, minimize, saveRegression, startEdgeFuzzHarness, toHex, type Finding } from './edge-harness';

const SEED = Number(process.env.FUZZ_SEED ?? 8);
const COUNT = Number(process.env.FUZZ_DATAGRAMS ?? 20_000);
const FLUSH_EVERY = 500;
const STEP_MS = 25; // manual clock per datagram: 20,000 x 25 ms = 500 s, so buckets close during the fuzz
const T0 = Date.UTC(2026, 10, 23, 10, 2, 17);

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = loadInteropCorpus(defaultInteropDir(repoRoot));

t.test(`edge survives ${COUNT} fuzzed datagrams (seed ${SEED}, ${corpus.length} captures in the corpus) and still counts valid traffic to the byte`, async (t) => {
  const h = await startEdgeFuzzHarness({ startMs: T0 });
  const exporters = defaultExporterPool(2000);
  const fuzzer = createDatagramFuzzer({ seed: SEED, nowMs: () => h.clock.nowMs(), corpus, exporters });
  const history = new Map<string, FuzzDatagram[]>(); // per exporter, the last datagrams (state is per exporter)
  let reported = 0;
  const t0 = Date.now();
  let maxOpenBuckets = 0, maxSubjects = 0, maxExporters = 0;
  const origins = new Map<string, number>();

  const sinceTimers: FuzzDatagram[] = []; // every datagram since the timers last ran (a timer-time finding may come from any)

  async function report(d: FuzzDatagram, i: number, before: number, atTimers: boolean): Promise<void> {
    // Minimize and save the first few findings; the owners fix them.
    if (reported >= 3) return;
    reported++;
    const f: Finding = h.findings[before];
    const input = atTimers ? sinceTimers.slice() : [...(history.get(d.exporter) ?? [])].slice(-30);
    const nowMs = h.clock.nowMs() - (atTimers ? FLUSH_EVERY * STEP_MS : 0);
    const min = await minimize(nowMs, input.map((x) => ({ exporter: x.exporter, bytes: x.bytes })), f.kind, 120);
    const file = saveRegression(`edge-seed${SEED}-n${i}-${f.kind}`, {
      description: `edge-fuzz seed ${SEED} datagram ${i} (${d.origin}): ${f.message}`,
      nowMs, datagrams: min.map((x) => ({ exporter: x.exporter, hex: toHex(x.bytes) })), finding: f,
    });
    t.comment(`FINDING ${f.kind} at datagram ${i} (${d.origin}), saved ${file}:\n${f.stack ?? f.message}`);
  }

  for (let i = 0; i < COUNT; i++) {
    const d = fuzzer.next();
    const base = d.origin.split(/[:+#]/)[0];
    origins.set(base, (origins.get(base) ?? 0) + 1);
    const before = h.findings.length;
    let hist = history.get(d.exporter);
    if (!hist) history.set(d.exporter, hist = []);
    hist.push(d);
    if (hist.length > 30) hist.shift();
    sinceTimers.push(d);
    h.ingest(d.bytes, d.exporter);
    h.clock.advanceMs(STEP_MS);
    if (h.findings.length > before) await report(d, i, before, false);
    if ((i + 1) % FLUSH_EVERY === 0) {
      const beforeTimers = h.findings.length;
      await h.runTimers(FLUSH_EVERY * STEP_MS);
      if (h.findings.length > beforeTimers) await report(d, i, beforeTimers, true);
      sinceTimers.length = 0;
      const s = h.edge.status();
      maxOpenBuckets = Math.max(maxOpenBuckets, s.openBuckets);
      maxSubjects = Math.max(maxSubjects, s.activeSubjects);
      maxExporters = Math.max(maxExporters, s.exporters.length);
    }
  }
  const fuzzMs = Date.now() - t0;
  const s = h.edge.status();
  t.comment(`fuzz: ${COUNT} datagrams in ${fuzzMs} ms (${[...origins].map(([k, v]) => `${k} ${v}`).join(', ')}); decoded ${s.counters.flowsDecoded} flows, ` +
    `${s.counters.decodeErrors} decode errors, ${s.counters.flowsOutOfBounds} out of bounds, ${s.counters.templateMisses} template misses; ` +
    `peak open buckets ${maxOpenBuckets}, active subjects ${maxSubjects}, exporters ${maxExporters}; published ${h.published.status} status, ${h.published.live} live (${h.published.talkers} talkers), ${h.published.summaries} batches`);

  t.same(h.findings.map((f) => `${f.kind}: ${f.message}`), [], 'no throw, no error log, no decoder internal error, no bad counter');
  t.equal(s.counters.packetsReceived, COUNT, 'every datagram was counted as received');
  t.equal(s.counters.internalErrors ?? 0, 0, 'no internal error caught by the edge\'s guards');
  for (const [k, v] of Object.entries(s.counters)) t.ok(Number.isFinite(v) && v >= 0, `counter ${k} finite (${v})`);
  t.ok(s.counters.flowsDecoded > 0, 'the fuzz reached the aggregator (flows decoded)');
  t.ok(h.published.live > 0 && h.published.status > 0, 'heartbeat and live encoders ran on the timers');
  const cfg = h.config;
  t.ok(maxOpenBuckets <= cfg.maxOpenBuckets, `open buckets ${maxOpenBuckets} <= maxOpenBuckets ${cfg.maxOpenBuckets}`);
  t.ok(maxSubjects <= cfg.maxSubjects, `active subjects ${maxSubjects} <= maxSubjects ${cfg.maxSubjects}`);
  t.ok(maxExporters <= cfg.maxExporters, `exporters with state ${maxExporters} <= maxExporters ${cfg.maxExporters} (2,000 spoofed addresses sent)`);

  // ---- valid traffic afterwards: v5 from one exporter, v9 (template in every datagram) from another.
  const legitStart = h.findings.length;
  const nowMs = h.clock.nowMs();
  const legitSent = legitTraffic({ count: 60, nowMs, endMsOf: (i) => nowMs - 1000 - i * 10, v9SourceId: 7 });
  const { expectedBytes: expectedIn, expectedPackets } = legitSent;
  for (const d of legitSent.v5Datagrams) h.ingest(d, '192.0.2.250');
  for (const d of legitSent.v9Datagrams) h.ingest(d, '192.0.2.251');
  // Close every bucket: past the grace, then a final flush.
  await h.advance(400_000);
  await h.advance(6_000);
  const legit = (await h.outboxSummaries()).filter((x) => x.subjectId === `ipg:${LEGIT_GROUP}`);
  const bytesIn = legit.reduce((a, x) => a + x.bytesIn, 0);
  const packetsIn = legit.reduce((a, x) => a + x.packetsIn, 0);
  const flowsIn = legit.reduce((a, x) => a + x.flowsIn, 0);
  t.same(h.findings.slice(legitStart).map((f) => f.kind), [], 'no findings while counting valid traffic');
  t.equal(bytesIn, expectedIn, `valid traffic counted to the byte after the fuzz (${bytesIn} of ${expectedIn})`);
  t.equal(packetsIn, expectedPackets, 'packets too');
  t.equal(flowsIn, legitSent.expectedFlows, 'and flows (120)');
  t.equal(legit.reduce((a, x) => a + x.bytesOut, 0), 0, 'nothing out of the legit group');
  await h.close();
  t.same(h.findings.slice(legitStart).map((f) => f.kind), [], 'clean stop');
});
