/** An in-memory SeriesReader for route tests: points per subject, subjects' first/last seen from them. */
import type { SeriesPoint, SeriesReader, SubjectInfo } from '../../../hub/ports';

export function fakeSeries(data: Record<string, { kind?: SubjectInfo['kind']; label?: string; points: Partial<SeriesPoint>[] }>): SeriesReader {
  const full = (p: Partial<SeriesPoint>): SeriesPoint => ({ bucketStartSec: 0, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0, ...p });
  return withDerivedReads({
    async readSeries(_op, subjectId, fromSec, toSec) {
      return (data[subjectId]?.points ?? []).map(full).filter((p) => p.bucketStartSec >= fromSec && p.bucketStartSec < toSec);
    },
    async listSubjects() {
      return Object.entries(data).map(([subjectId, s]) => ({
        subjectId, kind: s.kind ?? 'ip_group', label: s.label ?? subjectId.replace(/^ipg:/, ''),
        firstSeenSec: Math.min(...s.points.map((p) => p.bucketStartSec!)), lastSeenSec: Math.max(...s.points.map((p) => p.bucketStartSec!)),
      }));
    },
  });
}

/**
 * A complete SeriesReader from a fake's readSeries and listSubjects: readSlotColumns laid out from
 * readSeries, reportedBucketCount the union of every listed subject's buckets (the store's coverage
 * rule). For fakes only: a real store answers both itself (series-store.contract.ts).
 */
export function withDerivedReads(reader: Pick<SeriesReader, 'readSeries' | 'listSubjects'> & Partial<SeriesReader>): SeriesReader {
  return {
    readSeries: (op, subjectId, fromSec, toSec) => reader.readSeries(op, subjectId, fromSec, toSec),
    listSubjects: (op) => reader.listSubjects(op),
    reportedBucketCount: reader.reportedBucketCount ? (op, fromSec, toSec) => reader.reportedBucketCount!(op, fromSec, toSec) : async (op, fromSec, toSec) => {
      const slots = new Set<number>();
      for (const s of await reader.listSubjects(op)) for (const p of await reader.readSeries(op, s.subjectId, fromSec, toSec)) slots.add(p.bucketStartSec);
      return slots.size;
    },
    readSlotColumns: reader.readSlotColumns ? (op, id, first, n, into) => reader.readSlotColumns!(op, id, first, n, into) : async (op, subjectId, firstSlotSec, n, into) => {
      for (const p of await reader.readSeries(op, subjectId, firstSlotSec, firstSlotSec + n * 300)) {
        const i = (p.bucketStartSec - firstSlotSec) / 300;
        into.bytesIn[i]! += p.bytesIn;
        into.bytesOut[i]! += p.bytesOut;
        into.reported[i] = 1;
      }
    },
  };
}
