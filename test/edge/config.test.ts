import t from 'tap';
import { loadEdgeConfig } from '../../edge/config';

t.test('defaults work on one machine and are frozen', async (t) => {
  const c = loadEdgeConfig({ env: {} });
  t.match(c, { udpHost: '::', udpPort: 2055, udpRecvBufferBytes: 8 * 1024 * 1024, dataDir: './data/edge', checkpointIntervalMs: 5000, closeGraceSec: 60, outboxMaxBytes: 512 * 1024 * 1024 });
  t.ok(Object.isFrozen(c));
});

t.test('JSON file overlaid with env vars', async (t) => {
  const files: Record<string, string> = { '/etc/fb.json': JSON.stringify({ edgeId: 'pop-fra1', tenantId: 'isp1', mqttUrl: 'mqtts://hub.example:8883', mqttPassword: 's3cret', udpPort: 9995 }) };
  const c = loadEdgeConfig({ env: { FLOWBILL_EDGE_CONFIG: '/etc/fb.json', FLOWBILL_EDGE_UDP_PORT: '4739' }, readFile: (p) => files[p] });
  t.match(c, { edgeId: 'pop-fra1', tenantId: 'isp1', mqttUrl: 'mqtts://hub.example:8883', mqttPassword: 's3cret', udpPort: 4739 });
});

t.test('a bad key fails fast naming the key', async (t) => {
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_UDP_PORT: '70000' } }), /udpPort \(FLOWBILL_EDGE_UDP_PORT\)=.*integer from 0 to 65535/);
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_ID: 'a/b' } }), /edgeId/);
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_CONFIG: 'x.json' }, readFile: () => '{"udpPrt": 1}' }), /udpPrt.*unknown key/);
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_CONFIG: 'x.json' }, readFile: () => '{"closeGraceSec": "soon"}' }), /closeGraceSec \(x.json\)/);
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_CONFIG: 'x.json' }, readFile: () => 'nope' }), /FLOWBILL_EDGE_CONFIG=x.json/);
});
