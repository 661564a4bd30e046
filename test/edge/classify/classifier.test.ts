import t from 'tap';
import { createClassifier, defaultCollectionConfig, DIRECTION_IN } from '../../../edge/classify/classifier';
import { createPrefixTrie } from '../../../edge/classify/prefix-trie';
import { ipEntryPrefixes, parseIpGroupEntry, rangeToPrefixes } from '../../../common/ip-prefix';
import { flow, ip } from '../helpers/flows';
import type { EdgeConfig } from '../../../proto/codec';

function cfg(over: Partial<EdgeConfig>): EdgeConfig {
  return { ...defaultCollectionConfig(), allInterfaces: false, ...over };
}
/** One IP group entry → the prefixes the edge puts in its trie (what the classifier does with config). */
const parsePrefixEntry = (entry: string) => ipEntryPrefixes(parseIpGroupEntry(entry));
const names = (hits: readonly { subjectId: string; direction: number }[]) => hits.map((h) => `${h.subjectId}:${h.direction === DIRECTION_IN ? 'in' : 'out'}`);

t.test('prefix trie: longest prefix wins, IPv4 and IPv6 kept apart', async (t) => {
  const trie = createPrefixTrie<string>();
  for (const [p, v] of [['10.0.0.0/8', 'a'], ['10.1.0.0/16', 'b'], ['10.1.2.0/24', 'c'], ['0.0.0.0/0', 'default4'], ['2001:db8::/32', 'v6'], ['2001:db8:1::/48', 'v6b']] as const) {
    const [parsed] = parsePrefixEntry(p);
    trie.insert(parsed.bytes, parsed.prefixLen, v);
  }
  t.equal(trie.lookup(ip('10.1.2.3')), 'c');
  t.equal(trie.lookup(ip('10.1.3.3')), 'b');
  t.equal(trie.lookup(ip('10.2.0.1')), 'a');
  t.equal(trie.lookup(ip('11.0.0.1')), 'default4');
  t.equal(trie.lookup(ip('2001:db8:1::5')), 'v6b');
  t.equal(trie.lookup(ip('2001:db8:2::5')), 'v6');
  t.equal(trie.lookup(ip('2001:db9::1')), undefined, 'no IPv6 default: the IPv4 /0 does not leak into IPv6');
  t.equal(trie.prefixCount, 6);
});

t.test('host bits are masked, bare addresses are host prefixes, garbage is rejected by name', async (t) => {
  t.same(parsePrefixEntry('192.0.2.77/24').map((p) => [Array.from(p.bytes), p.prefixLen]), [[[192, 0, 2, 0], 24]]);
  t.equal(parsePrefixEntry('2001:db8::1')[0].prefixLen, 128);
  t.throws(() => parsePrefixEntry('10/8'), /10\/8/);
  t.throws(() => parsePrefixEntry('192.0.2.0/33'), /prefix length/);
  t.throws(() => parsePrefixEntry('192.0.2.9-192.0.2.1'), /above its end/);
  t.throws(() => parsePrefixEntry('192.0.2.1-2001:db8::1'), /famil/);
});

t.test('ranges expand to the minimal exact CIDR cover', async (t) => {
  const fmt = (s: string) => parsePrefixEntry(s).map((p) => `${p.bytes.join('.')}/${p.prefixLen}`);
  t.same(fmt('192.0.2.10-192.0.2.20'), ['192.0.2.10/31', '192.0.2.12/30', '192.0.2.16/30', '192.0.2.20/32']);
  t.same(fmt('10.0.0.0-10.0.255.255'), ['10.0.0.0/16']);
  t.same(fmt('0.0.0.0-255.255.255.255'), ['0.0.0.0/0']);
  const v6 = rangeToPrefixes(ip('2001:db8::'), ip('2001:db8::ffff:ffff:ffff:ffff'));
  t.same(v6.map((p) => p.prefixLen), [64]);
  // Every address of a random range is covered, its neighbours are not.
  const trie = createPrefixTrie<boolean>();
  for (const p of parsePrefixEntry('198.51.100.3-198.51.101.250')) trie.insert(p.bytes, p.prefixLen, true);
  t.equal(trie.lookup(ip('198.51.100.2')), undefined);
  t.equal(trie.lookup(ip('198.51.100.3')), true);
  t.equal(trie.lookup(ip('198.51.101.0')), true);
  t.equal(trie.lookup(ip('198.51.101.250')), true);
  t.equal(trie.lookup(ip('198.51.101.251')), undefined);
});

