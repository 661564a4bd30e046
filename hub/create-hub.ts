import Koa from 'koa';
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, ControllableClock } from '../common/clock';
import type { KeyValueStore } from '../common/kv/kv-store';
import type { Logger } from '../common/logger';
import { createWebRouter } from '../web/serve-web';
import { createEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker';
import { createHubMqttClient } from './broker/hub-mqtt-client';
import { syncCredentialsToBroker } from './broker/broker-credentials-sync';
import { sharedHubSubscriptions } from './broker/hub-subscriptions';
import type { MqttPublisher } from './broker/mqtt-publisher';
import { DEMO_ADMIN_PASSWORD, type HubConfig } from './config';
import { createCollectionConfigStore } from './edges/collection-config-store';
import { createEdgeConfigPusher } from './edges/edge-config-pusher';
import { createEdgeRegistry, type EdgeRegistry } from './edges/edge-registry';
import { createEdgeExporterIndex } from './edges/edge-exporter-index';
import { createEdgeRoutes } from './edges/edge-routes';
import { createInterfaceNameStore } from './edges/interface-name-store';
import { createSubjectRoutes } from './edges/subject-routes';
import { withInterfaceLabels } from './edges/interface-labels';
import { createEdgeStatusTracker } from './edges/edge-status-tracker';
import { createLiveFlowsCache } from './edges/live-flows-cache';
import { createSubjectManagement } from './edges/subject-management';
import { createMqttAuthority, HUB_MQTT_USERNAME } from './edges/mqtt-authority';
import { authenticate } from './http/authenticate';
import { csrfGuard } from './http/csrf-guard';
import { securityHeaders } from './http/security-headers';
import { sessionCookiePolicy, sessionCookieSecure } from './http/session-cookie';
import { createSafeTicker, type Timers } from '../common/ticker';
import { requirePasswordChange } from './http/require-password-change';
import { errorMiddleware } from './http/error-middleware';
import { createIdentityRoutes } from './identity/identity-routes';
import { createIdentityStore, type IdentityStore } from './identity/identity-store';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from './security/login-throttle';
import { randomSecret, verifyPassword } from './identity/password-hash';
import { oneTimePassword } from './identity/password-policy';
import { createPasswordRoutes } from './identity/password-routes';
import { createUserAdminRoutes } from './identity/user-admin-routes';
import { createBatchIngestor } from './ingest/batch-ingestor';
import { STORED_SWEEP_INTERVAL_MS } from './ingest/stored-republisher';
import { createHubHealthRoutes } from './ingest/hub-health-routes';
import { createMessageDispatcher, HUB_SUBSCRIPTIONS } from './ingest/message-dispatcher';
import { type CollectionPolicy, type EdgeConfigPusher, type SeriesReader, eachSpan } from './ports';
import type { CustomerLoginVerifier } from './ports-customer';
import { createEphemeralKeyRing, keyRingFromHex, type KeyRing } from './security/key-ring';
import { createClockRoutes, shiftedClockView } from './ops/clock-routes';
import { createDueJobsRunner } from './ops/due-jobs';
import { createKvSeriesStore } from './store/kv-series-store';
import type { SeriesStore } from './store/series-store';
import { createSeriesRoutes } from './store/series-routes';

/**
 * A pluggable part of the hub (commerce, billing, mail, access…). Routers are mounted after the
 * spine's; start() runs after the broker and MQTT client are up and before HTTP listens; stop()
 * runs in reverse order. The ports a module implements for the spine are not found on it: the
 * composition (hub/hub-modules.ts) names them in HubModulePorts.
 */
export interface HubModule {
  name: string;
  routers?: Router[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /**
   * Run every job of the module due at nowMs, once (idempotent: work is computed from the persisted last
   * run). With a clock that is not the system clock the hub calls it after each move of the clock and
   * once a minute, since node-cron fires on wall time (hub/ops/due-jobs.ts).
   */
  runDueJobs?(nowMs: number): Promise<unknown>;
}

/** The ports modules implement for the spine, each given by the composition; a missing one has the spine's default. */
export interface HubModulePorts {
  /** hub/commerce: whether an operator's edges may collect. Without one, everything is allowed. */
  collectionPolicy?: CollectionPolicy;
  /** hub/access: customers' logins. Without one, only the hub's own users log in. */
  customerLoginVerifier?: CustomerLoginVerifier;
  /**
   * hub/billing: the subject stopped being managed at atMs (interface deselected, its edge revoked,
   * its IP group deleted: hub/edges/subject-management.ts); bill it up to that instant. Idempotent.
   */
  unmanageSubject?(operatorId: string, subjectId: string, atMs: number): Promise<unknown>;
  /** hub/billing: subject ids held for the operator (in bill plans), known even if never reported. */
  subjectsInUse?(operatorId: string): Promise<Iterable<string>>;
}

/** What a composition of modules gives createHub: the modules, in dependency order (started in it, stopped in reverse), and their ports. */
export interface HubModules extends HubModulePorts {
  modules: HubModule[];
}

/** What modules get from the spine when they are created. */
export interface HubContext {
  config: Readonly<HubConfig>;
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  identity: IdentityStore;
  seriesReader: SeriesReader;
  edgeConfigPusher: EdgeConfigPusher;
  edges: EdgeRegistry;
  /** Retention: delete all stored series of an operator (idempotent). */
  purgeOperatorData(operatorId: string): Promise<void>;
  /** The hub's MQTT client (usable after start). */
  mqtt: MqttPublisher;
  /** Keys of secrets stored at rest (customer passwords): see hub/security/key-ring.ts. */
  secretKeys: KeyRing;
}

export interface HubDeps {
  config: Readonly<HubConfig>;
  kv: KeyValueStore;
  /** The series store when it is not built on kv (PostgreSQL: hub/store/open-hub-storage.ts). */
  seriesStore?: SeriesStore;
  clock: Clock;
  log: Logger;
  /** The composition root of the modules (hub/hub-modules.ts createHubModules); without one, the spine alone. */
  modules?: (ctx: HubContext) => HubModules;
  /**
   * Keys of secrets stored at rest; main passes hub/security/key-ring-file.ts's ring. Without one:
   * config.secretKeyHex (+ retired keys) if set, else a random key for this process only (tests).
   */
  secretKeys?: KeyRing;
  /** Interval timers of the hub's periodic work (the hourly session purge); tests pass createManualTimers(). */
  timers?: Timers;
  /**
   * The hub's clock itself, when it may be moved through POST /api/v1/hub/clock (FLOWBILL_CLOCK_CONTROL=on;
   * main passes its shifted clock). Needs config.clockStartMs.
   */
  clockControl?: ControllableClock;
}

const allowAll: CollectionPolicy = { async collectionState() { return { allowed: true }; }, collectionAllowedDuring: eachSpan(() => ({ allowed: true })) };

/**
 * The hub's composition root. `app.callback()` works without start() (HTTP tests need no port);
 * start() opens the broker (embedded aedes, or none with config.externalMqttUrl), the hub's one
 * MQTT client, module start hooks and the HTTP listener; stop() closes them in reverse.
 */
export function createHub(deps: HubDeps) {
  const { config, kv, clock, log } = deps;
  const identity = createIdentityStore(kv);
  // The dedup limits are the store's (it owns the dedup); ingest refuses too-old buckets early with the same horizon.
  const dedupHorizonSec = config.ingestDedupHorizonDays * 86_400;
  const store = deps.seriesStore ?? createKvSeriesStore({ kv, limits: { maxRevisionSubjects: config.ingestMaxRevisionSubjects, dedupHorizonSec }, log: log.child({ part: 'store' }) });
  // Revoking an edge records, in the same write, which interfaces stop being managed with it.
  const edges = createEdgeRegistry({ kv, clock, publicMqttUrl: config.publicMqttUrl, revocationOps: (edge) => management.revocationOps(edge) });
  const configs = createCollectionConfigStore(kv);
  const status = createEdgeStatusTracker({ clock });
  const liveFlows = createLiveFlowsCache();
  const hubSecret = randomSecret(32);

  let mqttClient: ReturnType<typeof createHubMqttClient> | undefined;
  const mqtt: MqttPublisher = {
    publish(topic, payload, opts) {
      if (!mqttClient) return Promise.reject(new Error('hub MQTT client not started'));
      return mqttClient.publish(topic, payload, opts);
    },
  };

  // The one late binding between the spine and the modules, for a true cycle: commerce pushes an
  // operator's edge config when its collection state changes (ctx.edgeConfigPusher), and the pusher asks
  // commerce's policy what to push. So the pusher gets this delegate, pointed at the composition's policy
  // as soon as the modules exist, still inside createHub (no module pushes while it is being built).
  let pusherPolicyTarget: CollectionPolicy = allowAll;
  const pusherPolicy: CollectionPolicy = {
    collectionState: (operatorId, atMs) => pusherPolicyTarget.collectionState(operatorId, atMs),
    collectionAllowedDuring: (operatorId, spans) => pusherPolicyTarget.collectionAllowedDuring(operatorId, spans),
  };

  const pusher = createEdgeConfigPusher({ registry: edges, configs, policy: pusherPolicy, publisher: mqtt, clock, log: log.child({ part: 'config' }) });
  const edgeExporters = createEdgeExporterIndex(kv);
  const interfaceNames = createInterfaceNameStore(kv);
  let broker: EmbeddedBroker | undefined;

  edges.onRevoked(async (edge) => {
    broker?.disconnectEdge(edge.edgeId);
    liveFlows.forget(edge.edgeId);
    await pusher.clearEdge(edge).catch((err) => log.warn({ edgeId: edge.edgeId, err: (err as Error).message }, 'could not clear the revoked edge config'));
    await management.drain(edge.operatorId); // the bills of the interfaces only this edge collected
  });

  // External Mosquitto with dynamic-security: the broker's credentials and ACLs follow the registry.
  const brokerSync = config.externalMqttUrl && config.mqttDynsec
    ? syncCredentialsToBroker({ registry: edges, url: config.externalMqttUrl, hubId: config.hubId, shareGroup: config.mqttShareGroup, log: log.child({ part: 'dynsec' }) })
    : undefined;

  const purgeOperatorData = async (operatorId: string) => {
    const { deleted } = await store.purgeOperator(operatorId);
    log.info({ operatorId, deleted }, 'operator series purged');
  };
  const ctx: HubContext = { config, kv, clock, log, identity, seriesReader: store, edgeConfigPusher: pusher, edges, purgeOperatorData, mqtt, secretKeys: resolveSecretKeys(deps) };
  // The modules, built once in their dependency order, and the ports they implement, passed on by name.
  const composed: HubModules = deps.modules?.(ctx) ?? { modules: [] };
  const { modules, customerLoginVerifier: customers } = composed;
  const policy = composed.collectionPolicy ?? allowAll;
  pusherPolicyTarget = policy;

  const ingestor = createBatchIngestor({
    onStored: (_operatorId, edgeId, subjectIds) => edgeExporters.record(edgeId, subjectIds),
    store, edges, policy, publisher: mqtt, clock, log: log.child({ part: 'ingest' }),
    limits: { maxPayloadBytes: config.ingestMaxPayloadBytes, maxBatchSummaries: config.ingestMaxBatchSummaries, dedupHorizonSec },
  });
  const dispatcher = createMessageDispatcher({ ingestor, edges, status, liveFlows, clock, log: log.child({ part: 'mqtt' }) });

  // Every way a subject stops being managed, billed at that instant (hub/billing, through the composition's ports).
  // The registry and this refer to each other (a revocation's write carries these intents; this lists the
  // registry's edges): both closures run only on requests, after both exist.
  const management = createSubjectManagement({
    kv, clock, log: log.child({ part: 'subjects' }), configs, exporters: edgeExporters, listEdges: (op) => edges.listEdges(op),
    async knownSubjects(operatorId) {
      const ids = new Set((await store.listSubjects(operatorId)).map((s) => s.subjectId));
      for (const id of (await composed.subjectsInUse?.(operatorId)) ?? []) ids.add(id);
      return ids;
    },
    async unmanage(operatorId, subjectId, atMs) { await composed.unmanageSubject?.(operatorId, subjectId, atMs); },
  });
  const dueJobs = createDueJobsRunner({ modules: () => modules, clock, log: log.child({ part: 'due-jobs' }) });
  const { clockStartMs } = config;
  if (deps.clockControl && clockStartMs === undefined) throw new Error('createHub: clockControl needs config.clockStartMs (FLOWBILL_CLOCK=<instant>)');

  const loginThrottle = createLoginThrottle({
    clock, log: log.child({ part: 'login' }),
    rules: {
      maxFailuresPerUsername: config.loginMaxFailuresPerUsername, maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
      failureWindowMs: config.loginFailureWindowSec * 1000, lockoutMs: config.loginLockoutSec * 1000, maxLockoutMs: config.loginMaxLockoutSec * 1000,
      maxTrackedKeys: DEFAULT_LOGIN_THROTTLE_RULES.maxTrackedKeys,
    },
  });

  const app = new Koa();
  // Behind one reverse proxy (FLOWBILL_TRUST_PROXY=on), ctx.ip is the address that proxy saw (the last
  // X-Forwarded-For entry); else every login would seem to come from the proxy, one address for everyone.
  app.proxy = config.trustProxy;
  app.maxIpsCount = 1;
  app.use(securityHeaders());
  app.use(errorMiddleware(log));
  // Before the body is read: a non-JSON or cross-origin state change is refused unparsed (http/csrf-guard.ts).
  app.use(csrfGuard({ publicUrl: config.publicUrl }));
  app.use(bodyParser({ enableTypes: ['json'] }));
  app.use(sessionCookiePolicy({ secure: sessionCookieSecure(config.cookieSecure, config.publicUrl) }));
  app.use(authenticate(identity, clock));
  app.use(requirePasswordChange(identity));
  const routers: Router[] = [
    createIdentityRoutes({ identity, clock, sessionTtlHours: config.sessionTtlHours, customers, throttle: loginThrottle }),
    createPasswordRoutes({ identity, log: log.child({ part: 'identity' }) }),
    createUserAdminRoutes({ identity, clock, log: log.child({ part: 'identity' }) }),
    createEdgeRoutes({ registry: edges, status, liveFlows, configs, pusher, operatorExists: async (id) => !!(await identity.getOperator(id)), log,
      management, onConsumerRevoked: (username) => { broker?.disconnectConsumer(username); } }),
    createSubjectRoutes({ registry: edges, status, configs, liveFlows, names: interfaceNames,
      subjectIdsWithSeries: async (op) => (await store.listSubjects(op)).map((x) => x.subjectId) }),
    // Interface labels carry their names (operator's or exporter's) on the dashboard: hub/edges/interface-labels.ts.
    createSeriesRoutes({ series: withInterfaceLabels(store, { registry: edges, status, names: interfaceNames }), clock }),
    createHubHealthRoutes({
      mqttConnected: () => !!mqttClient?.connected(),
      clock: () => (clockStartMs === undefined ? undefined : shiftedClockView(clock, clockStartMs, !!deps.clockControl)),
      counters: () => ({ ingest: { ...ingestor.counters() }, mqtt: dispatcher.counters(), ...(broker ? { broker: { ...broker.counters() } } : {}), login: loginThrottle.counters() }),
    }),
    ...(deps.clockControl ? [createClockRoutes({ clock: deps.clockControl, startMs: clockStartMs!, dueJobs, jobsEnabled: config.jobsEnabled, log: log.child({ part: 'clock' }) })] : []),
    ...modules.flatMap((m) => m.routers ?? []),
    createWebRouter(),
  ];
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());

  let server: http.Server | undefined;
  let started: HubModule[] = [];
  const ticker = createSafeTicker({ log, clock, timers: deps.timers });

  /**
   * The first super_admin, "admin". With config.adminPassword (FLOWBILL_ADMIN_PASSWORD, or the demo's
   * password) it gets that one: whoever set it chose it. Otherwise a generated one-time password,
   * printed here once and stored only hashed, which must be changed before anything else. A later
   * start without a password finding admin still on the demo's password forces a change too (a data
   * dir first made by `npm start`, then run for real).
   */
  async function ensureAdmin(): Promise<void> {
    const existing = await identity.findUserByName('admin');
    if (existing) {
      if (config.adminPassword === undefined && !existing.mustChangePassword && (await verifyPassword(DEMO_ADMIN_PASSWORD, existing.passwordHash))) {
        await identity.setPassword(existing.userId, DEMO_ADMIN_PASSWORD, { mustChangePassword: true });
        log.warn(`the super_admin "admin" still has the demo password "${DEMO_ADMIN_PASSWORD}": it must be changed at the next login`);
      } else if (existing.mustChangePassword) {
        log.warn('the super_admin "admin" has not changed its one-time password yet (it was printed at the first start)');
      }
      return;
    }
    if (config.adminPassword !== undefined) {
      await identity.createUser({ username: 'admin', password: config.adminPassword, role: 'super_admin' }, clock.nowMs());
      log.info('created the super_admin user "admin" with the configured password');
      return;
    }
    const password = oneTimePassword();
    await identity.createUser({ username: 'admin', password, role: 'super_admin', mustChangePassword: true }, clock.nowMs());
    // The one place it is ever shown: not stored in clear, not printed again.
    log.warn({ username: 'admin', oneTimePassword: password },
      `created the super_admin user "admin" with the one-time password ${password} (shown only now; it must be changed at the first login)`);
  }

  return {
    app,
    services: { seriesReader: store, seriesStore: store, purgeOperatorData, edgeConfigPusher: pusher, identity, edges, configs, status, liveFlows, ingestor, dispatcher, mqtt, policy },

    async start(): Promise<{ httpUrl: string; mqttUrl: string }> {
      // Usernames of older versions (one global namespace) move to login-names.ts before admin is looked up.
      // In one section: several hubs starting at once on one store would each find no admin and create it.
      await identity.sections.section('hub-start').run(async () => {
        const names = await identity.migrateLegacyLogins();
        if (names.migrated > 0) log.info({ migrated: names.migrated }, `moved ${names.migrated} username(s) into their tenant's (or the platform's) namespace of login names`);
        if (names.conflicts.length > 0) log.error({ usernames: names.conflicts.slice(0, 20) }, `${names.conflicts.length} user(s) differ only in letter case from another login of their namespace; they cannot log in until renamed`);
        await ensureAdmin();
      });
      // Expired sessions are deleted when presented, and purged now and hourly (also any stored under
      // the old plaintext-token key: those users log in again).
      await identity.purgeExpiredSessions(clock.nowMs());
      ticker.every('session-purge', 3600_000, () => identity.purgeExpiredSessions(clock.nowMs()), { unref: true });
      let mqttUrl: string;
      let subscriptions = HUB_SUBSCRIPTIONS;
      if (config.externalMqttUrl) {
        // External broker: ACLs are the broker's job (see hub/broker/README.md); several hubs share the
        // summaries ($share), each with its own client id and an expiring session.
        mqttUrl = config.externalMqttUrl;
        // One hub at a time: the first start gives the hubs' broker user its role, which makes the broker
        // drop that user's connections, another hub's dynamic-security requests included.
        if (brokerSync) await identity.sections.section('hub-start:broker').run(() => brokerSync.start());
        subscriptions = sharedHubSubscriptions(config.mqttShareGroup);
        mqttClient = createHubMqttClient({ url: mqttUrl, clientId: config.hubId, sessionExpirySec: config.mqttSessionExpirySec, log, onMessage: dispatcher.dispatch });
      } else {
        broker = createEmbeddedBroker({
          host: config.mqttHost, port: config.mqttPort, log: log.child({ part: 'broker' }),
          authority: createMqttAuthority({ verifyMqtt: edges.verifyMqtt, hubSecret }), clock,
          limits: { maxPacketBytes: config.mqttMaxPacketBytes, maxConnectBytes: config.mqttMaxConnectBytes, connectTimeoutMs: config.mqttConnectTimeoutMs },
          lockout: { maxFailures: config.mqttAuthMaxFailures, failureWindowMs: config.mqttAuthFailureWindowSec * 1000, lockoutMs: config.mqttAuthLockoutSec * 1000 },
        });
        const { port } = await broker.start();
        const host = config.mqttHost === '0.0.0.0' || config.mqttHost === '::' ? '127.0.0.1' : config.mqttHost;
        mqttUrl = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
        mqttClient = createHubMqttClient({ url: mqttUrl, username: HUB_MQTT_USERNAME, password: hubSecret, clientId: 'flowbill-hub', log, onMessage: dispatcher.dispatch });
      }
      await mqttClient.connect(subscriptions);
      // Consumers' billing truth: what a crash left committed but not yet on .../stored goes out now.
      const waitingStored = await ingestor.resumeRepublish();
      if (waitingStored) log.info({ waitingStored }, 'republishing StoredBatches left waiting by the last run');
      // Leftovers of a hub that died between its commit and its publish, for edges that send nothing more.
      ticker.every('stored-sweep', STORED_SWEEP_INTERVAL_MS, () => ingestor.sweepStored(), { unref: true });
      await pusher.pushAll();
      for (const m of modules) {
        await m.start?.();
        started.push(m);
      }
      // Bills of subjects that stopped being managed but could not be made (billing failed, a crash):
      // now, then every 10 minutes, each at its recorded instant (hub/edges/unmanage-outbox.ts).
      const unmanagePending = await management.drainAll();
      if (unmanagePending) log.warn({ unmanagePending }, 'bills of unmanaged subjects still pending; retried every 10 minutes');
      ticker.every('unmanage-retry', 600_000, () => management.drainAll(), { unref: true });
      // node-cron fires on wall time; a shifted clock's schedules are kept by running what is due at its time.
      if (clockStartMs !== undefined && config.jobsEnabled) ticker.every('due-jobs', 60_000, () => dueJobs.tick(), { unref: true });
      server = http.createServer(app.callback());
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.httpPort, config.httpHost, () => { server!.off('error', reject); resolve(); });
      });
      const { port } = server.address() as AddressInfo;
      const httpHost = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
      return { httpUrl: `http://${httpHost}:${port}`, mqttUrl: mqttUrl.replace(/\/\/[^@/]*@/, '//') };
    },

    async stop(): Promise<void> {
      ticker.stopAll();
      await dueJobs.idle();
      const s = server;
      server = undefined;
      if (s) {
        s.closeAllConnections?.();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      for (const m of started.reverse()) {
        try { await m.stop?.(); } catch (err) { log.warn({ module: m.name, err }, 'module stop failed'); }
      }
      started = [];
      await ingestor.flushAcks();
      await mqttClient?.close();
      mqttClient = undefined;
      await brokerSync?.close();
      await broker?.stop();
      broker = undefined;
    },
  };
}

export type Hub = ReturnType<typeof createHub>;

function resolveSecretKeys(deps: HubDeps): KeyRing {
  if (deps.secretKeys) return deps.secretKeys;
  const { secretKeyHex, retiredSecretKeysHex } = deps.config;
  if (secretKeyHex !== undefined) return keyRingFromHex(secretKeyHex, retiredSecretKeysHex, 'config secretKeyHex');
  deps.log.warn('no secret key given to createHub: customer passwords are sealed with a random key of this process and cannot be read after a restart (hub/main.ts loads the real key)');
  return createEphemeralKeyRing();
}
