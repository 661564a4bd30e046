/**
 * Issue 8, decoder tables: spoofed exporters, domains, template ids, samplers and held data can only
 * fill the decoder up to its caps; beyond them the least recently used entry goes and is counted in
 * tableEvictions, and the exporters that keep sending keep their state.
 */
import t from 'tap';
import { captureWarnings } from '../../helpers/capture-logger';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import { ip4, ipfixMessage, ipfixOptionsTemplate, ipfixTemplate, set, u32, v5Packet, v9Packet, v9Template } from './packet-builder';

const captureLogger = captureWarnings;

const T0 = 1_700_000_000;
const TEMPLATE: Array<[number, number]> = [[8, 4], [12, 4], [1, 4], [2, 4]];
const record = (octets: number) => [...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...u32(octets), ...u32(1)];

/** A real router: template 256 and one record, v9 source id 0. */
function routerDatagram(sequence: number): Uint8Array {
  return v9Packet({ uptimeMs: 1000, unixSecs: T0, sequence, sourceId: 0 }, set(0, v9Template(256, TEMPLATE)), set(256, record(100)));
}

const templatesOf = (d: ReturnType<typeof createFlowDecoder>) => d.exporters().reduce((s, e) => s + e.templates, 0);

t.test('20,000 spoofed exporters leave at most maxExporters; the router that keeps sending stays', async (t) => {
  const { log, warnings } = captureLogger();
  const d = createFlowDecoder({ log }); // default maxExporters 10,000
  let now = 0;
  d.decode(routerDatagram(1), 'router', now++);
  const spoofed = v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, set(0, v9Template(256, TEMPLATE)));
  for (let i = 0; i < 20_000; i++) {
    // a template from a spoofed source each
    d.decode(spoofed, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, now++);
    if (i % 1000 === 0) d.decode(routerDatagram(2 + i / 1000), 'router', now++);
  }
  const exporters = d.exporters();
  t.equal(exporters.length, 10_000);
  t.ok(exporters.some((e) => e.address === 'router' && e.templates === 1), 'the router kept its state and template');
  t.equal(d.counters().tableEvictions, 20_001 - 10_000);
  t.equal(templatesOf(d), 10_000);
  const evictionLines = warnings.filter((w) => w.obj.kind === 'exporter');
  t.equal(evictionLines.length, 1, 'logged once per kind');
  // and the router still decodes with the template it sent before the flood
  const out = d.decode(v9Packet({ uptimeMs: 1000, unixSecs: T0, sequence: 30, sourceId: 0 }, set(256, record(7))), 'router', now++);
  t.same(out.map((r) => r.bytes), [7]);
});

t.test('the exporter silent the longest is evicted first (lastSeenMs)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxExporters: 3 });
  const v5 = v5Packet({ uptimeMs: 1, unixSecs: T0, sequence: 0 }, []);
  d.decode(v5, 'a', 1);
  d.decode(v5, 'b', 2);
  d.decode(v5, 'c', 3);
  d.decode(v5, 'a', 4); // a is recent again: b is now the longest silent
  d.decode(v5, 'd', 5);
  t.same(d.exporters().map((e) => e.address).sort(), ['a', 'c', 'd']);
  d.decode(v5, 'e', 6);
  t.same(d.exporters().map((e) => e.address).sort(), ['a', 'd', 'e']);
  t.equal(d.counters().tableEvictions, 2);
});

t.test('expire(now) forgets exporters silent longer than exporterIdleMs, with templates and held data', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, exporterIdleMs: 60_000, pendingHoldMs: 1_000_000 });
  d.decode(routerDatagram(1), 'old', 0);
  // held data (no template yet in domain 9) for the old exporter
  d.decode(v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 2, sourceId: 9 }, set(256, record(5))), 'old', 0);
  d.decode(routerDatagram(1), 'new', 50_000);
  d.expire(60_000);
  t.equal(d.exporters().length, 2, 'not idle yet');
  d.expire(60_001);
  t.same(d.exporters().map((e) => e.address), ['new']);
  t.equal(d.counters().tableEvictions, 1);
  t.equal(d.counters().pendingExpired, 1, 'its held data set is dropped and counted');
  // it comes back as a fresh exporter: the old template is gone
  const out = d.decode(v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 3, sourceId: 0 }, set(256, record(5))), 'old', 70_000);
  t.same(out, []);
  t.equal(d.counters().templateMisses, 2);
});

t.test('20,000 template ids from one exporter leave at most maxTemplatesPerExporter; the used one stays', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log }); // default 1024
  let now = 0;
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(2, ipfixTemplate(256, TEMPLATE))), 'r', now++);
  let seq = 0;
  for (let i = 0; i < 20_000; i++) {
    // 4 templates per message over 2 domains; ids cycle through 257..65535
    const id = 257 + (i % 65_000);
    d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 + (i & 1) }, set(2, ipfixTemplate(id, [[1, 4], [2, 4 + (i % 5)]]))), 'r', now++);
    if (i % 500 === 0) d.decode(ipfixMessage({ exportSecs: T0, sequence: seq++, domain: 1 }, set(256, record(1))), 'r', now++);
  }
  t.equal(templatesOf(d), 1024);
  t.equal(d.counters().tableEvictions, 20_001 - 1024);
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: seq, domain: 1 }, set(256, record(42))), 'r', now++);
  t.same(out.map((r) => r.bytes), [42], 'template 256, used every 500 datagrams, was not evicted');
});

