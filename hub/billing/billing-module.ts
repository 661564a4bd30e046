import type Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { KeyValueStore } from '../../common/kv/kv-store';
import type { Logger } from '../../common/logger';
import type { Mailer, SeriesReader } from '../ports';
import type { Bill, BillSamples } from './bill';
import { createBillingJobs } from './billing-jobs';
import { createBillingRoutes } from './billing-routes';
import { createBillingService } from './billing-service';
import { createBillingStore } from './billing-store';
import { createBillPartiesLookup } from './bill-parties';
import { renderBillPdf, type BillParties } from './bill-pdf';

export interface BillingModuleDeps {
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  seriesReader: SeriesReader;
  mailer: Mailer;
  /** Run the node-cron bill job (and a catch-up run) on start(); false in tests, which call runDueJobs. */
  startJobs: boolean;
  /** Seconds after a cycle's end before its bills are made, so late summaries are in (default 900). */
  graceSec?: number;
  /** Replaces the PDF report in mails (tests that are not about the PDF; a month's report takes ~1 s). */
  renderPdf?: (bill: Bill, samples: BillSamples) => Promise<Uint8Array>;
  /** The operator's display name for bill PDFs (identity store); absent: the PDF shows the operator id. */
  operatorName?: (operatorId: string) => Promise<string | undefined>;
  /** This hub process (config.hubId): stored on the bill runs it makes, shown by GET …/bill-runs/latest on every hub. */
  hubId?: string;
}

/**
 * 95th-percentile bill plans for the operators' own customers: plans, bills, reports (graph, data
 * points, CSV, PDF), e-mail of each report, and the scheduled bill run. Wire into create-hub.
 */
export function createBillingModule(deps: BillingModuleDeps) {
  const log = deps.log.child({ module: 'billing' });
  const store = createBillingStore(deps.kv);
  // The PDF names the operator and customer and prints times in the operator's zone (bill-parties.ts).
  const partiesOf = createBillPartiesLookup({ seriesReader: deps.seriesReader, operatorName: deps.operatorName });
  const billPdf = async (bill: Bill, samples: BillSamples, override: BillParties = {}) => renderBillPdf(bill, samples, { ...(await partiesOf(bill)), ...override });
  const service = createBillingService({ store, clock: deps.clock, log, seriesReader: deps.seriesReader, mailer: deps.mailer, graceSec: deps.graceSec ?? 900, renderPdf: deps.renderPdf ?? billPdf, hubId: deps.hubId });
  const jobs = createBillingJobs({ clock: deps.clock, log, runDueJobs: (nowMs: number) => service.runDue(nowMs), section: store.sections.section('job:bill-run') });
  // Through the jobs' single flight, so a call and a node-cron tick never run at once.
  const runDueJobs = (nowMs: number) => jobs.runNow(nowMs);
  const routers: Router[] = [createBillingRoutes({ service, store, seriesReader: deps.seriesReader, renderPdf: billPdf })];
  return {
    name: 'billing' as const,
    routers,
    async start(): Promise<void> {
      // The catch-up run goes on in the background: a long one must not hold up the hub's start.
      if (deps.startJobs) void jobs.start();
    },
    async stop(): Promise<void> {
      await jobs.stop();
      // A report mail started when a bill was made (issue 11) finishes before the store closes.
      await service.mailsIdle();
    },
    /** Bills that fell due up to nowMs (idempotent), then their report mails. */
    runDueJobs,
    /** The subject stopped being managed at atMs (default now): if a plan holds it, it leaves the plan and is billed up to then. */
    unmanageSubject: (operatorId: string, subjectId: string, atMs?: number): Promise<Bill[]> => service.unmanageSubject(operatorId, subjectId, atMs),
    /** Subjects held by the operator's plans: a change of collection checks which of them stop being managed. */
    subjectsInUse: (operatorId: string): Promise<Set<string>> => store.heldSubjects(operatorId),
    /** For tests and the bench. */
    service,
    store,
    jobs,
    /** A bill's PDF with its parties' names (the customer view serves it too). */
    billPdf,
  };
}

export type BillingModule = ReturnType<typeof createBillingModule>;
