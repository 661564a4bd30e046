/**
 * The classifier's caches (last exporter, direct-mapped (exporter, ifIndex) cache in front of the
 * per-exporter maps) never change an answer: random flows over many exporters and ifIndexes (more
 * pairs than the direct cache has slots, so slots are overwritten) classify to exactly the hits the
 * rules give, with all_interfaces and with a listed subset, one exporter string object per datagram
 * (as the decoder hands them out) or a fresh string per record.
 */
import t from 'tap';
import fc from 'fast-check';
import { createClassifier, defaultCollectionConfig, DIRECTION_IN } from '../../../edge/classify/classifier';
import { flow } from '../helpers/flows';

// Small ifIndexes, the same ones 4096 and 8192 apart (they share a direct-cache slot), and 2^32 - 1.
const ifIndexArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }).map((i) => i + 4096), fc.integer({ min: 0, max: 40 }).map((i) => i + 8192), fc.constant(2 ** 32 - 1));
const exporters = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);

t.test('cached interface hits equal the rules', async (t) => {
  let records = 0;
  fc.assert(fc.property(
    fc.boolean(),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 39 }), ifIndexArb), { maxLength: 30 }),
    fc.array(fc.record({ exporter: fc.integer({ min: 0, max: 39 }), inputIf: ifIndexArb, outputIf: ifIndexArb, fresh: fc.boolean() }), { minLength: 1000, maxLength: 3000 }),
    (allInterfaces, listedPairs, flows) => {
      const listed = new Set(listedPairs.map(([e, i]) => `${exporters[e]}/${i}`));
      const c = createClassifier({ ...defaultCollectionConfig(), allInterfaces, interfaces: listedPairs.map(([e, i]) => ({ exporter: exporters[e], ifIndex: i })) });
      const counts = (e: string, i: number) => i !== 0 && (allInterfaces || listed.has(`${e}/${i}`));
      for (const f of flows) {
        records++;
        const exporter = f.fresh ? `192.0.2.${f.exporter + 1}` + '' : exporters[f.exporter];
        const hits = c.classify(flow({ exporter, inputIf: f.inputIf, outputIf: f.outputIf, src: '198.51.100.1', dst: '203.0.113.1' }));
        const want: string[] = [];
        if (counts(exporter, f.inputIf)) want.push(`if:${exporter}/${f.inputIf}:in`);
        if (counts(exporter, f.outputIf)) want.push(`if:${exporter}/${f.outputIf}:out`);
        const got = hits.map((h) => `${h.subjectId}:${h.direction === DIRECTION_IN ? 'in' : 'out'}`);
        if (got.join(',') !== want.join(',')) throw new Error(`${exporter} ${f.inputIf}/${f.outputIf}: got ${got}, want ${want}`);
      }
    },
  ), { numRuns: 60, seed: 13 });
  t.ok(records > 10_000, `${records} records classified`);
});
