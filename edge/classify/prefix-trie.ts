/**
 * Longest-prefix-match table for IPv4 and IPv6: one binary trie per family, stored in growable
 * Int32Arrays (children and value index per node) so 100k+ prefixes cost a few MB, not millions of
 * objects. insert() writes the binary trie; the first lookup() after an insert compiles it into a
 * multibit table (16 bits at the root, then 4 bits per step, best value pushed down to the leaves),
 * so an IPv4 lookup reads at most 5 entries instead of walking up to 32 dependent nodes (the walk was
 * a third of classify+aggregate at 100k groups, mostly cache misses). lookup() allocates nothing.
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
  /** Compiles the lookup tables now (else the first lookup after an insert does). */
  prepare(): void;
  /** lookup() by walking the binary trie bit by bit: the reference the compiled table must equal (tests). */
  lookupByBits(addr: Uint8Array): T | undefined;
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

const ROOT_BITS = 16;
const STEP_BITS = 4;
const STEP_SLOTS = 1 << STEP_BITS;

/**
 * The multibit form of a BitTrie. Entry e: 0 = no prefix covers this slot, e > 0 = value index e - 1
 * (the longest prefix covering every address in the slot), e < 0 = a step block at offset -e (the
 * slot holds longer prefixes: read the next 4 bits there). Block 0 is the root (2^16 entries); every
 * block's entries already include the best value of the prefixes above it (leaf pushing).
 */
interface Compiled { entries: Int32Array; used: number }

function compile(t: BitTrie, bits: number): Compiled {
  const c: Compiled = { entries: new Int32Array(1 << (ROOT_BITS + 1)), used: 1 << ROOT_BITS };
  fillBlock(t, c, 0, 0, ROOT_BITS, 0, bits, t.valueIndex[0]);
  return c;
}

/** Fills the block at `offset` for binary node `node` at depth `depth`, `width` bits, inheriting `inherited`. */
function fillBlock(t: BitTrie, c: Compiled, offset: number, node: number, width: number, depth: number, bits: number, inherited: number): void {
  const slots = 1 << width;
  for (let slot = 0; slot < slots; slot++) {
    let m = node;
    let best = inherited;
    for (let k = width - 1; k >= 0; k--) {
      m = (slot >> k) & 1 ? t.child1[m] : t.child0[m];
      if (m === 0) break; // node 0 is the root, never a child: 0 means "no child"
      if (t.valueIndex[m] >= 0) best = t.valueIndex[m];
    }
    if (m !== 0 && depth + width < bits && (t.child0[m] !== 0 || t.child1[m] !== 0)) {
      if (c.used + STEP_SLOTS > c.entries.length) { const grown = new Int32Array(c.entries.length * 2); grown.set(c.entries); c.entries = grown; }
      const child = c.used;
      c.used += STEP_SLOTS;
      c.entries[offset + slot] = -child;
      fillBlock(t, c, child, m, STEP_BITS, depth + width, bits, best);
    } else {
      c.entries[offset + slot] = best + 1;
    }
  }
}

export function createPrefixTrie<T>(): PrefixTrie<T> {
  const v4 = newBitTrie();
  const v6 = newBitTrie();
  const values: T[] = [];
  let c4: Int32Array | undefined; // compiled forms, dropped by insert()
  let c6: Int32Array | undefined;

  function trieFor(length: number): BitTrie | undefined {
    return length === 4 ? v4 : length === 16 ? v6 : undefined;
  }

  return {
    insert(bytes, prefixLen, value) {
      const t = trieFor(bytes.length);
      if (!t || prefixLen < 0 || prefixLen > bytes.length * 8) throw new Error(`bad prefix: ${bytes.length} bytes /${prefixLen}`);
      c4 = undefined; c6 = undefined;
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
      let e: number;
      let bit: number; // next bit of addr to read
      let entries: Int32Array;
      if (addr.length === 4) {
        entries = c4 ??= compile(v4, 32).entries;
        e = entries[(addr[0] << 8) | addr[1]];
        bit = 16;
      } else if (addr.length !== 16) {
        return undefined;
      } else if (isIpv4MappedBytes(addr)) { // ::ffff:a.b.c.d is a.b.c.d
        entries = c4 ??= compile(v4, 32).entries;
        e = entries[(addr[12] << 8) | addr[13]];
        bit = 112;
      } else {
        entries = c6 ??= compile(v6, 128).entries;
        e = entries[(addr[0] << 8) | addr[1]];
        bit = 16;
      }
      while (e < 0) { // 4 bits at a time: a nibble never straddles a byte
        const nibble = (addr[bit >> 3] >> (4 - (bit & 7))) & 15;
        e = entries[-e + nibble];
        bit += 4;
      }
      return e > 0 ? values[e - 1] : undefined;
    },
    prepare() {
      c4 ??= compile(v4, 32).entries;
      c6 ??= compile(v6, 128).entries;
    },
    /** The binary walk the compiled table replaces: the reference for tests (prefix-trie-multibit.test.ts). */
    lookupByBits(addr: Uint8Array): T | undefined {
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
