import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../common/clock';
import { hubError } from '../errors';
import { assertOperatorAccess } from '../http/principal';
import type { SeriesPoint, SeriesReader } from '../ports';
import { BUCKET_SEC, bucketStartSecOf } from '../../common/bucket';

const MAX_RANGE_SEC = 400 * 86_400;
const FIELDS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'flowsIn', 'flowsOut'] as const;

/** fromSec/toSec query parameters: integers, from < to, at most 400 days; default the last 24 hours. */
export function readRange(ctx: Context, clock: Clock): { fromSec: number; toSec: number } {
  const parse = (name: string, def: number) => {
    const raw = ctx.query[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0) throw hubError('BAD_REQUEST', `${name}: Unix seconds`);
    return n;
  };
  const nowSec = Math.floor(clock.nowMs() / 1000);
  const toSec = parse('toSec', bucketStartSecOf(nowSec) + BUCKET_SEC);
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
    ctx.body = {
      subjectId: ctx.params.subjectId, fromSec, toSec, bucketSec: BUCKET_SEC,
      points: points.map((p) => ({ ...p, bpsIn: bitsPerSec(p.bytesIn), bpsOut: bitsPerSec(p.bytesOut) })),
      totals: totalsOf(points),
    };
  });

  router.get('/top-subjects', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const { fromSec, toSec } = readRange(ctx, deps.clock);
    const limitRaw = ctx.query.limit === undefined ? 10 : Number(ctx.query.limit);
    if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > 1000) throw hubError('BAD_REQUEST', 'limit: 1 to 1000');
    const subjects = (await deps.series.listSubjects(ctx.params.operatorId)).filter((s) => s.lastSeenSec >= fromSec && s.firstSeenSec < toSec);
    const rows = [];
    for (const s of subjects) {
      const points = await deps.series.readSeries(ctx.params.operatorId, s.subjectId, fromSec, toSec);
      const totals = totalsOf(points);
      rows.push({
        subjectId: s.subjectId, kind: s.kind, label: s.label, ...totals, bytesTotal: totals.bytesIn + totals.bytesOut,
        peakBpsIn: bitsPerSec(Math.max(0, ...points.map((p) => p.bytesIn))), peakBpsOut: bitsPerSec(Math.max(0, ...points.map((p) => p.bytesOut))),
      });
    }
    rows.sort((a, b) => b.bytesTotal - a.bytesTotal || (a.subjectId < b.subjectId ? -1 : 1));
    ctx.body = { fromSec, toSec, subjects: rows.slice(0, limitRaw) };
  });

  return router;
}