t.test('interface subjects: input → in, output → out, ifIndex 0 is none, list filters', async (t) => {
  const all = createClassifier(defaultCollectionConfig());
  t.same(names(all.classify(flow({ inputIf: 3, outputIf: 7 }))), ['if:192.0.2.1/3:in', 'if:192.0.2.1/7:out']);
  t.same(names(all.classify(flow({ inputIf: 0, outputIf: 7 }))), ['if:192.0.2.1/7:out']);
  t.same(names(all.classify(flow({ inputIf: 0, outputIf: 0 }))), [], 'unclassified');
  const listed = createClassifier(cfg({ interfaces: [{ exporter: '192.0.2.1', ifIndex: 7 }] }));
  t.same(names(listed.classify(flow({ inputIf: 3, outputIf: 7 }))), ['if:192.0.2.1/7:out']);
  t.same(names(listed.classify(flow({ exporter: '192.0.2.2', inputIf: 7, outputIf: 3 }))), [], 'other exporter, same ifIndex');
});

t.test('IP groups: dst in group → in, src → out, inside one group → both, LPM between groups', async (t) => {
  const c = createClassifier(cfg({
    ipGroups: [
      { name: 'cust-a', prefixes: ['203.0.113.0/24', '2001:db8:a::/48'] },
      { name: 'cust-b', prefixes: ['203.0.113.128/25', '198.51.100.10-198.51.100.20'] },
      { name: 'bad name!', prefixes: ['10.0.0.0/8'] },
      { name: 'cust-c', prefixes: ['not-an-ip', '192.0.2.0/24'] },
    ],
  }));
  t.equal(c.configErrors.length, 2, 'bad group name and bad prefix reported, rest kept');
  t.same(names(c.classify(flow({ src: '8.8.8.8', dst: '203.0.113.5', inputIf: 0, outputIf: 0 }))), ['ipg:cust-a:in']);
  t.same(names(c.classify(flow({ src: '8.8.8.8', dst: '203.0.113.200', inputIf: 0, outputIf: 0 }))), ['ipg:cust-b:in'], 'longer prefix wins');
  t.same(names(c.classify(flow({ src: '198.51.100.15', dst: '8.8.8.8', inputIf: 0, outputIf: 0 }))), ['ipg:cust-b:out']);
  t.same(names(c.classify(flow({ src: '203.0.113.1', dst: '203.0.113.2', inputIf: 0, outputIf: 0 }))), ['ipg:cust-a:in', 'ipg:cust-a:out']);
  t.same(names(c.classify(flow({ src: '2001:db8:a::1', dst: '2001:4860::1', inputIf: 0, outputIf: 0 }))), ['ipg:cust-a:out']);
  t.same(names(c.classify(flow({ src: '192.0.2.9', dst: '8.8.8.8', inputIf: 1, outputIf: 0 }))), ['ipg:cust-c:out'], 'interfaces not listed');
});

t.test('maxSubjects: spoofed (exporter, ifIndex) pairs cannot grow the subject table past the cap', async (t) => {
  const { subjectKeyCount } = await import('../../../edge/classify/subject-keys');
  const cap = subjectKeyCount() + 100;
  const c = createClassifier(defaultCollectionConfig(), { maxSubjects: cap });
  let hits = 0;
  for (let i = 0; i < 5000; i++) {
    hits += c.classify(flow({ exporter: `10.${(i >> 8) & 255}.${i & 255}.1`, inputIf: 1 + (i % 7), outputIf: 0 })).length;
  }
  t.equal(subjectKeyCount(), cap, 'the table stops at the cap');
  t.equal(hits, 100, 'only the subjects that fit are counted');
  t.equal(c.refusedInterfaceHits(), 4900, 'every refused hit is counted');
  // A subject that already has a key is still counted after the table is full.
  t.equal(c.classify(flow({ exporter: '10.0.0.1', inputIf: 1, outputIf: 0 })).length, 1);
});
