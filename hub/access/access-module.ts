import type Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { KeyValueStore } from '../../common/kv/kv-store';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import type { Mailer, SeriesReader } from '../ports';
import type { CustomerLoginVerifier } from '../ports-customer';
import { createAccessRepository, type AccessRepository, type ResealReport } from './access-repository';
import { createAccessRoutes } from './access-routes';
import { createCustomerLoginVerifier } from './customer-login-verifier';
import type { CustomerBilling } from './customer-billing';
import { createCustomerRoutes } from './customer-routes';
import type { BillingGroupDirectory, IpGroupDirectory } from './group-directories';
import { createBillPlanGroupDirectory, createIpGroupDirectory } from './group-directory-adapters';
import { createSecretBox } from './secret-box';
import type { KeyRing } from '../security/key-ring';

export interface AccessModuleDeps {
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  config: Pick<HubConfig, 'publicUrl'>;
  /** Keys of the stored customer passwords (hub/security/key-ring.ts); the current one seals. */
  secretKeys: KeyRing;
  seriesReader: SeriesReader;
  mailer: Mailer;
  /** Resolves address/subnet records to IP groups (customer-scope.ts); default: hub/edges' IP groups in kv. */
  ipGroups?: IpGroupDirectory;
  /** Resolves billing_group records; default: hub/billing's bill plans in kv (a billing group = a plan id). */
  billingGroups?: BillingGroupDirectory;
  /** The customer view's cycle so far, bills and PDFs (hub/billing/customer-billing-adapter.ts); absent: none shown. */
  customerBilling?: CustomerBilling;
}

/**
 * Per-customer NetFlow access (issue 5): operator CRUD of clients/services/access records, the
 * client-area section, welcome mails, customer logins and the customer's scoped view.
 * Wire `customerLoginVerifier` into createIdentityRoutes({ customers }).
 */
export function createAccessModule(deps: AccessModuleDeps): { name: 'access'; routers: Router[]; start(): Promise<void>; customerLoginVerifier: CustomerLoginVerifier; repository: AccessRepository } {
  const log = deps.log.child({ module: 'access' });
  const repo = createAccessRepository({ kv: deps.kv, secrets: createSecretBox(deps.secretKeys) });
  return {
    name: 'access',
    // Before HTTP listens: a rotated key (or the old all-zero default) is retired from the stored values first.
    async start() {
      // Logins of older versions move to their tenant's namespace before anyone can log in (login-names.ts).
      logLoginMigration(log, await repo.migrateLegacyLogins());
      logReseal(log, deps.secretKeys, await repo.resealSecrets());
    },
    routers: [
      createAccessRoutes({ repo, clock: deps.clock, log, config: deps.config, mailer: deps.mailer }),
      createCustomerRoutes({
        repo, seriesReader: deps.seriesReader, clock: deps.clock, billing: deps.customerBilling,
        ipGroups: deps.ipGroups ?? createIpGroupDirectory(deps.kv),
        billingGroups: deps.billingGroups ?? createBillPlanGroupDirectory(deps.kv),
      }),
    ],
    customerLoginVerifier: createCustomerLoginVerifier({ repo, log }),
    repository: repo,
  };
}

/** One line per outcome; key ids only, never a key or a value. */
export function logReseal(log: Logger, ring: KeyRing, r: ResealReport): void {
  const kid = ring.current.kid;
  if (r.resealed > 0) log.info({ resealed: r.resealed, alreadyCurrent: r.alreadyCurrent, kid }, `re-sealed ${r.resealed} stored customer password(s) under the current secret key ${kid}`);
  if (r.legacyZeroKey > 0) {
    log.warn({ legacyZeroKey: r.legacyZeroKey, kid }, `${r.legacyZeroKey} stored customer password(s) were encrypted with the insecure all-zero default key of older versions; they are now re-sealed under ${kid}. Anyone who had a copy of the database could read them: consider changing those passwords`);
  }
  if (r.unopenableUsernames.length > 0) {
    log.error({ count: r.unopenableUsernames.length, usernames: r.unopenableUsernames.slice(0, 20), kids: r.kidsStillInUse },
      `${r.unopenableUsernames.length} stored customer password(s) cannot be opened with any secret key (FLOWBILL_SECRET_KEY, FLOWBILL_SECRET_KEYS_RETIRED or the key file); those customers cannot log in until the key is restored or a new password is set`);
  }
  const unused = ring.retired.filter((k) => !r.kidsStillInUse.includes(k.kid)).map((k) => k.kid);
  if (unused.length > 0) log.info({ kids: unused }, 'retired secret keys no stored value uses any more; they can be removed');
}

/** Customer logins moved from the global namespace of older versions; a conflict cannot log in until renamed. */
export function logLoginMigration(log: Logger, r: { migrated: number; conflicts: string[] }): void {
  if (r.migrated > 0) log.info({ migrated: r.migrated }, `moved ${r.migrated} customer login(s) into their operator's namespace of login names`);
  if (r.conflicts.length > 0) {
    log.error({ count: r.conflicts.length, logins: r.conflicts.slice(0, 20) },
      `${r.conflicts.length} customer login(s) differ only in letter case from another login of their operator; they cannot log in until renamed`);
  }
}
