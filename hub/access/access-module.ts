import type Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { KeyValueStore } from '../../common/kv/kv-store';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import type { Mailer, SeriesReader } from '../ports';
import type { CustomerLoginVerifier } from '../ports-customer';
import { createAccessRepository, type AccessRepository, type OperatorUsernames } from './access-repository';
import { createAccessRoutes } from './access-routes';
import { createCustomerLoginVerifier } from './customer-login-verifier';
import { createCustomerRoutes } from './customer-routes';
import type { BillingGroupDirectory, IpGroupDirectory } from './group-directories';
import { createBillPlanGroupDirectory, createIpGroupDirectory } from './group-directory-adapters';
import { createSecretBox } from './secret-box';

export interface AccessModuleDeps {
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  config: Pick<HubConfig, 'publicUrl' | 'secretKeyHex'>;
  seriesReader: SeriesReader;
  mailer: Mailer;
  /** The identity store (or anything that knows operator usernames): customer logins must not collide with them. */
  identity: OperatorUsernames;
  /** Resolves address/subnet records to IP groups (customer-scope.ts); default: hub/edges' IP groups in kv. */
  ipGroups?: IpGroupDirectory;
  /** Resolves billing_group records; default: hub/billing's bill plans in kv (a billing group = a plan id). */
  billingGroups?: BillingGroupDirectory;
}

/**
 * Per-customer NetFlow access (issue 5): operator CRUD of clients/services/access records, the
 * client-area section, welcome mails, customer logins and the customer's scoped view.
 * Wire `customerLoginVerifier` into createIdentityRoutes({ customers }).
 */
export function createAccessModule(deps: AccessModuleDeps): { name: 'access'; routers: Router[]; customerLoginVerifier: CustomerLoginVerifier; repository: AccessRepository } {
  const log = deps.log.child({ module: 'access' });
  const repo = createAccessRepository({ kv: deps.kv, secrets: createSecretBox(deps.config.secretKeyHex), operatorUsers: deps.identity });
  return {
    name: 'access',
    routers: [
      createAccessRoutes({ repo, clock: deps.clock, log, config: deps.config, mailer: deps.mailer }),
      createCustomerRoutes({
        repo, seriesReader: deps.seriesReader,
        ipGroups: deps.ipGroups ?? createIpGroupDirectory(deps.kv),
        billingGroups: deps.billingGroups ?? createBillPlanGroupDirectory(deps.kv),
      }),
    ],
    customerLoginVerifier: createCustomerLoginVerifier({ repo, log }),
    repository: repo,
  };
}
