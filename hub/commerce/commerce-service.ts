/**
 * The commerce use cases: load a subscription, apply the pure rules, persist, and tell the edges.
 * Every read-modify-write runs through one SerialQueue. Before any change, time-driven steps due by
 * now (trial expiry, end of period) are applied first, so billing snapshots stay in time order even
 * when a job ran late or the hub was down.
 */
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { SAFE_ID } from '../../common/topics';
import { hubError } from '../errors';
import type { CollectionAnswer, CollectionSpan, EdgeConfigPusher } from '../ports';
import { nextPeriod, periodContaining } from './invoice-period';
import type { CommerceRepository } from './commerce-repository';
import type { Invoice, InvoiceDraft } from './invoice';
import { buildInvoiceDraft, formatInvoiceNumber, invoiceIdempotencyKey } from './invoice';
import type { IssuedTerms } from './invoice-terms';
import type { CommerceJobName } from './job-schedule';
import { formatMinor } from '../../common/money';
import { addonPriceBasis } from './addon-state';
import * as addonRules from './netflow-addon';
import type { PriceBook } from './price-book';
import { findTier, fitTier, validatePriceBook } from './price-book';
import type { Subscription, Transition } from './subscription';
import { newSubscription, then, unchanged } from './subscription';
import { addonFeeMinorOf, applyPriceBook, changeTier, setActiveCustomers } from './subscription-rules';

export interface CommerceServiceDeps {
  repo: CommerceRepository;
  clock: Clock;
  log: Logger;
  /** Called after an operator's collection state changed (trial started/expired, activation, end of period). */
  edgeConfigPusher: EdgeConfigPusher;
  /** Delete every series of the operator; must be idempotent (it is retried after a failure). */
  purgeOperatorData(operatorId: string): Promise<void>;
  /**
   * The operators (tenants), when the identity module is wired: unknown ids answer 404, and the
   * minute job gives every operator a subscription. Without it any operator id gets a subscription
   * from its first use.
   */
  operators?: {
    createdAtMs(operatorId: string): Promise<number | undefined>;
    listIds(): Promise<string[]>;
  };
  /** Seller, buyer and due date frozen into each invoice at issue (invoice-terms.ts); absent: none printed. */
  invoiceTerms?(operatorId: string, issuedAtMs: number): Promise<IssuedTerms>;
}

type Rule = (sub: Subscription, book: PriceBook, nowMs: number) => Transition;

/** Apply due time-driven steps (repeatedly, in case one step makes another due). */
function advanceAll(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  let t = unchanged(sub);
  for (let i = 0; i < 4; i++) {
    const step = addonRules.advance(t.sub, book, nowMs);
    if (step.snapshots.length === 0 && !step.collectionChanged && step.sub === t.sub) break;
    t = then(t, () => step);
  }
  return t;
}