t.test('one datagram with thousands of templates is bounded by the cap too', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxTemplatesPerExporter: 100 });
  const body = Array.from({ length: 7000 }, (_, i) => ipfixTemplate(256 + i, [[1, 4]])).flat();
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(2, body)), 'r', 0);
  t.equal(templatesOf(d), 100);
  t.equal(d.counters().tableEvictions, 6900);
});

t.test('20,000 spoofed v9 source ids / IPFIX domains leave at most maxDomainsPerExporter (256)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  for (let i = 0; i < 20_000; i++) {
    const datagram = i & 1
      ? v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: i }, set(0, v9Template(256, TEMPLATE)))
      : ipfixMessage({ exportSecs: T0, sequence: 0, domain: i }, set(2, ipfixTemplate(256, TEMPLATE)));
    d.decode(datagram, 'r', i);
  }
  // one template per domain: the template count shows the domain count
  t.equal(templatesOf(d), 256);
  t.equal(d.counters().tableEvictions, 20_000 - 256);
});

t.test('domains over all exporters are capped (maxDomains)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxDomains: 1000 });
  for (let i = 0; i < 3000; i++) {
    for (const domain of [1, 2]) {
      d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain }, set(2, ipfixTemplate(256, TEMPLATE))), `e${i}`, i);
    }
  }
  t.equal(d.exporters().length, 3000);
  t.equal(templatesOf(d), 1000);
  t.equal(d.counters().tableEvictions, 6000 - 1000);
});

t.test('template memory over all exporters is capped (maxTemplateBytes)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxTemplateBytes: 1_000_000 });
  // 1000-field templates: ~13 KB each estimated
  const fields: Array<[number, number]> = Array.from({ length: 1000 }, () => [210, 1]);
  const big = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(2, ipfixTemplate(256, fields)));
  for (let i = 0; i < 500; i++) d.decode(big, `e${i}`, i);
  const kept = templatesOf(d);
  t.ok(kept > 0 && kept <= 1_000_000 / (1000 * 12), `${kept} templates kept`);
  t.equal(d.counters().tableEvictions, 500 - kept);
});

t.test('sampler ids per domain are capped (maxSamplersPerDomain)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxSamplersPerDomain: 1024 });
  const opt = set(3, ipfixOptionsTemplate(500, 1, [[302, 4], [34, 4]]));
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, opt), 'r', 0);
  for (let i = 0; i < 50; i++) {
    const records = Array.from({ length: 100 }, (_, k) => [...u32(i * 100 + k), ...u32(10)]).flat();
    d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(500, records)), 'r', 0);
  }
  t.equal(d.counters().tableEvictions, 5000 - 1024);
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
    set(2, ipfixTemplate(400, [[302, 4], [1, 4]])), set(400, [...u32(4999), ...u32(3), ...u32(0), ...u32(3)])), 'r', 0);
  t.same(out.map((r) => r.samplingRate), [10, 1], 'the newest sampler is known, the oldest was evicted');
});

t.test('held data is capped by bytes over all exporters (maxPendingBytes)', async (t) => {
  const { log, warnings } = captureLogger();
  const d = createFlowDecoder({ log, maxPendingBytes: 100_000 });
  const records = Array.from({ length: 62 }, () => record(1)).flat(); // 992 bytes of held data per set
  const early = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(256, records));
  for (let i = 0; i < 2000; i++) d.decode(early, `e${i}`, 0);
  t.equal(d.counters().templateMisses, 2000);
  t.equal(d.counters().pendingExpired, 2000 - 100, 'only what fits in 100 kB is held');
  t.ok(warnings.some((w) => (w.obj as { maxPendingBytes?: number }).maxPendingBytes === 100_000));
  // the held sets are the first 100 exporters'; their templates release them
  let released = 0;
  const template = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(2, ipfixTemplate(256, TEMPLATE)));
  for (let i = 0; i < 2000; i++) released += d.decode(template, `e${i}`, 1).length;
  t.equal(released, 100 * 62);
  // and once they are released the space is free again
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 2 }, set(256, records)), 'late', 2);
  t.equal(d.counters().pendingExpired, 1900);
});

t.test('an exporter over the byte cap makes room from its own oldest held data first', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxPendingBytes: 3000 });
  const records = Array.from({ length: 62 }, (_, k) => record(k)).flat();
  for (let i = 0; i < 5; i++) d.decode(v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: i, sourceId: 0 }, set(256 + i, records)), 'r', 0);
  t.equal(d.counters().pendingExpired, 2);
  let out = 0;
  for (let i = 0; i < 5; i++) out += d.decode(v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 9, sourceId: 0 }, set(0, v9Template(256 + i, TEMPLATE))), 'r', 1).length;
  t.equal(out, 3 * 62, 'the 3 newest sets were kept');
});
