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
import {
  directionOfHitCode, hasSubjectKey, hitCode, keyOfHitCode, subjectIdOfKey, subjectKeyCount, subjectKeyOf, subjectKindOfKey,
} from './subject-keys';

export const DIRECTION_IN = 0;
export const DIRECTION_OUT = 1;
export type Direction = typeof DIRECTION_IN | typeof DIRECTION_OUT;

/** Immutable and shared: the same object is returned for the same subject and direction. */
export interface SubjectHit {
  readonly subjectId: string;
  /** subjectKeyOf(subjectId, kind): the same small integer for the same id (subject-keys.ts). */
  readonly subjectKey: number;
  readonly kind: SubjectKind;
  readonly direction: Direction;
}

export interface Classifier {
  /**
   * The flow's subjects as hit codes (subject-keys.ts hitCode: subject key and direction) in
   * out[0, n), in the order input interface, output interface, destination group, source group;
   * returns n (at most MAX_HITS), 0 when unclassified (the caller counts it). The hot path: one
   * integer per hit, nothing allocated, nothing to dereference in the aggregator.
   */
  classifyInto(flow: FlowRecord, out: Int32Array): number;
  /**
   * The same hits as SubjectHit objects (tests and tools). The returned array is reused by the next
   * call: consume it before calling again. Empty means unclassified.
   */
  classify(flow: FlowRecord): readonly SubjectHit[];
  /** Config entries that were skipped (invalid prefix, bad group name, duplicate prefix). */
  readonly configErrors: readonly string[];
  readonly ipGroupCount: number;
  /** Interface hits not counted because the subject table was full (maxSubjects). */
  refusedInterfaceHits(): number;
}

/** Most hits one flow can have: input and output interface, destination and source group. */
export const MAX_HITS = 4;

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

/** An interface or address that is not a subject (cached like a subject key). */
const NOT_A_SUBJECT = -1;

/** One exporter's interfaces: ifIndex → subject key or NOT_A_SUBJECT; `id` numbers the exporter in the direct-mapped cache. */
interface ExporterInterfaces { id: number; keys: Map<number, number> }

/** Entries of the classifier's direct-mapped (exporter, ifIndex) cache: a power of two. */
const DIRECT_CACHE_SIZE = 4096;

/** The SubjectHit of a hit code, one frozen object per code for the process (classify()'s results). */
const hitObjects = new Map<number, SubjectHit>();
export function subjectHitOf(code: number): SubjectHit {
  let hit = hitObjects.get(code);
  if (hit === undefined) {
    const subjectKey = keyOfHitCode(code);
    hit = Object.freeze({
      subjectId: subjectIdOfKey(subjectKey), subjectKey, kind: subjectKindOfKey(subjectKey) as SubjectKind,
      direction: directionOfHitCode(code) as Direction,
    });
    hitObjects.set(code, hit);
  }
  return hit;
}

/** The config an edge uses before the hub ever sent one: every interface, no groups. */
export function defaultCollectionConfig(): CollectionConfig {
  return { version: 0, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups: [] };
}

