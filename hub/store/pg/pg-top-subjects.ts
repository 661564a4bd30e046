/**
 * Top subjects over a window, computed by PostgreSQL in one query: the second read the series layout
 * serves (002_series.sql: the window touches only its months' partitions, BRIN on bucket_start inside
 * them), instead of series-routes.ts's loop of listSubjects + one readSeries per subject, which on a
 * server database is one round trip per subject of the operator.
 *
 * The answer is the GET /top-subjects one (common/api/series.ts, TopSubjectRow): totals, peaks and the
 * average over the COVERED span (buckets with data for the subject, series-routes.ts coveredAverage),
 * q a case-insensitive substring of the subject id or label, ranked by bytesTotal descending then
 * subjectId, `total` every match before paging. The rounding is the route's (Math.round of bytes x 8 / s),
 * done here in JS on exact sums. Not in the SeriesStore port yet: see this module's test for its
 * equality with the route's answer on the same data.
 */
import type { TopSubjectRow } from '../../../common/api/series';
import { BUCKET_SEC } from '../../../common/bucket';
import type { PgPool } from './pg-pool';

export interface TopSubjectsQuery {
  fromSec: number;
  toSec: number;
  /** Already trimmed; '' matches every subject. */
  q: string;
  offset: number;
  limit: number;
}

const TEXT = `WITH agg AS (
    SELECT subject_id, sum(bytes_in) AS bi, sum(bytes_out) AS bo, sum(packets_in) AS pi, sum(packets_out) AS po,
      sum(flows_in) AS fi, sum(flows_out) AS fo, max(bytes_in) AS peak_in, max(bytes_out) AS peak_out,
      count(*) AS buckets, min(bucket_start) AS first, max(bucket_start) AS last
    FROM series WHERE operator_id = $1 AND bucket_start >= $2 AND bucket_start < $3
    GROUP BY subject_id
  )
  SELECT a.subject_id, s.kind, s.label, a.bi::float8, a.bo::float8, a.pi::float8, a.po::float8, a.fi::float8, a.fo::float8,
    a.peak_in::float8, a.peak_out::float8, a.buckets::float8, a.first::float8, a.last::float8, count(*) OVER ()::float8 AS total
  FROM agg a JOIN series_subjects s ON s.operator_id = $1 AND s.subject_id = a.subject_id
  WHERE $4 = '' OR strpos(lower(a.subject_id), $4) > 0 OR strpos(lower(s.label), $4) > 0
  ORDER BY a.bi + a.bo DESC, a.subject_id COLLATE "C"
  OFFSET $5 LIMIT $6`;

const bitsPerSec = (bytes: number, sec: number) => Math.round((bytes * 8) / sec);

export async function pgTopSubjects(pool: PgPool, operatorId: string, query: TopSubjectsQuery): Promise<{ total: number; subjects: TopSubjectRow[] }> {
  const { rows } = await pool.query<[string, TopSubjectRow['kind'], string, ...number[]]>({
    name: 'series-top-subjects', text: TEXT, rowMode: 'array',
    values: [operatorId, query.fromSec, query.toSec, query.q.toLowerCase(), query.offset, query.limit],
  });
  let total = rows.length ? (rows[0]![14] as number) : 0;
  if (rows.length === 0 && query.offset > 0) {
    // A page past the end has no row to carry the count: ask for the first one.
    total = (await pgTopSubjects(pool, operatorId, { ...query, offset: 0, limit: 1 })).total;
  }
  const subjects = rows.map((r): TopSubjectRow => {
    const [subjectId, kind, label, bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut, peakIn, peakOut, buckets, first, last] =
      r as [string, TopSubjectRow['kind'], string, number, number, number, number, number, number, number, number, number, number, number];
    const coveredSec = buckets * BUCKET_SEC;
    return {
      subjectId, kind, label, bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut, bytesTotal: bytesIn + bytesOut,
      peakBpsIn: bitsPerSec(peakIn, BUCKET_SEC), peakBpsOut: bitsPerSec(peakOut, BUCKET_SEC),
      coveredSec, firstDataSec: first, lastDataEndSec: last + BUCKET_SEC,
      avgBpsIn: bitsPerSec(bytesIn, coveredSec), avgBpsOut: bitsPerSec(bytesOut, coveredSec),
    };
  });
  return { total, subjects };
}
