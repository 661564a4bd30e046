import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../common/clock';
import { hubError } from '../errors';
import { assertOperatorAccess } from '../http/principal';
import type { SeriesPoint, SeriesReader } from '../ports';
import { BUCKET_SEC, bucketStartSecOf } from '../../common/bucket';
import type { CoveredAverage, SeriesResponse, TopSubjectRow, TopSubjectsResponse } from '../../common/api/series';

const MAX_RANGE_SEC = 400 * 86_400;
const FIELDS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'flowsIn', 'flowsOut'] as const;

/**
 * fromSec/toSec query parameters: integers, from < to, at most 400 days; default the 24 hours up to
 * the start of the running bucket (the last complete one ends there: a window never runs into the future).
 */
export function readRange(ctx: Context, clock: Clock): { fromSec: number; toSec: number } {
  const parse = (name: string, def: number) => {
    const raw = ctx.query[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0) throw hubError('BAD_REQUEST', `${name}: Unix seconds`);
    return n;
  };
  const nowSec = Math.floor(clock.nowMs() / 1000);
  const toSec = parse('toSec', bucketStartSecOf(nowSec));
  const fromSec = parse('fromSec', toSec - 86_400);
  if (fromSec >= toSec) throw hubError('BAD_REQUEST', 'fromSec must be before toSec');
  if (toSec - fromSec > MAX_RANGE_SEC) throw hubError('BAD_REQUEST', 'at most 400 days per request');
  return { fromSec, toSec };
}

function totalsOf(points: SeriesPoint[]) {
  const totals = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 };
  for (const p of points) for (const f of FIELDS) totals[f] += p[f];
  return totals;
}

/** Average rate over the 5-minute bucket: bytes x 8 / 300 s. */
const bitsPerSec = (bytes: number) => Math.round((bytes * 8) / BUCKET_SEC);

/**
 * Averages over the COVERED span: 300 s per bucket with data for the subject, not the requested
 * window. Dividing by the window made a subject seen for one hour of a 24-hour window read 1/24 of
 * its rate (issue 11: 888 kbps shown for ~21 Mbps). A bucket the store holds is one the edge
 * reported for the subject; a bucket without a point is a gap, not a zero.
 */
export function coveredAverage(points: SeriesPoint[]): CoveredAverage {
  if (points.length === 0) return { coveredSec: 0, firstDataSec: null, lastDataEndSec: null, avgBpsIn: 0, avgBpsOut: 0 };
  const coveredSec = new Set(points.map((p) => p.bucketStartSec)).size * BUCKET_SEC;
  let bytesIn = 0;
  let bytesOut = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const p of points) {
    bytesIn += p.bytesIn; bytesOut += p.bytesOut;
    first = Math.min(first, p.bucketStartSec); last = Math.max(last, p.bucketStartSec);
  }
  return {
    coveredSec, firstDataSec: first, lastDataEndSec: last + BUCKET_SEC,
    avgBpsIn: Math.round((bytesIn * 8) / coveredSec), avgBpsOut: Math.round((bytesOut * 8) / coveredSec),
  };
}

function readInt(ctx: Context, name: string, def: number, min: number, max: number): number {
  const raw = ctx.query[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < min || n > max) throw hubError('BAD_REQUEST', `${name}: an integer from ${min} to ${max}`);
  return n;
}

/**
 * Read side of the series: /api/v1/operators/:operatorId/{subjects, subjects/:subjectId/series, top-subjects}.
 * The subject id is URL-encoded in the path ("if:10.0.0.1/5" -> "if%3A10.0.0.1%2F5").
 */
export function createSeriesRoutes(deps: { series: SeriesReader; clock: Clock }): Router {
  const router = new Router({ prefix: '/api/v1/operators/:operatorId' });

  router.get('/subjects', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { subjects: await deps.series.listSubjects(ctx.params.operatorId) };
  });

  router.get('/subjects/:subjectId/series', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const { fromSec, toSec } = readRange(ctx, deps.clock);
    const points = await deps.series.readSeries(ctx.params.operatorId, ctx.params.subjectId, fromSec, toSec);
    const body: SeriesResponse = {
      subjectId: ctx.params.subjectId, fromSec, toSec, bucketSec: BUCKET_SEC,
      points: points.map((p) => ({ ...p, bpsIn: bitsPerSec(p.bytesIn), bpsOut: bitsPerSec(p.bytesOut) })),
      totals: totalsOf(points),
      ...coveredAverage(points),
    };
    ctx.body = body;
  });

  // Search (q), paging (offset, limit) and the count of matches (total) run here, over every
  // subject of the operator, so the page never has to fetch them all.
  router.get('/top-subjects', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const { fromSec, toSec } = readRange(ctx, deps.clock);
    const limit = readInt(ctx, 'limit', 10, 1, 1000);
    const offset = readInt(ctx, 'offset', 0, 0, 1_000_000);
    const qRaw = ctx.query.q;
    if (qRaw !== undefined && (typeof qRaw !== 'string' || qRaw.length > 200)) throw hubError('BAD_REQUEST', 'q: one string of at most 200 characters');
    const q = (qRaw ?? '').trim();
    const needle = q.toLowerCase();
    const subjects = (await deps.series.listSubjects(ctx.params.operatorId))
      .filter((s) => s.lastSeenSec >= fromSec && s.firstSeenSec < toSec)
      .filter((s) => !needle || s.subjectId.toLowerCase().includes(needle) || (s.label || '').toLowerCase().includes(needle));
    const rows: TopSubjectRow[] = [];
    for (const s of subjects) {
      const points = await deps.series.readSeries(ctx.params.operatorId, s.subjectId, fromSec, toSec);
      if (points.length === 0) continue;
      const totals = totalsOf(points);
      rows.push({
        subjectId: s.subjectId, kind: s.kind, label: s.label, ...totals, bytesTotal: totals.bytesIn + totals.bytesOut,
        peakBpsIn: bitsPerSec(Math.max(0, ...points.map((p) => p.bytesIn))), peakBpsOut: bitsPerSec(Math.max(0, ...points.map((p) => p.bytesOut))),
        ...coveredAverage(points),
      });
    }
    rows.sort((a, b) => b.bytesTotal - a.bytesTotal || (a.subjectId < b.subjectId ? -1 : 1));
    const body: TopSubjectsResponse = { fromSec, toSec, q, offset, limit, total: rows.length, subjects: rows.slice(offset, offset + limit) };
    ctx.body = body;
  });

  return router;
}
