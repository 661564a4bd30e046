/**
 * The modules the hub runs beside its spine, wired in one place: commerce (subscriptions, NetFlow
 * add-on, invoices; its collection policy gates ingest), billing (95th-percentile plans, bills,
 * reports), access (customers' NetFlow access records and their logins). Mail (the Mailer they share
 * and its outbox job) starts first.
 */
import type { HubContext, HubModule } from './create-hub';
import { createCommerceModule } from './commerce/commerce-module';
import { createBillingModule } from './billing/billing-module';
import { createAccessModule } from './access/access-module';
import { createCustomerBillingAdapter } from './billing/customer-billing-adapter';
import { createMailModule } from './mail/mail-module';

export function createHubModules(ctx: HubContext): HubModule[] {
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
  });
  const access = createAccessModule({
    kv, clock, log, config, secretKeys: ctx.secretKeys, seriesReader: ctx.seriesReader, mailer,
    customerBilling: createCustomerBillingAdapter(billing),
  });
  return [mail, commerce, billing, access];
}
