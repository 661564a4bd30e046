/**
 * Subject order: the rank of every subject key (classify/subject-keys.ts) among all known subject ids
 * in ascending plain JS string order (a < b, UTF-16 code units), the order a revision's summaries
 * must have (bucket-aggregator.ts CONTENT IDENTITY (c)). Why: sorting a closing bucket's 100k rows
 * with a string comparator took ~100 ms on the edge's only decoding thread every 5 minutes (more
 * with several revisions of one bucket); with ranks the close orders rows by integers.
 *
 * Subject keys only grow and a key's id never changes, so the order is kept up to date by merging:
 * keys added since the last call are sorted among themselves (k log k string comparisons) and merged
 * into the sorted list (k log n comparisons, n integer copies), then ranks are rewritten (n). In
 * steady state no key is added and a call costs one length check.
 */
import { subjectIdOfKey, subjectKeyCount } from '../classify/subject-keys';

export interface SubjectOrder {
  /**
   * Brings the order up to date with every key made so far and returns how many keys it covers
   * (keys [0, count)). The arrays below are valid until the next call.
   */
  update(): number;
  /** rankOfKey()[key]: the position of the key's id among the covered ids in string order. */
  rankOfKey(): Int32Array;
  /** keyAtRank()[rank]: the inverse, the keys in ascending id order. */
  keyAtRank(): Int32Array;
}

/** Where the ids come from: the process-wide subject keys unless a test brings its own table. */
export interface SubjectIdSource {
  count(): number;
  idOf(key: number): string;
}

/**
 * The order of the process-wide subject keys, shared like the keys themselves: every aggregator in
 * the process (one in the edge; many in tests) reuses it instead of sorting all ids again.
 */
export const subjectKeyOrder: SubjectOrder = createSubjectOrder({ count: subjectKeyCount, idOf: subjectIdOfKey });

export function createSubjectOrder(source: SubjectIdSource): SubjectOrder {
  let covered = 0;
  let sorted = new Int32Array(1024);
  let spare = new Int32Array(1024); // the merge target, swapped with `sorted` after each merge
  let ranks = new Int32Array(1024);

  function grow(n: number): void {
    if (n <= sorted.length) return;
    const size = Math.max(n, sorted.length * 2);
    const grownSorted = new Int32Array(size); grownSorted.set(sorted.subarray(0, covered)); sorted = grownSorted;
    spare = new Int32Array(size);
    ranks = new Int32Array(size);
  }

  return {
    update() {
      const n = source.count();
      if (n === covered) return n;
      grow(n);
      const idOf = source.idOf;
      const added: number[] = [];
      for (let key = covered; key < n; key++) added.push(key);
      // Ids are unique per key, so "equal" never happens; plain < as CONTENT IDENTITY (c) says.
      added.sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
      // Each added id finds its place by binary search (log n string comparisons); the runs of old
      // keys between those places move as blocks. A few new subjects among 100k cost ~k log n
      // comparisons plus integer copies, not a pass of n string comparisons.
      let from = 0, o = 0;
      for (const key of added) {
        const id = idOf(key);
        let lo = from, hi = covered;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (idOf(sorted[mid]) < id) lo = mid + 1; else hi = mid;
        }
        while (from < lo) spare[o++] = sorted[from++];
        spare[o++] = key;
      }
      while (from < covered) spare[o++] = sorted[from++];
      const merged = spare; spare = sorted; sorted = merged;
      for (let r = 0; r < n; r++) ranks[sorted[r]] = r;
      covered = n;
      return n;
    },
    rankOfKey: () => ranks,
    keyAtRank: () => sorted,
  };
}
