/**
 * API shapes of the series read side (hub/store/series-routes.ts), shared with the web dashboard
 * (web/pages/dashboard.js through JSDoc `@typedef {import('../../common/api/series').TopSubjectsResponse} …`).
 * Times are Unix seconds; rates bits per second; bytes as counted (sampling applied by the edge).
 *
 * Averages divide by the COVERED span (coveredSec: 300 s per 5-minute bucket that has data for the
 * subject), never by the requested window: a subject first seen an hour ago in a 24-hour window
 * averages over that hour (issue 11: 24 h showed 888 kbps where the rate was ~21 Mbps, bytes / 86400 s).
 */

export interface SeriesTotals {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  flowsIn: number;
  flowsOut: number;
}

/** Averages over the buckets with data, and what they are over. */
export interface CoveredAverage {
  /** Buckets with data x 300 s (0 when none: the averages are then 0). */
  coveredSec: number;
  /** Start of the first bucket with data in the range (null when none). */
  firstDataSec: number | null;
  /** End of the last bucket with data in the range (null when none). */
  lastDataEndSec: number | null;
  avgBpsIn: number;
  avgBpsOut: number;
}

export interface SeriesPointView extends SeriesTotals {
  bucketStartSec: number;
  /** That bucket's average rate: bytes x 8 / 300 s. */
  bpsIn: number;
  bpsOut: number;
}

/** GET /operators/:op/subjects/:subjectId/series?fromSec&toSec */
export interface SeriesResponse extends CoveredAverage {
  subjectId: string;
  fromSec: number;
  toSec: number;
  bucketSec: number;
  points: SeriesPointView[];
  totals: SeriesTotals;
}

export interface TopSubjectRow extends SeriesTotals, CoveredAverage {
  subjectId: string;
  kind: 'interface' | 'ip_group';
  label: string;
  bytesTotal: number;
  peakBpsIn: number;
  peakBpsOut: number;
}

/**
 * GET /operators/:op/top-subjects?fromSec&toSec&q&offset&limit
 * q: case-insensitive substring of the subject id or label; offset/limit page the rows ranked by
 * bytesTotal (descending, then subjectId); total counts every row that matches.
 */
export interface TopSubjectsResponse {
  fromSec: number;
  toSec: number;
  q: string;
  offset: number;
  limit: number;
  total: number;
  subjects: TopSubjectRow[];
}
