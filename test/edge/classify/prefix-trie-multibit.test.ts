/**
 * The compiled multibit lookup (16 bits, then 4 per step, best value pushed to the leaves) answers
 * exactly what the bit-by-bit walk of the binary trie answers, and what a plain longest-prefix
 * scan over the inserted prefixes answers: random nested prefixes of every length, IPv4, IPv6 and
 * IPv4-mapped addresses, duplicates (the later value wins) and inserts after lookups (recompiled).
 */
import t from 'tap';
import fc from 'fast-check';
import { createPrefixTrie } from '../../../edge/classify/prefix-trie';

interface Prefix { bytes: Uint8Array; len: number; value: number }

function covers(p: Prefix, addr: Uint8Array): boolean {
  for (let bit = 0; bit < p.len; bit++) {
    if (((p.bytes[bit >> 3] >> (7 - (bit & 7))) & 1) !== ((addr[bit >> 3] >> (7 - (bit & 7))) & 1)) return false;
  }
  return true;
}

/** Longest prefix by scanning; the later insert of an exact duplicate wins. ::ffff:a.b.c.d is a.b.c.d. */
function naiveLookup(prefixes: Prefix[], addr: Uint8Array): number | undefined {
  let a = addr;
  if (a.length === 16 && a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff) a = a.slice(12);
  let best: Prefix | undefined;
  for (const p of prefixes) {
    if (p.bytes.length !== a.length || !covers(p, a)) continue;
    if (!best || p.len >= best.len) best = p;
  }
  return best?.value;
}

// Addresses drawn near a few bases, so prefixes nest and addresses hit them.
const bases4 = [[10, 0, 0, 0], [10, 1, 2, 0], [192, 168, 0, 0], [0, 0, 0, 0], [255, 255, 255, 255]];
const bases6 = [[0x20, 0x01, 0x0d, 0xb8], [0xfe, 0x80, 0, 0], [0, 0, 0, 0]];
const addr4Arb = fc.tuple(fc.integer({ min: 0, max: bases4.length - 1 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
  .map(([b, noise, keep]) => {
    const out = new Uint8Array(4);
    for (let bit = 0; bit < 32; bit++) {
      const from = bit < keep ? bases4[b] : noise;
      if ((from[bit >> 3] >> (7 - (bit & 7))) & 1) out[bit >> 3] |= 1 << (7 - (bit & 7));
    }
    return out;
  });
const addr6Arb = fc.tuple(fc.integer({ min: 0, max: bases6.length - 1 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
  .map(([b, noise, keep]) => {
    const base = new Uint8Array(16); base.set(bases6[b]);
    const out = new Uint8Array(16);
    for (let bit = 0; bit < 128; bit++) {
      const from = bit < keep ? base : noise;
      if ((from[bit >> 3] >> (7 - (bit & 7))) & 1) out[bit >> 3] |= 1 << (7 - (bit & 7));
    }
    return out;
  });
const mappedArb = addr4Arb.map((a) => { const m = new Uint8Array(16); m[10] = 0xff; m[11] = 0xff; m.set(a, 12); return m; });
const prefixArb = fc.oneof(
  fc.tuple(addr4Arb, fc.integer({ min: 0, max: 32 })),
  fc.tuple(addr4Arb, fc.integer({ min: 14, max: 30 })),
  fc.tuple(addr6Arb, fc.integer({ min: 0, max: 128 })),
);
const addrArb = fc.oneof(addr4Arb, addr6Arb, mappedArb);

t.test('compiled lookup == bit-by-bit walk == longest-prefix scan', async (t) => {
  let checked = 0;
  fc.assert(fc.property(
    fc.array(prefixArb, { minLength: 0, maxLength: 60 }),
    fc.array(addrArb, { minLength: 1, maxLength: 60 }),
    fc.integer({ min: 0, max: 60 }),
    (raw, addrs, lookupAfter) => {
      const trie = createPrefixTrie<number>();
      const inserted: Prefix[] = [];
      raw.forEach(([bytes, len], i) => {
        // Zero the bits past the prefix length, as common/ip-prefix.ts does.
        const b = bytes.slice();
        for (let bit = len; bit < b.length * 8; bit++) b[bit >> 3] &= ~(1 << (7 - (bit & 7)));
        trie.insert(b, len, i);
        inserted.push({ bytes: b, len, value: i });
        if (i === lookupAfter) trie.lookup(addrs[0]); // compile half-way: later inserts must recompile
      });
      for (const a of addrs) {
        const want = naiveLookup(inserted, a);
        const bits = trie.lookupByBits(a);
        const got = trie.lookup(a);
        checked++;
        if (bits !== want || got !== want) throw new Error(`addr ${Array.from(a)}: compiled ${got}, bits ${bits}, scan ${want}`);
      }
    },
  ), { numRuns: 200, seed: 13 });
  t.ok(checked > 1000, `${checked} lookups compared`);
});

t.test('a /0 and host routes, both families; malformed lengths are no match', async (t) => {
  const trie = createPrefixTrie<string>();
  trie.insert(new Uint8Array(4), 0, 'all-v4');
  trie.insert(Uint8Array.of(10, 0, 0, 1), 32, 'host');
  trie.insert(new Uint8Array(16), 0, 'all-v6');
  const host6 = Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
  trie.insert(host6, 128, 'host6');
  t.equal(trie.lookup(Uint8Array.of(10, 0, 0, 1)), 'host');
  t.equal(trie.lookup(Uint8Array.of(10, 0, 0, 2)), 'all-v4');
  t.equal(trie.lookup(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1)), 'host', 'mapped');
  t.equal(trie.lookup(host6), 'host6');
  t.equal(trie.lookup(Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)), 'all-v6');
  t.equal(trie.lookup(new Uint8Array(5)), undefined);
  t.equal(trie.lookup(new Uint8Array(0)), undefined);
});
