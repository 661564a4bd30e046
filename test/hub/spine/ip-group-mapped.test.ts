/**
 * Issue 12: an IPv4-mapped address in an IP group means the same thing at the edge and at the hub.
 * Against a real hub (every module, embedded broker) through its HTTP API: the operator creates a
 * group holding "::ffff:192.0.2.1/128"; the hub stores it as 192.0.2.1/32; an edge builds its
 * classifier from the config the hub pushes over MQTT and counts the flows of 192.0.2.1 (also an
 * exporter's mapped IPv6 form of it) for the group; a customer whose routed subnet is written either
 * way (192.0.2.0/24 or ::ffff:192.0.2.0/120) sees the group, a customer of ::/0 does not.
 */
import t from 'tap';
import { createHubModules } from '../../../hub/hub-modules';
import { edgeConfigCodec, type EdgeConfig } from '../../../proto/codec';
import { createClassifier, DIRECTION_IN, DIRECTION_OUT } from '../../../edge/classify/classifier';
import { flow } from '../../edge/helpers/flows';
import { startTestHub } from './hub-harness';

t.test('a mapped address in an IP group: same flows at the edge, same customer scope at the hub', async (t) => {
  const h = await startTestHub({ modules: (ctx) => createHubModules(ctx) });
  t.teardown(() => h.close());
  const ok = async (res: Promise<{ status: number; body: any }>, status = 201) => {
    const r = await res;
    if (r.status !== status) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await ok(h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP One' }));

  // The edge listens for its config before the group exists, as a running edge does.
  const { credentials } = await ok(h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' }));
  const edgeClient = await h.connect(credentials.username, credentials.password);
  const configs: EdgeConfig[] = [];
  edgeClient.on('message', (topic, payload) => { if (topic.endsWith('/config')) configs.push(edgeConfigCodec.decode(payload)); });
  await edgeClient.subscribeAsync(`flowbill/v1/${credentials.tenantId}/${credentials.edgeId}/config`, { qos: 1 });

  const created = await ok(h.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-mapped', prefixes: ['::ffff:192.0.2.1/128', '::ffff:192.0.2.1'] }));
  t.same(created.ipGroup.prefixes, ['192.0.2.1/32'], 'stored as the IPv4 host it is (both spellings are one entry)');
  const refused = await h.admin('POST', '/api/v1/operators/isp1/ip-groups', { name: 'typo', prefixes: ['::ffff:192.0.2.1/120', 'fe80::1%eth0', '010.0.0.1'] });
  t.equal(refused.status, 400);
  t.match(refused.body.error.message, /did you mean 192\.0\.2\.0\/24\?.*zone.*leading zeros/);

  const deadline = Date.now() + 10_000;
  let pushed: EdgeConfig | undefined;
  while (!(pushed = configs.find((c) => c.ipGroups.some((g) => g.name === 'cust-mapped'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!pushed) throw new Error('no config with the group reached the edge');
  t.same(pushed.ipGroups.find((g) => g.name === 'cust-mapped')!.prefixes, ['192.0.2.1/32'], 'the edge is sent the canonical entry');

  const classifier = createClassifier({ ...pushed, allInterfaces: false, interfaces: [] });
  t.same(classifier.configErrors, []);
  const hits = (src: string, dst: string) => classifier.classify(flow({ src, dst, inputIf: 0, outputIf: 0 })).map((x) => `${x.subjectId}:${x.direction}`);
  t.same(hits('198.51.100.7', '192.0.2.1'), [`ipg:cust-mapped:${DIRECTION_IN}`], 'IPv4 flow towards it: in');
  t.same(hits('2001:db8::7', '::ffff:192.0.2.1'), [`ipg:cust-mapped:${DIRECTION_IN}`], 'mapped IPv6 form towards it (an exporter\'s IPv6 fields): in');
  t.same(hits('::ffff:192.0.2.1', '2001:db8::7'), [`ipg:cust-mapped:${DIRECTION_OUT}`], 'mapped form from it: out');
  t.same(hits('198.51.100.7', '192.0.2.2'), [], 'the neighbour is not the group');

  // Customers: one per way of writing the routed subnet, and one whose space is all of IPv6.
  await ok(h.admin('POST', '/api/v1/operators/isp1/clients', { clientId: 'acme', name: 'ACME', email: 'noc@acme.example' }));
  const customers = [
    { username: 'acme-v4', ipAddress: '192.0.2.0/24', sees: true },
    { username: 'acme-mapped', ipAddress: '::ffff:192.0.2.0/120', sees: true },
    { username: 'acme-host', ipAddress: '::ffff:192.0.2.1', sees: true },
    { username: 'acme-v6', ipAddress: '::/0', sees: false },
  ];
  for (const [i, c] of customers.entries()) {
    await ok(h.admin('POST', '/api/v1/operators/isp1/services', { serviceId: `svc-${i}`, clientId: 'acme', type: 'dedicated', label: c.username }));
    const rec = await ok(h.admin('POST', '/api/v1/operators/isp1/access-records', { serviceId: `svc-${i}`, username: c.username, password: `${c.username}-secret-pw`, ipAddress: c.ipAddress }));
    if (c.ipAddress === '::ffff:192.0.2.0/120') t.equal(rec.record.ipAddress, '192.0.2.0/24', 'the customer subnet is stored as IPv4 too');
    const login = await ok(h.api('POST', '/api/v1/login', { username: c.username, password: `${c.username}-secret-pw`, operatorId: 'isp1' }), 200);
    const subjects = (await ok(h.api('GET', '/api/v1/customer/subjects', undefined, login.token), 200)).subjects.map((s: { subjectId: string }) => s.subjectId);
    t.same(subjects, c.sees ? ['ipg:cust-mapped'] : [], `customer ${c.ipAddress} ${c.sees ? 'sees' : 'does not see'} the group`);
  }
});
