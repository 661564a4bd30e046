import t from 'tap';
import {
  classifyRuns, decodeMarker, groupByRevision, mergeRanges, planDedup, rangesCover, revisionKey, type DedupItem, type RevisionMarker,
} from '../../../hub/ingest/content-dedup';

const item = (subjectId: string, inRun = true, bucketStartSec = 1_800_000_000, revision = 0): DedupItem => ({ subjectId, bucketStartSec, revision, inRun });

t.test('revision key: edge, 12-digit bucket, 10-digit revision (sorts by bucket, then revision)', async (t) => {
  t.equal(revisionKey('edge-a', 1_800_000_000, 3), 'ingest-rev/edge-a/001800000000/0000000003');
  t.ok(revisionKey('e', 300, 4294967295) < revisionKey('e', 600, 0));
});

t.test('rangesCover: inclusive bounds, gaps between ranges are not covered', async (t) => {
  const r = ['b', 'd', 'f', 'f', 'k', 'm'];
  for (const s of ['b', 'c', 'd', 'f', 'k', 'l', 'm']) t.ok(rangesCover(r, s), s);
  for (const s of ['a', 'd0', 'e', 'ff', 'j', 'n']) t.notOk(rangesCover(r, s), s);
  t.notOk(rangesCover([], 'a'));
});

t.test('mergeRanges: sorted union, overlapping and touching ranges merged, disjoint ones kept apart', async (t) => {
  t.same(mergeRanges([], ['c', 'd', 'a', 'b']), ['a', 'b', 'c', 'd']);
  t.same(mergeRanges(['a', 'c'], ['b', 'e']), ['a', 'e']);
  t.same(mergeRanges(['a', 'c', 'f', 'g'], ['c', 'f']), ['a', 'g'], 'a range touching both neighbours joins them');
  t.same(mergeRanges(['a', 'c'], ['d', 'd']), ['a', 'c', 'd', 'd'], 'adjacent strings are not merged: strings may lie between c and d');
  t.same(mergeRanges(['a', 'z'], ['b', 'c', 'x', 'x']), ['a', 'z']);
});

t.test('classifyRuns: one contiguous strictly ascending run per (bucket, revision) group', async (t) => {
  t.same(classifyRuns([item('a'), item('b'), item('c')]), [true, true, true]);
  t.same(classifyRuns([item('b'), item('a')]), [false, false], 'descending');
  t.same(classifyRuns([item('a'), item('a')]), [false, false], 'a repeated subject is not strictly ascending');
  const other = (s: string) => item(s, true, 1_800_000_300);
  t.same(classifyRuns([item('a'), item('b'), other('a'), other('c')]), [true, true, true, true], 'two groups, each one run');
  t.same(classifyRuns([item('a'), other('b'), item('c')]), [false, true, false], 'a group cut in two by another is not one run');
  t.same(classifyRuns([item('a'), item('b', true, 1_800_000_000, 1), item('c')]), [false, true, false], 'revisions are separate groups');
  t.same(classifyRuns([item('if:10.0.0.1/10'), item('if:10.0.0.1/9')]), [true, true], 'JS string order, not numeric');
});

function plan(items: DedupItem[], markers: Record<string, RevisionMarker> = {}, max = 1000) {
  return planDedup(groupByRevision('e', items), (k) => markers[k], max);
}

t.test('planDedup: a run records [first, last]; covered subjects are duplicates', async (t) => {
  const p1 = plan([item('s01'), item('s02'), item('s05')]);
  t.equal(p1.apply.length, 3);
  const key = revisionKey('e', 1_800_000_000, 0);
  t.same(p1.markers, [{ key, marker: { n: 3, r: ['s01', 's05'] } }]);
  // The same revision re-sent with other boundaries and a subset: s03 is inside [s01, s05], so the
  // original run had no s03 and this cannot be new content (the edge's subset rule).
  const p2 = plan([item('s02'), item('s03'), item('s05'), item('s07')], { [key]: p1.markers[0]!.marker });
  t.same(p2.apply.map((s) => s.subjectId), ['s07']);
  t.equal(p2.duplicates, 3);
  t.same(p2.markers[0]!.marker, { n: 4, r: ['s01', 's07'] });
  const p3 = plan([item('s02'), item('s05')], { [key]: p2.markers[0]!.marker });
  t.same([p3.apply.length, p3.duplicates, p3.markers.length], [0, 2, 0], 'all duplicates: no marker write');
});

t.test('planDedup: an unsorted group records points, exactly; repeats inside it are refused', async (t) => {
  const p = plan([item('s05', false), item('s01', false), item('s03', false), item('s01', false)]);
  t.same(p.apply.map((s) => s.subjectId), ['s05', 's01', 's03']);
  t.same(p.markers[0]!.marker, { n: 3, r: ['s01', 's01', 's03', 's03', 's05', 's05'] });
  t.same([...p.refused], [['subject repeated within bucket 1800000000 revision 0', 1]]);
  const q = plan([item('s02'), item('s04')], { [revisionKey('e', 1_800_000_000, 0)]: p.markers[0]!.marker });
  t.same(q.apply.map((s) => s.subjectId), ['s02', 's04'], 'subjects between points are new');
});

t.test('planDedup: at most maxRevisionSubjects per marker; the excess is refused and not recorded', async (t) => {
  const key = revisionKey('e', 1_800_000_000, 0);
  const p = plan([item('a'), item('b'), item('c'), item('d')], { [key]: { n: 2, r: ['x', 'y'] } }, 4);
  t.same(p.apply.map((s) => s.subjectId), ['a', 'b']);
  t.same([...p.refused], [['more than 4 subjects in bucket 1800000000 revision 0', 2]]);
  t.same(p.markers[0]!.marker, { n: 4, r: ['a', 'a', 'b', 'b', 'x', 'y'] }, 'points only: c and d stay unrecorded');
  t.same(decodeMarker(new TextEncoder().encode(JSON.stringify(p.markers[0]!.marker))), p.markers[0]!.marker);
});
