import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { hubError } from '../errors';
import type { Mailer, SeriesReader } from '../ports';
import type { Bill, BillSamples } from './bill';
import { computeBill, spanSlots } from './bill';
import type { Association, BillPlan, EndReason } from './bill-plan';
import {
  activeSubjectIds, currentTariff, parseBillCycle, parseEmails, parseGenerationDay, parseSubjectIds,
  parseTariffFields, parseText, tariffForCycle, withTariffChange,
} from './bill-plan';
import type { BillingStore } from './billing-store';
import type { DueBill } from './due-bills';
import { dueBills } from './due-bills';
import { renderBillPdf } from './bill-pdf';
import { formatMoney } from '../../common/money';
import { formatBps } from './rates';
import { SLOT_SEC } from './percentile';
import { bucketStartSecOf } from '../../common/bucket';
import type { BillPreview, BillRunLatestResponse } from '../../common/api/bills';
import { startBillRunRecord } from './bill-run-record';
import { idempotencyKeyOf } from '../commerce/invoice-requests';
import { previewBill, previewSpan } from './bill-preview';

export interface BillingServiceDeps {
  store: BillingStore;
  clock: Clock;
  log: Logger;
  seriesReader: SeriesReader;
  mailer: Mailer;
  /** Seconds after a cycle's end before its bills are made, so late summaries are in. */
  graceSec: number;
  /** The report attached to each bill's mail (default: the pdfmake report, bill-pdf.ts). */
  renderPdf?: (bill: Bill, samples: BillSamples) => Promise<Uint8Array>;
  /** This hub process (config.hubId), stored on the bill runs it makes; absent: runs name no hub. */
  hubId?: string;
}

const TARIFF_FIELDS = ['currency', 'baseSpeedBps', 'baseCostMinor', 'additionalSpeedBps', 'additionalCostMinor', 'percentileMethod'] as const;

/**
 * Plans, subject association and bill generation. Plan changes and bill numbering go through one
 * queue (`serialized`), which is what makes "a subject in at most one plan" and "bill numbers without
 * gaps" hold: the check and the atomic write happen with no other change in between.
 */
