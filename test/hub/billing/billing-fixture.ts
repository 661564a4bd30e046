import { createManualClock } from '../../../common/clock';
import type { Clock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createBillingModule } from '../../../hub/billing/billing-module';
import type { Principal } from '../../../hub/http/principal';
import type { MailMessage, Mailer, SeriesPoint, SeriesReader, SubjectInfo } from '../../../hub/ports';
import { callApi, createTestApp } from '../../helpers/test-app';
import { withDerivedReads } from '../store/fake-series';

export const sec = (iso: string) => Date.parse(iso) / 1000;
export const ms = (iso: string) => Date.parse(iso);

export const admin: Principal = { userId: 'u1', username: 'admin1', role: 'operator_admin', operatorId: 'isp1' };
export const readonly: Principal = { userId: 'u2', username: 'noc1', role: 'operator_readonly', operatorId: 'isp1' };
export const otherAdmin: Principal = { userId: 'u3', username: 'admin2', role: 'operator_admin', operatorId: 'isp2' };

/** A SeriesReader over points put in by the test: only buckets with data come back, like hub/store. */
export function createFakeSeries() {
  const points = new Map<string, SeriesPoint[]>();
  const key = (op: string, s: string) => `${op}|${s}`;
  const reader: SeriesReader = withDerivedReads({
    async readSeries(op, subjectId, fromSec, toSec) {
      return (points.get(key(op, subjectId)) ?? []).filter((p) => p.bucketStartSec >= fromSec && p.bucketStartSec < toSec).sort((a, b) => a.bucketStartSec - b.bucketStartSec);
    },
    async listSubjects(op) {
      const out: SubjectInfo[] = [];
      for (const [k, ps] of points) {
        const [o, subjectId] = k.split('|') as [string, string];
        if (o !== op) continue;
        out.push({ subjectId, kind: subjectId.startsWith('if:') ? 'interface' : 'ip_group', label: subjectId, firstSeenSec: ps[0]?.bucketStartSec ?? 0, lastSeenSec: ps[ps.length - 1]?.bucketStartSec ?? 0 });
      }
      return out;
    },
    async reportedBucketCount(op, fromSec, toSec) {
      const slots = new Set<number>();
      for (const [k, ps] of points) if (k.startsWith(`${op}|`)) for (const p of ps) if (p.bucketStartSec >= fromSec && p.bucketStartSec < toSec) slots.add(p.bucketStartSec);
      return slots.size;
    },
  });
  return {
    reader,
    /** bytes per slot from startSec on, one slot per array element (0 bytes still counts as reported). */
    add(op: string, subjectId: string, startSec: number, bytesIn: number[], bytesOut: number[]) {
      const list = points.get(key(op, subjectId)) ?? [];
      for (let i = 0; i < bytesIn.length; i++) {
        list.push({ bucketStartSec: startSec + i * 300, bytesIn: bytesIn[i]!, bytesOut: bytesOut[i] ?? 0, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 });
      }
      points.set(key(op, subjectId), list);
    },
    touch(op: string, subjectId: string) { if (!points.has(key(op, subjectId))) points.set(key(op, subjectId), []); },
  };
}

export function createCapturingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return { sent, async send(m) { sent.push(m); return { id: String(sent.length) }; } };
}

/** realPdf: render the pdfmake report in mails (slow: ~1 s per month of samples); else a stub PDF. */
export function setupBilling(startIso: string, opts: { clock?: Clock; startJobs?: boolean; mailer?: Mailer; realPdf?: boolean } = {}) {
  const clock = opts.clock ?? createManualClock(ms(startIso));
  const series = createFakeSeries();
  const mailer = createCapturingMailer();
  const kv = createMemoryKvStore();
  const billing = createBillingModule({ kv, clock, log: silentLogger, seriesReader: series.reader, mailer: opts.mailer ?? mailer, startJobs: opts.startJobs ?? false,
    ...(opts.realPdf ? {} : { renderPdf: async () => new TextEncoder().encode('%PDF-stub') }),
  });
  const app = createTestApp(billing.routers);
  const api = (method: string, path: string, body?: unknown, principal: Principal = admin) =>
    callApi(app, method, `/api/v1/operators/isp1${path}`, { principal, body });
  return { clock, series, mailer, kv, billing, app, api };
}

export const basePlan = {
  name: 'Gold 10M', description: 'Customer A uplink', billingPeriod: 'monthly', generationDay: 1,
  currency: 'USD', baseSpeedBps: 10_000_000, baseCostMinor: 50_000, additionalSpeedBps: 1_000_000, additionalCostMinor: 2_500,
  percentileMethod: 'merge', emails: 'noc@cust.example, billing@cust.example',
};
