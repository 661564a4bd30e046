/**
 * Classifier: one decoded flow → the billing subjects it counts for, with a direction.
 * Built from the hub's collection config (proto EdgeConfig); rebuilt when a new config arrives.
 *
 * - Interface subjects "if:<exporter>/<ifIndex>": the flow's input ifIndex counts "in" on that
 *   interface, its output ifIndex counts "out". ifIndex 0 means "none" and never counts. With
 *   all_interfaces every (exporter, ifIndex) seen is a subject, otherwise only the listed ones.
 * - IP group subjects "ipg:<name>": destination in the group → "in" (traffic towards the customer),
 *   source in the group → "out". A flow with both ends in one group counts in AND out for it.
 *   Overlapping groups resolve by longest prefix match: an address belongs to at most one group.
 */
import type { FlowRecord } from '../decode/flow-record';
import { SubjectKind, type EdgeConfig as CollectionConfig } from '../../proto/codec';
import { interfaceSubjectId, ipGroupSubjectId } from '../../common/subject-id';
import { createPrefixTrie, type PrefixTrie } from './prefix-trie';
import { ipEntryPrefixes, parseIpGroupEntry } from '../../common/ip-prefix';
import { hasSubjectKey, subjectKeyCount, subjectKeyOf } from './subject-keys';

export const DIRECTION_IN = 0;
export const DIRECTION_OUT = 1;
export type Direction = typeof DIRECTION_IN | typeof DIRECTION_OUT;

/** Immutable and shared: the same object is returned for the same subject and direction. */
export interface SubjectHit {
  readonly subjectId: string;
  /** subjectKeyOf(subjectId): the same small integer for the same id (subject-keys.ts). */
  readonly subjectKey: number;
  readonly kind: SubjectKind;
  readonly direction: Direction;
}

export interface Classifier {
  /**
   * The flow's subjects. The returned array is reused by the next call: consume it before calling
   * again. Empty means unclassified (the caller counts it).
   */
  classify(flow: FlowRecord): readonly SubjectHit[];
  /** Config entries that were skipped (invalid prefix, bad group name, duplicate prefix). */
  readonly configErrors: readonly string[];
  readonly ipGroupCount: number;
  /** Interface hits not counted because the subject table was full (maxSubjects). */
  refusedInterfaceHits(): number;
}

export interface ClassifierOptions {
  /**
   * At most this many subject ids process-wide (subject-keys.ts) before a NEW interface subject is
   * refused: with all_interfaces, every (exporter, ifIndex) a datagram names would otherwise become
   * a subject, and exporter addresses and ifIndexes are whatever a spoofer writes. IP groups come
   * from the hub and are always keyed. Default: unbounded (tests, benches).
   */
  maxSubjects?: number;
}

/** Interface lookups cached over all exporters; beyond it lookups still work, uncached. */
const MAX_INTERFACE_CACHE_ENTRIES = 1_000_000;

interface HitPair { in: SubjectHit; out: SubjectHit }

/** One exporter's interface hits; `id` numbers the exporter in the direct-mapped cache. */
interface ExporterInterfaces { id: number; pairs: Map<number, HitPair | null> }

/** Entries of the classifier's direct-mapped (exporter, ifIndex) cache: a power of two. */
const DIRECT_CACHE_SIZE = 4096;

function hitPair(subjectId: string, kind: SubjectKind): HitPair {
  const subjectKey = subjectKeyOf(subjectId);
  return Object.freeze({
    in: Object.freeze({ subjectId, subjectKey, kind, direction: DIRECTION_IN as Direction }),
    out: Object.freeze({ subjectId, subjectKey, kind, direction: DIRECTION_OUT as Direction }),
  });
}

/** The config an edge uses before the hub ever sent one: every interface, no groups. */
export function defaultCollectionConfig(): CollectionConfig {
  return { version: 0, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups: [] };
}