export function createClassifier(config: CollectionConfig, opts: ClassifierOptions = {}): Classifier {
  const maxSubjects = opts.maxSubjects ?? Infinity;
  let refusedInterfaceHits = 0;
  const errors: string[] = [];
  // Values are subject keys: a lookup yields the key itself, a small integer.
  const groups: PrefixTrie<number> = createPrefixTrie();
  let ipGroupCount = 0;
  for (const group of config.ipGroups ?? []) {
    let key: number;
    try {
      key = subjectKeyOf(ipGroupSubjectId(group.name), SubjectKind.IP_GROUP);
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    ipGroupCount++;
    for (const entry of group.prefixes ?? []) {
      try {
        for (const p of ipEntryPrefixes(parseIpGroupEntry(entry))) {
          const replaced = groups.insert(p.bytes, p.prefixLen, key);
          if (replaced !== undefined && replaced !== key) errors.push(`prefix ${entry} is in groups ${subjectIdOfKey(replaced)} and ${subjectIdOfKey(key)}; the later one wins`);
        }
      } catch (err) {
        errors.push(`group ${group.name}: ${(err as Error).message}`);
      }
    }
  }

  groups.prepare(); // the lookup tables are built here, not by the first flow after a config

  const allInterfaces = config.allInterfaces;
  const listed = new Set((config.interfaces ?? []).map((r) => `${r.exporter}/${r.ifIndex}`));
  // exporter → ifIndex → subject key (NOT_A_SUBJECT: not a subject). Bounded in total entries:
  // exporter addresses and ifIndexes come from datagrams, so a spoofer chooses how many there are.
  const ifCache = new Map<string, ExporterInterfaces>();
  let ifCacheEntries = 0;
  // In front of it, a direct-mapped cache of (exporter number, ifIndex) → key, fixed size: a hit
  // costs two typed-array reads instead of a Map lookup. It holds only what ifCache holds or would
  // return again (never a refusal, which must count each time).
  const directExporter = new Int32Array(DIRECT_CACHE_SIZE).fill(-1);
  const directIfIndex = new Float64Array(DIRECT_CACHE_SIZE);
  const directKey = new Int32Array(DIRECT_CACHE_SIZE);
  // The records of one datagram share their exporter string: remember its entry between calls.
  let lastExporter: string | undefined;
  let lastEntry: ExporterInterfaces | undefined;
  /** The subject key of (exporter, ifIndex), or NOT_A_SUBJECT (also for a refusal, which is counted). */
  function interfaceKey(exporter: string, ifIndex: number): number {
    let entry: ExporterInterfaces | undefined;
    if (exporter === lastExporter) entry = lastEntry;
    else { entry = ifCache.get(exporter); lastExporter = exporter; lastEntry = entry; }
    let slot = -1;
    if (entry !== undefined) {
      slot = (Math.imul(entry.id, 0x9e3779b1) + ifIndex) & (DIRECT_CACHE_SIZE - 1);
      if (directExporter[slot] === entry.id && directIfIndex[slot] === ifIndex) return directKey[slot];
    }
    let key = entry?.keys.get(ifIndex);
    if (key === undefined) {
      if (!allInterfaces && !listed.has(`${exporter}/${ifIndex}`)) {
        key = NOT_A_SUBJECT;
      } else {
        const subjectId = interfaceSubjectId(exporter, ifIndex);
        // A subject keyed before (restored buckets, an earlier config) costs nothing new.
        if (subjectKeyCount() >= maxSubjects && !hasSubjectKey(subjectId)) {
          refusedInterfaceHits++;
          return NOT_A_SUBJECT; // not cached: it counts again if the table ever has room (it never shrinks)
        }
        key = subjectKeyOf(subjectId, SubjectKind.INTERFACE);
      }
      if (ifCacheEntries < MAX_INTERFACE_CACHE_ENTRIES) {
        if (!entry) {
          entry = { id: ifCache.size, keys: new Map() };
          ifCache.set(exporter, entry); lastExporter = exporter; lastEntry = entry;
          slot = (Math.imul(entry.id, 0x9e3779b1) + ifIndex) & (DIRECT_CACHE_SIZE - 1);
        }
        entry.keys.set(ifIndex, key);
        ifCacheEntries++;
      }
    }
    if (slot >= 0 && entry!.keys.get(ifIndex) === key) {
      directExporter[slot] = entry!.id; directIfIndex[slot] = ifIndex; directKey[slot] = key;
    }
    return key;
  }

  function classifyInto(flow: FlowRecord, out: Int32Array): number {
    let n = 0;
    if (flow.inputIf !== 0) { const k = interfaceKey(flow.exporter, flow.inputIf); if (k !== NOT_A_SUBJECT) out[n++] = hitCode(k, DIRECTION_IN); }
    if (flow.outputIf !== 0) { const k = interfaceKey(flow.exporter, flow.outputIf); if (k !== NOT_A_SUBJECT) out[n++] = hitCode(k, DIRECTION_OUT); }
    if (ipGroupCount > 0) {
      const dst = groups.lookup(flow.dstIp);
      if (dst !== undefined) out[n++] = hitCode(dst, DIRECTION_IN);
      const src = groups.lookup(flow.srcIp);
      if (src !== undefined) out[n++] = hitCode(src, DIRECTION_OUT);
    }
    return n;
  }

  // classify()'s results: one reused array per hit count (setting `length` on a reused array is a
  // slow path in V8), written by index.
  const results: SubjectHit[][] = [[], [undefined!], [undefined!, undefined!], [undefined!, undefined!, undefined!], [undefined!, undefined!, undefined!, undefined!]];
  const scratch = new Int32Array(MAX_HITS);
  return {
    classifyInto,
    classify(flow) {
      const n = classifyInto(flow, scratch);
      const out = results[n];
      for (let i = 0; i < n; i++) out[i] = subjectHitOf(scratch[i]);
      return out;
    },
    configErrors: errors,
    ipGroupCount,
    refusedInterfaceHits: () => refusedInterfaceHits,
  };
}
