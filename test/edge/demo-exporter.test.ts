import t from 'tap';
import { createDemoExporter, DEMO_IP_GROUPS, diurnalFactor } from '../../edge/demo/demo-exporter';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';

t.test('demo exporter → real UDP receiver and v9 decoder: every flow decoded and classified', async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: { udpHost: '127.0.0.1', udpPort: 0, sflowPort: 0, liveIntervalMs: 0 } });
  const edge = createEdge({ config, clock: systemClock, log: silentLogger, kv: createMemoryKvStore(), publish: false });
  const { udpPort } = await edge.start();
  await edge.applyCollectionConfig({ version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups: DEMO_IP_GROUPS });
  const demo = createDemoExporter({ host: '127.0.0.1', port: udpPort!, exporters: 3, intervalMs: 200, seed: 7 });
  await demo.start();
  await new Promise((r) => setTimeout(r, 700));
  await demo.stop();
  const sent = demo.stats();
  const deadline = Date.now() + 5000;
  while (edge.status().counters.flowsDecoded < sent.flows && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const s = edge.status();
  t.ok(sent.flows > 0);
  t.equal(s.counters.flowsDecoded, sent.flows, 'v9 template + data decoded, nothing held or lost');
  t.equal(s.counters.decodeErrors, 0);
  t.equal(s.counters.unclassifiedFlows, 0);
  t.equal(s.exporters.length, 3, `three exporters seen (${sent.exporters.join(', ')})`);
  t.ok(s.activeSubjects >= 3 + 3 * 4 - 1, `customer groups and router interfaces are subjects (${s.activeSubjects})`);
  await edge.stop();
});

t.test('day curve stays within [0.2, 1]', async (t) => {
  for (let h = 0; h < 24; h += 0.5) {
    const f = diurnalFactor(h * 3_600_000);
    if (f < 0.2 - 1e-9 || f > 1 + 1e-9) t.fail(`hour ${h}: ${f}`);
  }
  t.ok(diurnalFactor(4 * 3_600_000) < diurnalFactor(16 * 3_600_000));
});
