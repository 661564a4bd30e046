/**
 * The hub's commercial domain: subscriptions on tiers, the NetFlow Traffic Analysis add-on (15-day
 * trial, 50% of the tier fee), invoices and retention. create-hub wires it:
 *
 *   const commerce = createCommerceModule({ kv, clock, log, edgeConfigPusher, purgeOperatorData, identity, startJobs: config.jobsEnabled });
 *   routers.push(...commerce.routers); ingest uses commerce.collectionPolicy; await commerce.start(); … await commerce.stop();
 *
 * Defaults where the issue is silent: billing period = calendar month in UTC (same for everyone),
 * invoices in arrears at 00:05 UTC on the 1st, proration by days (see invoice.ts), tiers Small ≤ 500
 * (not eligible) / Mid 501–2,000 / Large 2,001+ at USD 99 / 299 / 799 (price-book.ts), activation ends
 * a trial and is charged from its UTC day, retention 30 × 24 h after collection stops.
 */
import type Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { KeyValueStore } from '../../common/kv/kv-store';
import type { Logger } from '../../common/logger';
import type { IdentityStore } from '../identity/identity-store';
import type { CollectionPolicy, EdgeConfigPusher } from '../ports';
import { createCommerceJobs } from './commerce-jobs';
import { createCommerceRepository } from './commerce-repository';
import { createCommerceRoutes } from './commerce-routes';
import type { CommerceService } from './commerce-service';
import { createCommerceService } from './commerce-service';
import { createInvoiceRoutes } from './invoice-routes';
import type { InvoiceService } from './invoice-service';
import { createInvoiceService } from './invoice-service';
import type { InvoiceTerms } from './invoice-terms';
import { DEFAULT_INVOICE_TERMS, issuedTerms } from './invoice-terms';
import type { CommerceJobName } from './job-schedule';

export interface CommerceModuleDeps {
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  edgeConfigPusher: EdgeConfigPusher;
  /** Delete all stored series of an operator (retention). Must be idempotent: it is retried after a failure. */
  purgeOperatorData(operatorId: string): Promise<void>;
  /** When given, unknown operator ids answer 404 and a subscription starts at the operator's creation. */
  identity?: Pick<IdentityStore, 'getOperator' | 'listOperators'>;
  /** Schedule node-cron jobs on start (HubConfig.jobsEnabled); catch-up runs either way. */
  startJobs: boolean;
  /** Seller name and payment terms printed on invoices (HubConfig.invoiceSellerName / invoicePaymentTermsDays). */
  invoiceTerms?: InvoiceTerms;
}

export interface CommerceModule {
  name: 'commerce';
  routers: Router[];
  collectionPolicy: CollectionPolicy;
  service: CommerceService;
  invoices: InvoiceService;
  start(): Promise<void>;
  stop(): Promise<void>;
  runDueJobs(nowMs: number): Promise<CommerceJobName[]>;
  runJob(name: CommerceJobName, nowMs: number): Promise<unknown>;
}

export function createCommerceModule(deps: CommerceModuleDeps): CommerceModule {
  const log = deps.log.child({ module: 'commerce' });
  const repo = createCommerceRepository(deps.kv);
  const identity = deps.identity;
  const terms = deps.invoiceTerms ?? DEFAULT_INVOICE_TERMS;
  const operatorName = async (id: string) => (await identity?.getOperator(id))?.name;
  const service = createCommerceService({
    repo, clock: deps.clock, log, edgeConfigPusher: deps.edgeConfigPusher, purgeOperatorData: deps.purgeOperatorData,
    operators: identity ? {
      createdAtMs: async (id) => (await identity.getOperator(id))?.createdAtMs,
      listIds: async () => (await identity.listOperators()).map((o) => o.operatorId),
    } : undefined,
    invoiceTerms: async (operatorId, issuedAtMs) => issuedTerms(terms, operatorId, await operatorName(operatorId), issuedAtMs),
  });
  const invoices = createInvoiceService({ repo, clock: deps.clock, log, terms, operatorName });
  const jobs = createCommerceJobs({ repo, service, clock: deps.clock, log });
  return {
    name: 'commerce',
    routers: [createCommerceRoutes({ service, clock: deps.clock, runJob: jobs.runJob }), createInvoiceRoutes({ invoices })],
    collectionPolicy: {
      collectionState: (operatorId, atMs) => service.collectionState(operatorId, atMs),
      collectionAllowedDuring: (operatorId, spans) => service.collectionAllowedDuring(operatorId, spans),
    },
    service,
    invoices,
    start: () => jobs.start(deps.startJobs),
    stop: () => jobs.stop(),
    runDueJobs: jobs.runDueJobs,
    runJob: jobs.runJob,
  };
}
