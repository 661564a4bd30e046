/**
 * Longest-prefix-match table for IPv4 and IPv6: one binary trie per family, stored in growable
 * Int32Arrays (children and value index per node) so 100k+ prefixes cost a few MB, not millions of
 * objects. lookup() walks at most 32 / 128 bits and allocates nothing.
 */
import { isIpv4MappedBytes } from '../../common/ip-prefix';

export interface PrefixTrie<T> {
  /** Adds a prefix; returns the value it replaced on an exact duplicate, else undefined. */
  insert(bytes: Uint8Array, prefixLen: number, value: T): T | undefined;
  /**
   * Value of the longest prefix containing addr (4 or 16 bytes), or undefined. An IPv4-mapped
   * address (::ffff:a.b.c.d, some exporters' IPv6 fields) is looked up as the IPv4 address a.b.c.d,
   * the way common/ip-prefix.ts reads IP group entries: IPv6 prefixes never hold mapped addresses.
   */
  lookup(addr: Uint8Array): T | undefined;
  readonly prefixCount: number;
}

interface BitTrie {
  child0: Int32Array;
  child1: Int32Array;
  valueIndex: Int32Array; // -1 = no prefix ends here
  nodes: number;
}

function newBitTrie(): BitTrie {
  const cap = 64;
  const t = { child0: new Int32Array(cap), child1: new Int32Array(cap), valueIndex: new Int32Array(cap).fill(-1), nodes: 1 };
  return t;
}

function grow(t: BitTrie): void {
  const cap = t.child0.length * 2;
  const c0 = new Int32Array(cap); c0.set(t.child0);
  const c1 = new Int32Array(cap); c1.set(t.child1);
  const v = new Int32Array(cap).fill(-1); v.set(t.valueIndex);
  t.child0 = c0; t.child1 = c1; t.valueIndex = v;
}

export function createPrefixTrie<T>(): PrefixTrie<T> {
  const v4 = newBitTrie();
  const v6 = newBitTrie();
  const values: T[] = [];

  function trieFor(length: number): BitTrie | undefined {
    return length === 4 ? v4 : length === 16 ? v6 : undefined;
  }

  return {
    insert(bytes, prefixLen, value) {
      const t = trieFor(bytes.length);
      if (!t || prefixLen < 0 || prefixLen > bytes.length * 8) throw new Error(`bad prefix: ${bytes.length} bytes /${prefixLen}`);
      let node = 0;
      for (let bit = 0; bit < prefixLen; bit++) {
        const one = (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
        const children = one ? t.child1 : t.child0;
        let next = children[node];
        if (next === 0) {
          if (t.nodes === t.child0.length) grow(t);
          next = t.nodes++;
          (one ? t.child1 : t.child0)[node] = next;
        }
        node = next;
      }
      const existing = t.valueIndex[node];
      if (existing >= 0) {
        const old = values[existing];
        values[existing] = value;
        return old;
      }
      t.valueIndex[node] = values.length;
      values.push(value);
      return undefined;
    },
    lookup(addr) {
      let t: BitTrie;
      let first = 0; // first bit of addr to walk
      if (addr.length === 4) t = v4;
      else if (addr.length !== 16) return undefined;
      else if (isIpv4MappedBytes(addr)) { t = v4; first = 96; } // ::ffff:a.b.c.d is a.b.c.d
      else t = v6;
      let node = 0;
      let best = t.valueIndex[0];
      const bits = addr.length * 8;
      for (let bit = first; bit < bits; bit++) {
        const one = (addr[bit >> 3] >> (7 - (bit & 7))) & 1;
        node = one ? t.child1[node] : t.child0[node];
        if (node === 0) break; // node 0 is the root, never a child: 0 means "no child"
        const vi = t.valueIndex[node];
        if (vi >= 0) best = vi;
      }
      return best >= 0 ? values[best] : undefined;
    },
    get prefixCount() { return values.length; },
  };
}
