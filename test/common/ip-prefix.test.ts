/**
 * Issue 12: the IP group grammar was parsed three times (edge classifier, hub IP-group validation,
 * hub customer scope) and only the scope mapped ::ffff: addresses. Now common/ip-prefix.ts is the one
 * grammar; this file proves the three places agree, through each place's own entry point:
 *   hub validation  createCollectionConfigStore().putGroup (what POST /ip-groups runs)
 *   edge            createClassifier(EdgeConfig) → classify(flow), with the raw entry and with the
 *                   hub's canonical text (what the hub pushes)
 *   customer scope  resolveVisibleSubjects (what /api/v1/customer/* runs)
 */
import t from 'tap';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { canonicalIpGroupEntry, formatIpEntry, normalizeAddressOrSubnet, parseIpAddress, parseIpEntry } from '../../common/ip-prefix';
import { createClassifier, defaultCollectionConfig, DIRECTION_IN } from '../../edge/classify/classifier';
import { createCollectionConfigStore } from '../../hub/edges/collection-config-store';
import { resolveVisibleSubjects } from '../../hub/access/customer-scope';
import type { AccessRecord } from '../../hub/access/access-model';
import { flow } from '../edge/helpers/flows';

/** Destination addresses every row is probed with: IPv4 as 4 bytes, IPv4-mapped and IPv6 as 16 bytes. */
const PROBES = [
  '192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.10', '192.0.2.20', '192.0.2.21', '192.0.2.255',
  '198.51.100.1', '10.0.0.1', '8.0.0.1', '1.2.3.4',
  '::ffff:192.0.2.1', '::ffff:192.0.2.10', '::ffff:10.0.0.1',
  '2001:db8::1', '2001:db8:ffff::1', 'fe80::1', '::1', '::102:304',
];

interface Row {
  input: string;
  /** The hub's canonical text, or what its refusal says. */
  hub: string | RegExp;
  /** For a refused entry: does the edge, reading it from a config anyway, still take it (host bits cleared)? */
  edgeReads?: boolean;
  /** The probes the edge counts for a group holding this entry (when it reads it). */
  matches?: string[];
}

const ALL_V4 = PROBES.filter((p) => !p.includes(':') || p.startsWith('::ffff:'));
const ALL_V6 = PROBES.filter((p) => p.includes(':') && !p.startsWith('::ffff:'));

