/**
 * The modules the hub runs beside its spine, wired in one place: commerce (subscriptions, NetFlow
 * add-on, invoices; its collection policy gates ingest), billing (95th-percentile plans, bills,
 * reports), access (customers' NetFlow access records and their logins). Mail (the Mailer they share
 * and its outbox job) starts first.
 *
 * Built in dependency order (mail → commerce → billing → access: each takes what the earlier ones
 * give it), and the ports the spine consumes are named here, each from the one module implementing
 * it, so createHub wires them without looking modules up.
 */
import type { HubContext, HubModules } from './create-hub';
import { createCommerceModule } from './commerce/commerce-module';
import { createBillingModule } from './billing/billing-module';
import { createAccessModule } from './access/access-module';
import { createCustomerBillingAdapter } from './billing/customer-billing-adapter';
import { createMailModule } from './mail/mail-module';

export function createHubModules(ctx: HubContext) {
  const { kv, clock, log, config } = ctx;
  // First, so start() has tightened the outbox before another module's start may send.
  const mail = createMailModule({ config, clock, log, startJobs: config.jobsEnabled });
  const { mailer } = mail;
  const commerce = createCommerceModule({
    kv, clock, log, identity: ctx.identity, startJobs: config.jobsEnabled,
    invoiceTerms: { sellerName: config.invoiceSellerName, paymentTermsDays: config.invoicePaymentTermsDays },
    edgeConfigPusher: ctx.edgeConfigPusher,
    purgeOperatorData: (operatorId) => ctx.purgeOperatorData(operatorId),
  });
  const billing = createBillingModule({
    kv, clock, log, seriesReader: ctx.seriesReader, mailer, startJobs: config.jobsEnabled,
    operatorName: async (operatorId) => (await ctx.identity.getOperator(operatorId))?.name,
    hubId: config.hubId, // named on the stored bill runs this hub makes (GET …/bill-runs/latest on every hub)
  });
  const access = createAccessModule({
    kv, clock, log, config, secretKeys: ctx.secretKeys, seriesReader: ctx.seriesReader, mailer,
    customerBilling: createCustomerBillingAdapter(billing),
  });
  const composition = {
    modules: [mail, commerce, billing, access],
    collectionPolicy: commerce.collectionPolicy,
    customerLoginVerifier: access.customerLoginVerifier,
    unmanageSubject: (operatorId: string, subjectId: string, atMs: number) => billing.unmanageSubject(operatorId, subjectId, atMs),
    subjectsInUse: (operatorId: string) => billing.subjectsInUse(operatorId),
  } satisfies HubModules;
  // The modules by name too, for tests that drive one directly (its jobs, its outbox).
  return { ...composition, mail, commerce, billing, access };
}
