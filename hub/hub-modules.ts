/**
 * The modules the hub runs beside its spine, wired in one place: commerce (subscriptions, NetFlow
 * add-on, invoices; its collection policy gates ingest), billing (95th-percentile plans, bills,
 * reports), access (customers' NetFlow access records and their logins). Mail is shared.
 */
import type { HubContext, HubModule } from './create-hub';
import { createCommerceModule } from './commerce/commerce-module';
import { createBillingModule } from './billing/billing-module';
import { createAccessModule } from './access/access-module';
import { createMailer } from './mail/create-mailer';

export function createHubModules(ctx: HubContext): HubModule[] {
  const { kv, clock, log, config } = ctx;
  const mailer = createMailer(config, log);
  const commerce = createCommerceModule({
    kv, clock, log, identity: ctx.identity, startJobs: config.jobsEnabled,
    edgeConfigPusher: ctx.edgeConfigPusher,
    purgeOperatorData: (operatorId) => ctx.purgeOperatorData(operatorId),
  });
  const billing = createBillingModule({ kv, clock, log, seriesReader: ctx.seriesReader, mailer, startJobs: config.jobsEnabled });
  const access = createAccessModule({ kv, clock, log, config, seriesReader: ctx.seriesReader, mailer, identity: ctx.identity });
  return [commerce, billing, access];
}