export function createCommerceService(deps: CommerceServiceDeps) {
  const { repo, log } = deps;
  const queue = repo.sections.section('commerce');

  async function push(operatorIds: Iterable<string>): Promise<void> {
    for (const operatorId of operatorIds) {
      try {
        await deps.edgeConfigPusher.pushConfigs(operatorId);
      } catch (err) {
        // The collection policy is already right for ingest; edges also get their config on reconnect.
        log.error({ err, operatorId }, 'commerce: pushing edge configs after a collection change failed');
      }
    }
  }

  /** Load or create (unlocked: call inside the queue). */
  async function loadOrCreate(operatorId: string, book: PriceBook, nowMs: number): Promise<{ sub: Subscription; created: Transition | undefined }> {
    const sub = await repo.getSubscription(operatorId);
    if (sub) return { sub, created: undefined };
    if (!SAFE_ID.test(operatorId)) throw hubError('VALIDATION_FAILED', 'operatorId must be 1-64 of [A-Za-z0-9_-]');
    let createdAtMs = nowMs;
    if (deps.operators) {
      const at = await deps.operators.createdAtMs(operatorId);
      if (at === undefined) throw hubError('NOT_FOUND', `no operator ${operatorId}`);
      // Billing starts when the operator was created, but never before the current period: an
      // operator older than the commerce module is not billed for months that were never tracked.
      createdAtMs = Math.min(nowMs, Math.max(at, periodContaining(nowMs).startMs));
    }
    const t = newSubscription(operatorId, book, createdAtMs);
    return { sub: t.sub, created: t };
  }

  /** load → advance → rule → save (one batch) → push when collection changed. */
  async function mutate(operatorId: string, rule: Rule): Promise<Subscription> {
    const { saved, changed } = await queue.run(async () => {
      const nowMs = deps.clock.nowMs();
      const book = await repo.getPriceBook();
      const { sub, created } = await loadOrCreate(operatorId, book, nowMs);
      let t = then(created ?? unchanged(sub), (s) => advanceAll(s, book, nowMs));
      t = then(t, (s) => rule(s, book, nowMs));
      const saved = await repo.saveSubscription(t.sub, t.snapshots);
      return { saved, changed: t.collectionChanged };
    });
    if (changed) await push([operatorId]);
    return saved;
  }

  async function ensureSubscription(operatorId: string): Promise<Subscription> {
    return mutate(operatorId, (s) => unchanged(s));
  }

  async function viewOf(operatorId: string) {
    const sub = await ensureSubscription(operatorId);
    const nowMs = deps.clock.nowMs();
    const book = await repo.getPriceBook();
    const tier = findTier(book, sub.tierId) ?? fitTier(book, sub.activeCustomers);
    const period = periodContaining(nowMs);
    const addonBasis = addonPriceBasis(tier, sub.addon);
    const addonFee = addonFeeMinorOf(addonBasis, book);
    const snapshots = await repo.snapshotsFor(operatorId, period.startMs, period.endMs);
    const preview = buildInvoiceDraft(operatorId, period, snapshots);
    return {
      operatorId,
      currency: book.currency,
      tier: { ...tier, monthlyFee: formatMinor(tier.monthlyFeeMinor, book.currency) },
      activeCustomers: sub.activeCustomers,
      overLimit: book.overLimit,
      period,
      addon: {
        name: addonRules.ADDON_NAME,
        ...addonRules.addonStateView(sub),
        daysLeft: addonRules.daysLeft(sub, nowMs),
        eligible: tier.netflowEligible,
        percentOfFee: book.addonPercentOfFee,
        /** The tier whose fee the price follows: the tier in force, or the last eligible one after a downgrade. */
        priceTier: addonBasis,
        priceMonthlyMinor: addonFee.monthlyMinor,
        priceMonthly: formatMinor(addonFee.monthlyMinor, book.currency),
        collection: addonRules.collectionStateAt(sub, nowMs),
      },
      notices: sub.notices.slice(-10),
      nextInvoicePreview: { ...preview, total: formatMinor(preview.totalMinor, preview.currency), note: 'current period so far, assuming nothing changes until its end' },
    };
  }

  /** Issue one document under the queue with the next gapless number of its kind. Returns the existing one for a used key. */
  async function issueLocked(kind: Invoice['kind'], draft: InvoiceDraft, idempotencyKey: string, nowMs: number, extra: Partial<Invoice> = {}, sub?: Subscription): Promise<Invoice> {
    const existing = await repo.numberForKey(idempotencyKey);
    if (existing) return (await repo.getInvoice(existing))!;
    const seq = (await repo.lastSeq(kind)) + 1;
    const doc: Invoice = { ...draft, ...extra, kind, number: formatInvoiceNumber(kind, seq), seq, idempotencyKey, issuedAtMs: nowMs };
    await repo.issue(doc, sub ? [repo.subscriptionOp(sub)] : []);
    return doc;
  }

  /** The time-driven step jobs: advance every subscription matching `filter`. */
  async function advanceJob(nowMs: number, filter: (s: Subscription) => boolean): Promise<string[]> {
    const changedOps: string[] = [];
    await queue.run(async () => {
      const book = await repo.getPriceBook();
      for (const sub of await repo.listSubscriptions()) {
        if (!filter(sub)) continue;
        const t = advanceAll(sub, book, nowMs);
        if (t.sub === sub) continue;
        await repo.saveSubscription(t.sub, t.snapshots);
        if (t.collectionChanged) changedOps.push(sub.operatorId);
      }
    });
    await push(changedOps);
    return changedOps;
  }

  /** Give every known operator a subscription (so each one is invoiced, even if it never used the API). */
  async function ensureAllOperators(nowMs: number): Promise<void> {
    if (!deps.operators) return;
    const ids = await deps.operators.listIds();
    await queue.run(async () => {
      const book = await repo.getPriceBook();
      for (const id of ids) {
        if (await repo.getSubscription(id)) continue;
        const { created } = await loadOrCreate(id, book, nowMs);
        if (created) await repo.saveSubscription(created.sub, created.snapshots);
      }
    });
  }

  const jobs: Record<CommerceJobName, (nowMs: number) => Promise<unknown>> = {
    'trial-expiry': async (nowMs) => {
      await ensureAllOperators(nowMs);
      return advanceJob(nowMs, (s) => addonRules.trialExpiryDue(s, nowMs));
    },
    'period-end': (nowMs) => advanceJob(nowMs, (s) => addonRules.periodEndDue(s, nowMs)),

    /** One invoice per operator for every ended period not yet invoiced (idempotent by key). */
    invoices: async (nowMs) => {
      await ensureAllOperators(nowMs);
      const issued: string[] = [];
      const changedOps: string[] = [];
      await queue.run(async () => {
        const book = await repo.getPriceBook();
        for (const listed of await repo.listSubscriptions()) {
          const t = advanceAll(listed, book, nowMs);
          let sub = t.sub === listed ? listed : await repo.saveSubscription(t.sub, t.snapshots);
          if (t.collectionChanged) changedOps.push(sub.operatorId);
          for (let p = periodContaining(sub.nextInvoicePeriodStartMs); p.endMs <= nowMs; p = nextPeriod(p)) {
            sub = { ...sub, nextInvoicePeriodStartMs: p.endMs };
            const key = invoiceIdempotencyKey(sub.operatorId, p.key);
            if (await repo.numberForKey(key)) { await repo.saveSubscription(sub); continue; }
            const draft = buildInvoiceDraft(sub.operatorId, p, await repo.snapshotsFor(sub.operatorId, p.startMs, p.endMs));
            if (draft.lines.length === 0) { await repo.saveSubscription(sub); continue; }
            // The invoice, its number and the subscription's invoiced-through pointer land in one batch.
            const doc = await issueLocked('invoice', draft, key, nowMs, (await deps.invoiceTerms?.(sub.operatorId, nowMs)) ?? {}, sub);
            issued.push(doc.number);
            log.info({ operatorId: sub.operatorId, period: p.key, number: doc.number, totalMinor: doc.totalMinor }, 'commerce: invoice issued');
          }
        }
      });
      await push(changedOps);
      return issued;
    },

    /** Purge data of collections stopped longer than the retention period, unless reactivated. */
    retention: async (nowMs) => {
      const purged: string[] = [];
      await queue.run(async () => {
        for (const sub of await repo.listSubscriptions()) {
          if (!addonRules.purgeDue(sub, nowMs)) continue;
          try {
            await deps.purgeOperatorData(sub.operatorId);
          } catch (err) {
            log.error({ err, operatorId: sub.operatorId }, 'commerce: purging operator data failed; retried on the next run');
            continue;
          }
          await repo.saveSubscription(addonRules.markPurged(sub, nowMs));
          purged.push(sub.operatorId);
          log.info({ operatorId: sub.operatorId }, 'commerce: data purged after the retention period');
        }
      });
      return purged;
    },
  };

  return {
    getPriceBook: () => repo.getPriceBook(),
    async putPriceBook(input: unknown): Promise<PriceBook> {
      const book = validatePriceBook(input);
      await queue.run(async () => {
        const nowMs = deps.clock.nowMs();
        const old = await repo.getPriceBook();
        const subs = await repo.listSubscriptions();
        if (book.currency !== old.currency && subs.length > 0) {
          throw hubError('CONFLICT', `the price book's currency cannot change from ${old.currency} to ${book.currency} once operators have subscriptions`);
        }
        await repo.savePriceBook(book);
        for (const sub of subs) {
          const t = then(advanceAll(sub, old, nowMs), (s) => applyPriceBook(s, old, book, nowMs));
          if (t.sub !== sub || t.snapshots.length > 0) await repo.saveSubscription(t.sub, t.snapshots);
        }
      });
      return book;
    },
    ensureSubscription,
    getSubscriptionView: viewOf,
    startTrial: (operatorId: string) => mutate(operatorId, addonRules.startTrial),
    activate: (operatorId: string) => mutate(operatorId, addonRules.activate),
    cancel: (operatorId: string) => mutate(operatorId, (s, b, now) => addonRules.endAtPeriodEnd(s, b, now, 'cancelled')),
    disableRenewal: (operatorId: string) => mutate(operatorId, (s, b, now) => addonRules.endAtPeriodEnd(s, b, now, 'renewal_disabled')),
    enableRenewal: (operatorId: string) => mutate(operatorId, addonRules.enableRenewal),
    setVisibility: (operatorId: string, visible: boolean) => mutate(operatorId, (s, _b, now) => addonRules.setVisibility(s, visible, now)),
    changeTier: (operatorId: string, tierId: string) => mutate(operatorId, (s, b, now) => changeTier(s, b, tierId, now)),
    setActiveCustomers: (operatorId: string, count: number) => mutate(operatorId, (s, b, now) => setActiveCustomers(s, b, count, now)),

    /** CollectionPolicy: read-only; exact at atMs even before the expiry job has run. */
    async collectionState(operatorId: string, atMs: number): Promise<{ allowed: boolean; reason?: string }> {
      return addonRules.collectionStateAt(await repo.getSubscription(operatorId), atMs);
    },
    /** CollectionPolicy: may buckets spanning [fromMs, toMs) be stored (any overlap with the collection window)? One read. */
    async collectionAllowedDuring(operatorId: string, spans: readonly CollectionSpan[]): Promise<CollectionAnswer[]> {
      const sub = await repo.getSubscription(operatorId);
      return spans.map((s) => addonRules.collectionAllowedDuring(sub, s.fromMs, s.toMs));
    },

    /** The operator's issued invoices (their payments, credit notes and state: invoice-service.ts). */
    listInvoices: (operatorId: string) => repo.listInvoices(operatorId),

    runJob(name: CommerceJobName, nowMs: number): Promise<unknown> {
      return jobs[name](nowMs);
    },
  };
}

export type CommerceService = ReturnType<typeof createCommerceService>;