export function createClassifier(config: CollectionConfig, opts: ClassifierOptions = {}): Classifier {
  const maxSubjects = opts.maxSubjects ?? Infinity;
  let refusedInterfaceHits = 0;
  const errors: string[] = [];
  const groups: PrefixTrie<HitPair> = createPrefixTrie();
  let ipGroupCount = 0;
  for (const group of config.ipGroups ?? []) {
    let pair: HitPair;
    try {
      pair = hitPair(ipGroupSubjectId(group.name), SubjectKind.IP_GROUP);
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    ipGroupCount++;
    for (const entry of group.prefixes ?? []) {
      try {
        for (const p of ipEntryPrefixes(parseIpGroupEntry(entry))) {
          const replaced = groups.insert(p.bytes, p.prefixLen, pair);
          if (replaced && replaced !== pair) errors.push(`prefix ${entry} is in groups ${replaced.in.subjectId} and ${pair.in.subjectId}; the later one wins`);
        }
      } catch (err) {
        errors.push(`group ${group.name}: ${(err as Error).message}`);
      }
    }
  }

  groups.prepare(); // the lookup tables are built here, not by the first flow after a config

  const allInterfaces = config.allInterfaces;
  const listed = new Set((config.interfaces ?? []).map((r) => `${r.exporter}/${r.ifIndex}`));
  // exporter → ifIndex → hits (null: not a subject). Bounded in total entries: exporter addresses
  // and ifIndexes come from datagrams, so a spoofer chooses how many distinct ones there are.
  const ifCache = new Map<string, ExporterInterfaces>();
  let ifCacheEntries = 0;
  // In front of it, a direct-mapped cache of (exporter number, ifIndex) → hits, fixed size: a hit
  // costs two typed-array reads instead of a Map lookup. It holds only what ifCache holds or would
  // return again (never a refusal, which must count each time).
  const directExporter = new Int32Array(DIRECT_CACHE_SIZE).fill(-1);
  const directIfIndex = new Float64Array(DIRECT_CACHE_SIZE);
  const directPair: (HitPair | null)[] = new Array(DIRECT_CACHE_SIZE).fill(null);
  // The records of one datagram share their exporter string: remember its entry between calls.
  let lastExporter: string | undefined;
  let lastEntry: ExporterInterfaces | undefined;
  function interfaceHits(exporter: string, ifIndex: number): HitPair | null {
    let entry: ExporterInterfaces | undefined;
    if (exporter === lastExporter) entry = lastEntry;
    else { entry = ifCache.get(exporter); lastExporter = exporter; lastEntry = entry; }
    let slot = -1;
    if (entry !== undefined) {
      slot = (Math.imul(entry.id, 0x9e3779b1) + ifIndex) & (DIRECT_CACHE_SIZE - 1);
      if (directExporter[slot] === entry.id && directIfIndex[slot] === ifIndex) return directPair[slot];
    }
    let pair = entry?.pairs.get(ifIndex);
    if (pair === undefined) {
      if (!allInterfaces && !listed.has(`${exporter}/${ifIndex}`)) {
        pair = null;
      } else {
        const subjectId = interfaceSubjectId(exporter, ifIndex);
        // A subject keyed before (restored buckets, an earlier config) costs nothing new.
        if (subjectKeyCount() >= maxSubjects && !hasSubjectKey(subjectId)) {
          refusedInterfaceHits++;
          return null; // not cached: it counts again if the table ever has room (it never shrinks)
        }
        pair = hitPair(subjectId, SubjectKind.INTERFACE);
      }
      if (ifCacheEntries < MAX_INTERFACE_CACHE_ENTRIES) {
        if (!entry) {
          entry = { id: ifCache.size, pairs: new Map() };
          ifCache.set(exporter, entry); lastExporter = exporter; lastEntry = entry;
          slot = (Math.imul(entry.id, 0x9e3779b1) + ifIndex) & (DIRECT_CACHE_SIZE - 1);
        }
        entry.pairs.set(ifIndex, pair);
        ifCacheEntries++;
      }
    }
    if (slot >= 0 && entry!.pairs.get(ifIndex) === pair) {
      directExporter[slot] = entry!.id; directIfIndex[slot] = ifIndex; directPair[slot] = pair;
    }
    return pair;
  }

  // One reused array per hit count (0..4): setting `length` on a reused array is a slow path in V8
  // (5% of ingest in the profile), so the result array is picked by count and only written by index.
  const results: SubjectHit[][] = [[], [undefined!], [undefined!, undefined!], [undefined!, undefined!, undefined!], [undefined!, undefined!, undefined!, undefined!]];
  let h0: SubjectHit | undefined, h1: SubjectHit | undefined, h2: SubjectHit | undefined, h3: SubjectHit | undefined;
  function put(n: number, hit: SubjectHit): number {
    if (n === 0) h0 = hit; else if (n === 1) h1 = hit; else if (n === 2) h2 = hit; else h3 = hit;
    return n + 1;
  }
  return {
    classify(flow) {
      let n = 0;
      if (flow.inputIf !== 0) { const p = interfaceHits(flow.exporter, flow.inputIf); if (p) n = put(n, p.in); }
      if (flow.outputIf !== 0) { const p = interfaceHits(flow.exporter, flow.outputIf); if (p) n = put(n, p.out); }
      if (ipGroupCount > 0) {
        const dst = groups.lookup(flow.dstIp);
        if (dst) n = put(n, dst.in);
        const src = groups.lookup(flow.srcIp);
        if (src) n = put(n, src.out);
      }
      const out = results[n];
      if (n > 0) out[0] = h0!;
      if (n > 1) out[1] = h1!;
      if (n > 2) out[2] = h2!;
      if (n > 3) out[3] = h3!;
      return out;
    },
    configErrors: errors,
    ipGroupCount,
    refusedInterfaceHits: () => refusedInterfaceHits,
  };
}