export function createBillingService(deps: BillingServiceDeps) {
  const { store, clock, log, seriesReader } = deps;
  // Across hub processes too on a shared store: plan changes and bill numbers stay one at a time.
  const queue = store.sections.section('billing');
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);
  const nowSec = () => Math.floor(clock.nowMs() / 1000);
  // The last number issued, per operator: remembered only when no other process issues numbers.
  const lastBillNos = new Map<string, number>();
  // Report mails: one send at a time (two would mail the same pending bill twice); a request made
  // while one is waiting to start shares it, since that one will see every bill stored by then.
  const mailQueue = store.sections.section('billing-mail');
  let mailWaiting: Promise<number> | undefined;

  async function requirePlan(operatorId: string, planId: string): Promise<BillPlan> {
    const plan = await store.getPlan(operatorId, planId);
    if (!plan || plan.deletedAtMs !== undefined) throw hubError('NOT_FOUND', `no bill plan ${planId}`);
    return plan;
  }

  async function assertFree(operatorId: string, subjectIds: string[], planId: string): Promise<void> {
    for (const s of subjectIds) {
      const holder = await store.planOfSubject(operatorId, s);
      if (holder !== undefined && holder !== planId) {
        throw hubError('SUBJECT_ALREADY_IN_PLAN', `subject ${s} already belongs to bill plan ${holder}`, { subjectId: s, planId: holder });
      }
    }
  }

  /** Ends the associations of these subjects at atSec; returns the bills now due for them. */
  function closeAssociations(plan: BillPlan, subjectIds: string[], atSec: number, reason: EndReason): DueBill[] {
    for (const a of plan.associations) {
      if (a.toSec === undefined && subjectIds.includes(a.subjectId)) { a.toSec = atSec; a.endReason = reason; }
    }
    // The removal bill falls due now; afterSec just below the instant selects exactly it.
    return dueBills(plan, atSec - 1, atSec, deps.graceSec).filter((d) => subjectIds.includes(d.subjectId) && d.reason !== 'cycle_end');
  }

  /**
   * Coverage is per operator and span, the same for every subject billed in a run: a run asks the
   * reader once per (operator, span) instead of once per subject.
   */
  function coverageOf(operatorId: string, fromSec: number, toSec: number, memo?: Map<string, Promise<number>>): Promise<number> {
    const key = `${operatorId}|${fromSec}|${toSec}`;
    const hit = memo?.get(key);
    if (hit) return hit;
    const p = seriesReader.reportedBucketCount(operatorId, fromSec, toSec);
    memo?.set(key, p);
    return p;
  }

  /** The span's slots, straight into the columns (no point object per slot; 10,000 subject-months in a run). */
  async function samplesOf(due: DueBill, firstSlotSec: number, n: number): Promise<BillSamples> {
    const samples: BillSamples = { firstSlotSec, bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
    await seriesReader.readSlotColumns(due.operatorId, due.subjectId, firstSlotSec, n, samples);
    return samples;
  }

  /** The bill of one due span: made now, or the one already made (created: false). */
  async function generate(due: DueBill, plan: BillPlan, coverageMemo?: Map<string, Promise<number>>): Promise<{ bill: Bill; created: boolean }> {
    const existing = await store.billNoForKey(due.operatorId, due.planId, due.span.startSec, due.subjectId);
    if (existing !== undefined) return { bill: (await store.getBill(due.operatorId, existing))!, created: false };
    const { firstSlotSec, n } = spanSlots(due.span);
    const endSlotSec = firstSlotSec + n * SLOT_SEC;
    const samples = await samplesOf(due, firstSlotSec, n);
    const coverageSlots = await coverageOf(due.operatorId, firstSlotSec, endSlotSec, coverageMemo);
    // The bill is computed (the 95th of up to 17,856 samples) before it joins the queue, which every
    // bill of a run passes one at a time: inside, only the check, the number and the write remain.
    const draft = computeBill({
      plan, tariff: tariffForCycle(plan, due.cycle), cycle: due.cycle, span: due.span, subjectId: due.subjectId,
      reason: due.reason, samples, coverageSlots, billNo: 0, generatedAtMs: clock.nowMs(),
    });
    return serialized(async () => {
      const again = await store.billNoForKey(due.operatorId, due.planId, due.span.startSec, due.subjectId);
      if (again !== undefined) return { bill: (await store.getBill(due.operatorId, again))!, created: false };
      // Only this queue issues numbers in this process, so the last one can be remembered; it
      // moves only after the bill is stored, so a failed write leaves no gap.
      const billNo = ((store.sections.shared ? undefined : lastBillNos.get(due.operatorId)) ?? (await store.lastBillNo(due.operatorId))) + 1;
      const bill: Bill = { ...draft, billNo };
      await store.saveBill(bill, samples, true);
      lastBillNos.set(due.operatorId, billNo);
      log.info({ operatorId: bill.operatorId, billNo, planId: bill.planId, subjectId: bill.subjectId, amountMinor: bill.charge.amountMinor }, 'bill generated');
      return { bill, created: true };
    });
  }

  /** Hands each generated bill's report (PDF attached) to the Mailer; a failure stays pending for the next run. */
  async function sendPendingMailsNow(): Promise<number> {
    let sent = 0;
    for (const { operatorId, billNo } of await store.pendingMails()) {
      try {
        const bill = await store.getBill(operatorId, billNo);
        const samples = await store.getSamples(operatorId, billNo);
        if (bill && samples && bill.emails.length > 0) {
          await deps.mailer.send(billMail(bill, await (deps.renderPdf ?? renderBillPdf)(bill, samples)));
          sent++;
        }
        await store.clearPendingMail(operatorId, billNo);
      } catch (err) {
        log.error({ err: (err as Error).message, operatorId, billNo }, 'bill report mail failed; retried at the next run');
      }
    }
    return sent;
  }

  function sendPendingMails(): Promise<number> {
    if (mailWaiting) return mailWaiting;
    const p = mailQueue.run(() => { mailWaiting = undefined; return sendPendingMailsNow(); });
    mailWaiting = p;
    return p;
  }

  /**
   * Issue 11: a bill's mail goes out when the bill is made, not at the next hourly run. Started in
   * the background (a month's PDF takes about a second, off the request path); the Mailer spools it
   * to the outbox first, so a failed SMTP send is retried by the outbox job as any other mail.
   */
  function mailSoon(bills: Bill[]): void {
    if (bills.length === 0) return;
    sendPendingMails().catch((err: unknown) => log.error({ err: (err as Error).message }, 'bill report mails failed; retried at the next run'));
  }

  async function generateAll(dues: DueBill[], plan: BillPlan): Promise<Bill[]> {
    const bills: Bill[] = [];
    try {
      for (const d of dues) bills.push((await generate(d, plan)).bill);
    } finally {
      mailSoon(bills);
    }
    return bills;
  }

  return {
    requirePlan,

    async createPlan(operatorId: string, body: Record<string, unknown>): Promise<BillPlan> {
      const nowMs = clock.nowMs();
      const subjectIds = parseSubjectIds(body.subjectIds);
      const plan: BillPlan = {
        operatorId,
        planId: randomUUID(),
        name: parseText(body, 'name', 200, true),
        description: parseText(body, 'description', 2000, false),
        billingPeriod: parseBillCycle(body.billingPeriod),
        generationDay: parseGenerationDay(body.generationDay),
        emails: parseEmails(body.emails ?? ''),
        tariffs: [{ ...parseTariffFields(body), effectiveFromSec: 0 }],
        associations: subjectIds.map((subjectId) => ({ subjectId, fromSec: Math.floor(nowMs / 1000) })),
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      };
      return serialized(async () => {
        await assertFree(operatorId, subjectIds, plan.planId);
        await store.savePlan(plan, { claim: subjectIds });
        return plan;
      });
    },

    /**
     * Name, description, e-mails and prices can change; a price change applies from the next cycle.
     * `subjectIds`, when given, is the new set: added ones start now, removed ones are billed now.
     */
    async updatePlan(operatorId: string, planId: string, body: Record<string, unknown>): Promise<{ plan: BillPlan; bills: Bill[] }> {
      const { plan, dues } = await serialized(async () => {
        const plan = await requirePlan(operatorId, planId);
        for (const field of ['billingPeriod', 'generationDay'] as const) {
          if (body[field] !== undefined && body[field] !== plan[field]) {
            throw hubError('PLAN_FIELD_IMMUTABLE', `${field} cannot be changed after the plan is created`, { field });
          }
        }
        const at = nowSec();
        if (body.name !== undefined) plan.name = parseText(body, 'name', 200, true);
        if (body.description !== undefined) plan.description = parseText(body, 'description', 2000, false);
        if (body.emails !== undefined) plan.emails = parseEmails(body.emails);
        if (TARIFF_FIELDS.some((f) => body[f] !== undefined)) {
          const { effectiveFromSec: _, ...current } = currentTariff(plan);
          const next = parseTariffFields({ ...current, ...body });
          if (TARIFF_FIELDS.some((f) => next[f] !== current[f])) plan.tariffs = withTariffChange(plan, next, at);
        }
        let dues: DueBill[] = [];
        let claim: string[] = [];
        let release: string[] = [];
        if (body.subjectIds !== undefined) {
          const wanted = parseSubjectIds(body.subjectIds);
          const active = activeSubjectIds(plan);
          claim = wanted.filter((s) => !active.includes(s));
          release = active.filter((s) => !wanted.includes(s));
          await assertFree(operatorId, claim, planId);
          dues = closeAssociations(plan, release, at, 'subject_removed');
          plan.associations.push(...claim.map((subjectId): Association => ({ subjectId, fromSec: at })));
        }
        plan.updatedAtMs = clock.nowMs();
        await store.savePlan(plan, { claim, release });
        return { plan, dues };
      });
      return { plan, bills: await generateAll(dues, plan) };
    },

    async addSubject(operatorId: string, planId: string, subjectId: string): Promise<BillPlan> {
      const [id] = parseSubjectIds([subjectId]);
      return serialized(async () => {
        const plan = await requirePlan(operatorId, planId);
        if (activeSubjectIds(plan).includes(id!)) return plan;
        await assertFree(operatorId, [id!], planId);
        plan.associations.push({ subjectId: id!, fromSec: nowSec() });
        plan.updatedAtMs = clock.nowMs();
        await store.savePlan(plan, { claim: [id!] });
        return plan;
      });
    },

    /** Ends the subject's association now and generates its bill for the part of the cycle it was in. */
    async removeSubject(operatorId: string, planId: string, subjectId: string, reason: EndReason = 'subject_removed'): Promise<{ plan: BillPlan; bills: Bill[] }> {
      const { plan, dues } = await serialized(async () => {
        const plan = await requirePlan(operatorId, planId);
        if (!activeSubjectIds(plan).includes(subjectId)) throw hubError('NOT_FOUND', `subject ${subjectId} is not in bill plan ${planId}`);
        const dues = closeAssociations(plan, [subjectId], nowSec(), reason);
        plan.updatedAtMs = clock.nowMs();
        await store.savePlan(plan, { release: [subjectId] });
        return { plan, dues };
      });
      return { plan, bills: await generateAll(dues, plan) };
    },

    /**
     * The subject stopped being managed at atMs (interface deselected, its edge revoked, its IP group
     * deleted: hub/edges/subject-management.ts). If a plan holds it, its association ends at that
     * instant, it leaves the plan, and its bill for the cycle up to that instant is made now. The spec:
     * "when a subject is unmanaged or deleted, its bill is generated at that instant".
     * Idempotent: a subject no plan holds is left alone, so a retried call bills nothing twice. An
     * association that began after atMs is a fresh managed period (the subject was added again since)
     * and is not ended by that older event.
     */
    async unmanageSubject(operatorId: string, subjectId: string, atMs: number = clock.nowMs()): Promise<Bill[]> {
      const atSec = Math.floor(atMs / 1000);
      const ended = await serialized(async () => {
        const planId = await store.planOfSubject(operatorId, subjectId);
        const plan = planId === undefined ? undefined : await store.getPlan(operatorId, planId);
        if (!plan || plan.deletedAtMs !== undefined) return undefined;
        const current = plan.associations.find((a) => a.toSec === undefined && a.subjectId === subjectId);
        if (!current || current.fromSec > atSec) return undefined;
        const dues = closeAssociations(plan, [subjectId], atSec, 'subject_unmanaged');
        plan.updatedAtMs = clock.nowMs();
        await store.savePlan(plan, { release: [subjectId] });
        return { plan, dues };
      });
      return ended ? generateAll(ended.dues, ended.plan) : [];
    },

    /** Deleting a plan bills every subject still in it now; the plan stays (marked deleted) for its bills. */
    async deletePlan(operatorId: string, planId: string): Promise<Bill[]> {
      const { plan, dues } = await serialized(async () => {
        const plan = await requirePlan(operatorId, planId);
        const release = activeSubjectIds(plan);
        const dues = closeAssociations(plan, release, nowSec(), 'plan_deleted');
        plan.deletedAtMs = clock.nowMs();
        plan.updatedAtMs = plan.deletedAtMs;
        await store.savePlan(plan, { release });
        return { plan, dues };
      });
      return generateAll(dues, plan);
    },

    /**
     * Every bill that fell due in (lastRun, nowMs], across all operators and plans; then the mails.
     * lastRun only moves when all of them are stored, so a failure is retried at the next run.
     */
    async runDue(nowMs: number, opts: { concurrency?: number } = {}): Promise<{ generated: number; failed: number; mailed: number }> {
      const last = await store.getLastRunMs();
      const afterSec = last === undefined ? -Infinity : Math.floor(last / 1000);
      const atSec = Math.floor(nowMs / 1000);
      const work: { due: DueBill; plan: BillPlan }[] = [];
      for (const plan of await store.listAllPlans()) {
        for (const due of dueBills(plan, afterSec, atSec, deps.graceSec)) work.push({ due, plan });
      }
      const coverageMemo = new Map<string, Promise<number>>();
      const dueByOperator = new Map<string, number>();
      for (const { due } of work) dueByOperator.set(due.operatorId, (dueByOperator.get(due.operatorId) ?? 0) + 1);
      // Stored, so any hub shows this run's progress while it goes on (bill-run-record.ts).
      const record = await startBillRunRecord({ store, clock, log, hubId: deps.hubId }, nowMs, dueByOperator);
      let generated = 0;
      let failed = 0;
      let next = 0;
      const worker = async () => {
        while (next < work.length) {
          const { due, plan } = work[next++]!;
          let outcome: 'made' | 'found' | 'failed';
          try {
            const created = (await generate(due, plan, coverageMemo)).created;
            if (created) generated++;
            outcome = created ? 'made' : 'found';
          } catch (err) {
            failed++;
            outcome = 'failed';
            log.error({ err: (err as Error).message, operatorId: due.operatorId, planId: due.planId, subjectId: due.subjectId }, 'bill generation failed; retried at the next run');
          }
          await record.count(due.operatorId, outcome);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
      if (failed === 0) await store.setLastRunMs(nowMs);
      await record.finish();
      // The mails right after the run (they were always sent here; the run's result reports them).
      const mailed = await sendPendingMails();
      await record.mailed(mailed);
      return { generated, failed, mailed };
    },

    /** Hands each generated bill's report (PDF attached) to the Mailer; a failure stays pending for the next run. */
    sendPendingMails,

    /** Resolves when no report mail send is running or waiting (tests; the hub's stop). */
    mailsIdle: (): Promise<void> => mailQueue.idle(),

    /**
     * This operator's part of its last bill run with bills due (run: null when none yet), read from the
     * store: the same on every hub, live while the run goes on; and the last run of all (lastCheck).
     */
    async latestRun(operatorId: string): Promise<BillRunLatestResponse> {
      const [mine, check] = await Promise.all([store.runOf(operatorId), store.getRunCheck()]);
      const run = mine && {
        startedAtMs: mine.head.startedAtMs,
        ...(mine.head.finishedAtMs !== undefined ? { finishedAtMs: mine.head.finishedAtMs } : {}),
        due: mine.counts.due, done: mine.counts.done, made: mine.counts.made, failed: mine.counts.failed,
        ...(mine.head.mailed !== undefined ? { mailed: mine.head.mailed } : {}),
        runAtMs: mine.head.runAtMs,
        ...(mine.head.hubId !== undefined ? { hubId: mine.head.hubId } : {}),
        updatedAtMs: mine.counts.updatedAtMs,
      };
      const lastCheck = check && {
        runAtMs: check.runAtMs, startedAtMs: check.startedAtMs, finishedAtMs: check.finishedAtMs,
        ...(check.hubId !== undefined ? { hubId: check.hubId } : {}),
      };
      return { run: run ?? null, lastCheck: lastCheck ?? null };
    },

    /** The current cycle so far for each subject in the plan (bill-preview.ts), read as the bill run reads. */
    async preview(operatorId: string, planId: string): Promise<{ asOfSec: number; previews: BillPreview[] }> {
      const plan = await requirePlan(operatorId, planId);
      const now = nowSec();
      const previews: BillPreview[] = [];
      for (const subjectId of activeSubjectIds(plan)) {
        const where = previewSpan(plan, subjectId, now);
        if (!where) continue;
        const { firstSlotSec, n } = spanSlots(where.span);
        const due: DueBill = { operatorId, planId, subjectId, cycle: where.cycle, span: where.span, reason: 'cycle_end', dueAtSec: now };
        const samples = await samplesOf(due, firstSlotSec, n);
        const coverageSlots = n === 0 ? 0 : await coverageOf(operatorId, firstSlotSec, firstSlotSec + n * SLOT_SEC);
        previews.push(previewBill({ plan, subjectId, ...where, samples, coverageSlots }));
      }
      return { asOfSec: bucketStartSecOf(now), previews };
    },

    /**
     * Generate now (issue 11): bills one subject for the cycle so far WITHOUT taking it out of its plan.
     * The subject's association is cut at a 5-minute boundary: the stretch before it ends with reason
     * 'generated_now' and is billed at once; a new stretch starts at that same instant, so the next
     * regular bill covers only the slots after it. Both are bills of the same cycle, each prorated by
     * its slots (billedSlots add up to the cycle's), each ranking its own samples: no slot is in two
     * bills, none is in neither. The cut is at most untilSec and at most the last boundary graceSec
     * before now, so the summaries edges deliver late are in the slots billed (a slot billed
     * before its data arrived would lose that data). An Idempotency-Key makes a retry answer the same
     * bill (replayed: true) instead of cutting again.
     */
    async generateNow(operatorId: string, planId: string, subjectId: string, body: Record<string, unknown>, keyHeader?: string): Promise<{ bill: Bill; replayed: boolean }> {
      const key = idempotencyKeyOf(keyHeader, body.idempotencyKey);
      const untilRaw = body.untilSec;
      if (untilRaw !== undefined && (typeof untilRaw !== 'number' || !Number.isSafeInteger(untilRaw) || untilRaw % SLOT_SEC !== 0)) {
        throw hubError('VALIDATION_FAILED', 'untilSec: Unix seconds on a 5-minute boundary (a multiple of 300)', { field: 'untilSec' });
      }
      const cut = await serialized(async () => {
        const plan = await requirePlan(operatorId, planId);
        if (key !== undefined) {
          const done = plan.associations.find((a) => a.generateNowKey === key);
          if (done) {
            if (done.subjectId !== subjectId) throw hubError('CONFLICT', `Idempotency-Key ${key} was used to bill subject ${done.subjectId}`, { field: 'idempotencyKey' });
            return { plan, dues: dueBills(plan, done.toSec! - 1, done.toSec!, 0).filter((d) => d.subjectId === subjectId), replayed: true };
          }
        }
        const current = plan.associations.find((a) => a.toSec === undefined && a.subjectId === subjectId);
        if (!current) throw hubError('NOT_FOUND', `subject ${subjectId} is not in bill plan ${planId}`);
        const latestSec = bucketStartSecOf(nowSec() - deps.graceSec);
        const atSec = untilRaw === undefined ? latestSec : (untilRaw as number);
        if (atSec > latestSec) {
          throw hubError('VALIDATION_FAILED', `untilSec: at most ${new Date(latestSec * 1000).toISOString()} (the last 5-minute boundary ${deps.graceSec} s before now: later summaries may still be on their way)`, { field: 'untilSec', latestSec });
        }
        if (atSec <= current.fromSec) {
          throw hubError('VALIDATION_FAILED', `nothing to bill yet: the subject's unbilled stretch starts ${new Date(current.fromSec * 1000).toISOString()}, and a bill now can only end at ${new Date(atSec * 1000).toISOString()} (a 5-minute boundary ${deps.graceSec} s before now or earlier)`, { field: 'untilSec', fromSec: current.fromSec });
        }
        current.toSec = atSec;
        current.endReason = 'generated_now';
        if (key !== undefined) current.generateNowKey = key;
        plan.associations.push({ subjectId, fromSec: atSec });
        plan.updatedAtMs = clock.nowMs();
        await store.savePlan(plan); // the subject index is unchanged: the plan still holds it
        // Grace 0: the piece ending at atSec is due at atSec even when atSec is the cycle's end.
        return { plan, dues: dueBills(plan, atSec - 1, atSec, 0).filter((d) => d.subjectId === subjectId), replayed: false };
      });
      const bills = await generateAll(cut.dues, cut.plan);
      const bill = bills[bills.length - 1];
      if (!bill) throw hubError('CONFLICT', 'no whole 5-minute slot to bill in that span');
      return { bill, replayed: cut.replayed };
    },

    async billDetails(operatorId: string, billNo: number): Promise<{ bill: Bill; samples: BillSamples }> {
      const bill = await store.getBill(operatorId, billNo);
      const samples = bill && (await store.getSamples(operatorId, billNo));
      if (!bill || !samples) throw hubError('NOT_FOUND', `no bill ${billNo}`);
      return { bill, samples };
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;

function billMail(bill: Bill, pdf: Uint8Array) {
  const period = `${new Date(bill.spanStartSec * 1000).toISOString()} – ${new Date(bill.spanEndSec * 1000).toISOString()}`;
  return {
    to: bill.emails,
    subject: `Bill ${bill.billNo}: ${bill.planName}, ${bill.subjectId}`,
    text: [
      `Bill ${bill.billNo} for ${bill.subjectId} (plan ${bill.planName})`,
      `Period: ${period}`,
      `95th percentile: ${formatBps(bill.p95Bps)} (${bill.method === 'merge' ? 'In & Out merge' : 'In & Out separate'}; ${bill.rankedSamples} samples, ${bill.discardedSamples} discarded)`,
      ...(bill.slots ? [`Samples: ${bill.slots.presentSlots} of ${bill.slots.spanSlots} five-minute slots reported, ${bill.slots.zeroFilledSlots} without data counted as zero (coverage ${bill.slots.coveragePercent.toFixed(2)} %); ${bill.slots.billedSlots} of ${bill.slots.cycleSlots} slots of the cycle billed`] : []),
      `Amount: ${formatMoney(bill.charge.amountMinor, bill.charge.currency)}`,
      `Rule: ${bill.charge.rule}`,
      '',
      'The report with the graph and every 5-minute sample is attached.',
    ].join('\n'),
    attachments: [{ filename: `bill-${bill.billNo}.pdf`, content: pdf, contentType: 'application/pdf' }],
  };
}
