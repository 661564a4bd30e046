/** An in-memory SeriesReader for route tests: points per subject, subjects' first/last seen from them. */
import type { SeriesPoint, SeriesReader, SubjectInfo } from '../../../hub/ports';

export function fakeSeries(data: Record<string, { kind?: SubjectInfo['kind']; label?: string; points: Partial<SeriesPoint>[] }>): SeriesReader {
  const full = (p: Partial<SeriesPoint>): SeriesPoint => ({ bucketStartSec: 0, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0, ...p });
  return {
    async readSeries(_op, subjectId, fromSec, toSec) {
      return (data[subjectId]?.points ?? []).map(full).filter((p) => p.bucketStartSec >= fromSec && p.bucketStartSec < toSec);
    },
    async listSubjects() {
      return Object.entries(data).map(([subjectId, s]) => ({
        subjectId, kind: s.kind ?? 'ip_group', label: s.label ?? subjectId.replace(/^ipg:/, ''),
        firstSeenSec: Math.min(...s.points.map((p) => p.bucketStartSec!)), lastSeenSec: Math.max(...s.points.map((p) => p.bucketStartSec!)),
      }));
    },
  } as SeriesReader;
}