const ROWS: Row[] = [
  // IPv4-mapped IPv6 is IPv4, everywhere: the address, the hex form, prefixes /96 and longer, range ends.
  { input: '::ffff:192.0.2.1/128', hub: '192.0.2.1/32', matches: ['192.0.2.1', '::ffff:192.0.2.1'] },
  { input: '::ffff:192.0.2.1', hub: '192.0.2.1/32', matches: ['192.0.2.1', '::ffff:192.0.2.1'] },
  { input: '::FFFF:C000:201', hub: '192.0.2.1/32', matches: ['192.0.2.1', '::ffff:192.0.2.1'] },
  { input: '::ffff:192.0.2.0/124', hub: '192.0.2.0/28', matches: ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.10', '::ffff:192.0.2.1', '::ffff:192.0.2.10'] },
  { input: '::ffff:0:0/96', hub: '0.0.0.0/0', matches: ALL_V4 },
  { input: '::ffff:192.0.2.10-::ffff:192.0.2.20', hub: '192.0.2.10-192.0.2.20', matches: ['192.0.2.10', '192.0.2.20', '::ffff:192.0.2.10'] },
  { input: '192.0.2.1-::ffff:192.0.2.9', hub: '192.0.2.1-192.0.2.9', matches: ['192.0.2.1', '192.0.2.2', '192.0.2.9', '::ffff:192.0.2.1'] },
  // Host bits: refused at the hub with the network meant; a config holding one anyway means that network.
  { input: '192.0.2.1/24', hub: /host bits are set \(did you mean 192\.0\.2\.0\/24\?\)/, edgeReads: true, matches: ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.10', '192.0.2.20', '192.0.2.21', '192.0.2.255', '::ffff:192.0.2.1', '::ffff:192.0.2.10'] },
  { input: '::ffff:192.0.2.1/120', hub: /did you mean 192\.0\.2\.0\/24\?/, edgeReads: true, matches: ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.10', '192.0.2.20', '192.0.2.21', '192.0.2.255', '::ffff:192.0.2.1', '::ffff:192.0.2.10'] },
  { input: '2001:db8::1/32', hub: /did you mean 2001:db8::\/32\?/, edgeReads: true, matches: ['2001:db8::1', '2001:db8:ffff::1'] },
  // Defaults: one per family; ::/0 does not hold mapped addresses (they are IPv4).
  { input: '0.0.0.0/0', hub: '0.0.0.0/0', matches: ALL_V4 },
  { input: '::/0', hub: '::/0', matches: ALL_V6 },
  // Leading zeros: octal in some tools (010 = 8), so refused rather than guessed.
  { input: '010.0.0.1', hub: /leading zeros/, edgeReads: false },
  { input: '192.000.2.1/24', hub: /leading zeros/, edgeReads: false },
  { input: '::ffff:192.0.2.01', hub: /IPv4 part.*leading zeros/, edgeReads: false },
  { input: '10.0.0.0/08', hub: /prefix length/, edgeReads: false },
  // Zone ids: a flow carries none.
  { input: 'fe80::1%eth0', hub: /zone/, edgeReads: false },
  { input: 'fe80::%eth0/64', hub: /zone/, edgeReads: false },
  // Whitespace around the entry and around "-" is ignored; inside an address it is not an address.
  { input: '  192.0.2.0/28\t', hub: '192.0.2.0/28', matches: ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.10', '::ffff:192.0.2.1', '::ffff:192.0.2.10'] },
  { input: '192.0.2.10 - 192.0.2.20', hub: '192.0.2.10-192.0.2.20', matches: ['192.0.2.10', '192.0.2.20', '::ffff:192.0.2.10'] },
  { input: '192.0.2.0 /24', hub: /not an IPv4 address/, edgeReads: false },
  // Ranges.
  { input: '192.0.2.20-192.0.2.10', hub: /range start is above its end/, edgeReads: false },
  { input: '192.0.2.1-2001:db8::1', hub: /one address family/, edgeReads: false },
  { input: '1.2.3.4-5.6.7.8-9.9.9.9', hub: /two addresses joined by "-"/, edgeReads: false },
  { input: '10.0.0.0/8-10.0.0.255', hub: /two addresses joined/, edgeReads: false },
  { input: '2001:db8::1-2001:db8::1', hub: '2001:db8::1-2001:db8::1', matches: ['2001:db8::1'] },
  // What ipaddr.js alone would take.
  { input: '::1.2.3.4', hub: /deprecated IPv4-compatible/, edgeReads: false },
  { input: '10', hub: /not an IP address, prefix or range/, edgeReads: false },
  { input: '10/8', hub: /"10\/8"/, edgeReads: false },
  { input: '0x7f.0.0.1', hub: /not an IPv4 address/, edgeReads: false },
  { input: '1.2.3', hub: /not an IPv4 address/, edgeReads: false },
  { input: '192.0.2.0/24/1', hub: /prefix length/, edgeReads: false },
  { input: '', hub: /empty/, edgeReads: false },
  { input: '2001:DB8:0:0::/32', hub: '2001:db8::/32', matches: ['2001:db8::1', '2001:db8:ffff::1'] },
];

const config = (prefixes: string[]) => ({ ...defaultCollectionConfig(), allInterfaces: false, ipGroups: [{ name: 'g', prefixes }] });

/** The probes a classifier built from these entries counts for group g (as destination), and its config errors. */
function edgeView(prefixes: string[]): { matches: string[]; errors: readonly string[] } {
  const c = createClassifier(config(prefixes));
  const matches = PROBES.filter((p) => c.classify(flow({ src: '203.0.113.250', dst: p, inputIf: 0, outputIf: 0 })).some((h) => h.subjectId === 'ipg:g' && h.direction === DIRECTION_IN));
  return { matches, errors: c.configErrors };
}

/** Whether the hub shows group g (these entries) to a customer whose record holds this address or subnet. */
function scopeSees(prefixes: string[], customerIp: string): boolean {
  const record: AccessRecord = {
    operatorId: 'isp1', clientId: 'c', recordId: 'r', serviceId: 's', username: 'u', notes: '', enabled: true,
    showPasswordInClientArea: false, createdAtMs: 0, updatedAtMs: 0, ipAddress: customerIp,
  };
  return resolveVisibleSubjects([record], { subjects: [], ipGroups: [{ name: 'g', prefixes }], billingGroups: new Map() }).has('ipg:g');
}

t.test('the three places agree on a table of tricky entries', async (t) => {
  const store = createCollectionConfigStore(createMemoryKvStore());
  await store.putGroup('isp1', 'g', ['192.0.2.0/24'], 'create');
  for (const row of ROWS) {
    const name = JSON.stringify(row.input);
    // Hub validation, through the store that POST and PUT /ip-groups use.
    let canonical: string | undefined;
    try {
      canonical = (await store.putGroup('isp1', 'g', [row.input], 'replace')).prefixes[0];
    } catch (err) {
      t.type(row.hub, RegExp, `${name}: refused by the hub (${(err as Error).message})`);
      t.match((err as Error).message, row.hub, `${name}: the hub says why`);
      t.equal((err as { code?: string }).code, 'VALIDATION_FAILED');
    }
    if (typeof row.hub === 'string') t.equal(canonical, row.hub, `${name}: hub canonical text`);

    // Edge, reading the entry as written (a hand-written or older config).
    const raw = edgeView([row.input]);
    const reads = typeof row.hub === 'string' || row.edgeReads === true;
    t.equal(raw.errors.length === 0, reads, `${name}: the edge ${reads ? 'reads' : 'refuses'} it${raw.errors.length ? ` (${raw.errors[0]})` : ''}`);
    if (!reads) continue;
    t.same(raw.matches, row.matches, `${name}: the flows the edge counts`);

    // Edge, reading what the hub pushes (the canonical text of the network the entry means).
    const cleared = parseIpEntry(row.input, { hostBits: 'clear' });
    const meant = canonical ?? (cleared.ok ? formatIpEntry(cleared.value) : '');
    t.same(edgeView([meant]).matches, row.matches, `${name}: the hub's text ${meant} counts the same flows`);

    // Customer scope: a customer whose own address or subnet is exactly one counted probe sees the
    // group only when the group is that single address; the covering /0 of each family sees it; and
    // never does the hub show the group to a customer when the edge counts an address outside it.
    for (const customer of ['0.0.0.0/0', '::/0', '::ffff:0:0/96', '192.0.2.0/24', '::ffff:192.0.2.0/120', '192.0.2.1', '::ffff:192.0.2.1', '2001:db8::/32']) {
      const sees = scopeSees([meant], customer);
      const customerView = edgeView([customer]).matches; // the customer's own space, as the edge reads it
      const everyCountedInside = row.matches!.every((p) => customerView.includes(p));
      t.equal(sees, everyCountedInside, `${name}: customer ${customer} ${sees ? 'sees' : 'does not see'} it, and the edge counts ${everyCountedInside ? 'only' : 'not only'} addresses of that customer for it`);
      t.equal(scopeSees([row.input], customer), sees, `${name}: the raw entry scopes like the hub's text for ${customer}`);
    }
  }
});

t.test('a mapped address in an IP group: the edge counts the same flows and the hub shows it to the same customer', async (t) => {
  const mapped = edgeView(['::ffff:192.0.2.1']);
  const plain = edgeView(['192.0.2.1/32']);
  t.same(mapped.matches, ['192.0.2.1', '::ffff:192.0.2.1'], 'the IPv4 flow and an exporter\'s mapped IPv6 form of it');
  t.same(mapped.matches, plain.matches);
  for (const customer of ['192.0.2.1', '::ffff:192.0.2.1', '192.0.2.0/24', '::ffff:192.0.2.0/120', '0.0.0.0/0']) {
    t.ok(scopeSees(['::ffff:192.0.2.1'], customer), `customer ${customer} sees the mapped group`);
    t.ok(scopeSees(['192.0.2.1/32'], customer), `customer ${customer} sees the IPv4 group`);
  }
  for (const customer of ['::/0', '::ffff:192.0.2.2', '2001:db8::/32']) {
    t.notOk(scopeSees(['::ffff:192.0.2.1'], customer), `customer ${customer} does not see it`);
  }
  // Source side too: a flow FROM the mapped address counts "out" for the group.
  const c = createClassifier(config(['::ffff:192.0.2.1']));
  t.same(c.classify(flow({ src: '::ffff:192.0.2.1', dst: '2001:db8::9', inputIf: 0, outputIf: 0 })).map((h) => `${h.subjectId}:${h.direction}`), ['ipg:g:1']);
});

t.test('customer address or subnet: bare single addresses, no ranges, mapped addresses as IPv4', async (t) => {
  t.match(normalizeAddressOrSubnet('::ffff:192.0.2.0/120'), { ok: true, text: '192.0.2.0/24' });
  t.match(normalizeAddressOrSubnet('2001:db8::1/128'), { ok: true, text: '2001:db8::1' });
  t.match(normalizeAddressOrSubnet('192.0.2.1-192.0.2.9'), { ok: false, error: /range is not accepted here/ });
  t.match(parseIpAddress('::ffff:192.0.2.1'), { ok: true, value: { family: 'ipv4' } });
  t.equal(canonicalIpGroupEntry('192.0.2.7'), '192.0.2.7/32', 'a bare address in a group is a /32');
});
