/**
 * The Subjects page's API (hub/edges/subject-routes.ts): operator interface names (validated, bounded,
 * overriding the exporter's), the interface list with selection, and the IP group preview (the hub's
 * one grammar, overlaps with other groups and within the list).
 */
import t from 'tap';
import { startTestHub } from '../spine/hub-harness';
import { createHubModules } from '../../../hub/hub-modules';

t.test('interface names, interfaces and the IP group preview', async (t) => {
  const h = await startTestHub({ modules: createHubModules });
  t.teardown(() => h.close());
  t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'isp1' })).status, 201);
  const op = '/api/v1/operators/isp1';

  t.equal((await h.admin('PUT', `${op}/interface-selection`, { allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 3 }] })).status, 200);
  let res = await h.admin('PUT', `${op}/interface-names`, { exporter: '192.0.2.1', ifIndex: 3, name: '  Transit  A ' });
  t.equal(res.status, 200);
  t.same(res.body, { exporter: '192.0.2.1', ifIndex: 3, name: 'Transit A' });
  for (const [body, why] of [
    [{ exporter: '192.0.2.1', ifIndex: 3, name: 'x'.repeat(65) }, 'longer than 64'],
    [{ exporter: '192.0.2.1', ifIndex: 3, name: 'bell\u0007' }, 'a control character'],
    [{ exporter: 'router1', ifIndex: 3, name: 'a' }, 'exporter not an address'],
    [{ exporter: '192.0.2.1', ifIndex: -1, name: 'a' }, 'negative ifIndex'],
  ] as const) {
    res = await h.admin('PUT', `${op}/interface-names`, body);
    t.equal(res.status, 400, why);
    t.equal(res.body.error.code, 'VALIDATION_FAILED', why);
  }

  res = await h.admin('GET', `${op}/interfaces`);
  t.equal(res.status, 200);
  t.equal(res.body.allInterfaces, false);
  t.same(res.body.exporters, [{
    address: '192.0.2.1', protocol: '', edgeNames: [],
    interfaces: [{ ifIndex: 3, name: 'Transit A', operatorName: 'Transit A', exporterName: '', exporterDescription: '', hasTraffic: false, selected: true, subjectId: 'if:192.0.2.1/3' }],
  }]);
  // An empty name removes the operator's name.
  t.equal((await h.admin('PUT', `${op}/interface-names`, { exporter: '192.0.2.1', ifIndex: 3, name: '' })).status, 200);
  t.equal((await h.admin('GET', `${op}/interfaces`)).body.exporters[0].interfaces[0].name, '');

  t.equal((await h.admin('POST', `${op}/ip-groups`, { name: 'cust-a', prefixes: ['10.1.0.0/16'] })).status, 201);
  res = await h.admin('POST', `${op}/ip-groups/preview`, { name: 'cust-b', prefixes: ['10.1.2.0/24', '10.9.0.1/16', '192.0.2.10-192.0.2.20', '192.0.2.15'] });
  t.equal(res.status, 200);
  t.equal(res.body.valid, false);
  t.equal(res.body.entries[0].canonical, '10.1.2.0/24');
  t.match(res.body.entries[1].error, /10\.9\.0\.1\/16/, 'host bits refused, the entry named');
  t.same(res.body.overlaps, [
    { entry: '192.0.2.15/32', group: 'cust-b', groupEntry: '192.0.2.10-192.0.2.20' },
    { entry: '10.1.2.0/24', group: 'cust-a', groupEntry: '10.1.0.0/16' },
  ]);
  t.same(res.body.matchedAddresses, []);
  t.equal(res.body.addressesLookedAt, 0);
  // Editing a group does not flag its own stored entries.
  res = await h.admin('POST', `${op}/ip-groups/preview`, { name: 'cust-a', prefixes: ['10.1.0.0/16'] });
  t.same(res.body.overlaps, []);
  t.equal(res.body.valid, true);
});

t.test('interface labels on the series carry the operator\'s name, else the exporter\'s', async (t) => {
  const { withInterfaceLabels } = await import('../../../hub/edges/interface-labels');
  const subject = (subjectId: string, kind: 'interface' | 'ip_group', label: string) => ({ subjectId, kind, label, firstSeenSec: 0, lastSeenSec: 1 });
  const series = {
    readSeries: async () => [],
    reportedBucketCount: async () => 0,
    readSlotColumns: async () => {},
    listSubjects: async () => [
      subject('if:192.0.2.1/1', 'interface', '192.0.2.1 ifIndex 1'), subject('if:192.0.2.1/2', 'interface', '192.0.2.1 ifIndex 2'),
      subject('if:192.0.2.1/3', 'interface', '192.0.2.1 ifIndex 3'), subject('ipg:cust-a', 'ip_group', 'cust-a'),
    ],
  };
  const exporters = [{ address: '192.0.2.1', interfaceNames: [{ ifIndex: 1, name: 'Gi0/1', description: 'x' }, { ifIndex: 2, name: '', description: 'Peering\u0007 IX' }] }];
  const labelled = withInterfaceLabels(series, {
    registry: { listEdges: async () => [{ edgeId: 'e1', revoked: false }, { edgeId: 'e2', revoked: true }] as never },
    status: { view: (id: string) => ({ exporters: id === 'e1' ? exporters : [] }) as never },
    names: { list: async () => [{ exporter: '192.0.2.1', ifIndex: 1, name: 'Transit A' }] },
  });
  t.same((await labelled.listSubjects('op')).map((s) => s.label), ['Transit A (192.0.2.1 ifIndex 1)', 'Peering IX (192.0.2.1 ifIndex 2)', '192.0.2.1 ifIndex 3', 'cust-a']);
});
