/**
 * Hub configuration: read from the environment once at start, validated, frozen.
 * Every key has a default that works on one machine. A bad value fails fast naming the key.
 */
import { hostname } from 'node:os';
import { parseIsoInstant } from '../common/clock';
import { parseSecretKeyHex } from './security/key-ring';
import type { CookieSecureMode } from './http/session-cookie';

/** `npm start`'s demo super_admin password (admin / admin), never used by `npm run hub`. */
export const DEMO_ADMIN_PASSWORD = 'admin';

export interface HubConfig {
  /** FLOWBILL_HUB_DATA_DIR: LevelDB, the mail outbox and (without FLOWBILL_SECRET_KEY) secret-keys.json live here. */
  dataDir: string;
  /** FLOWBILL_HTTP_PORT: web UI and JSON API. */
  httpPort: number;
  /** FLOWBILL_HTTP_HOST: bind address for HTTP. */
  httpHost: string;
  /** FLOWBILL_MQTT_PORT: embedded aedes broker's TCP port (ignored with an external broker). */
  mqttPort: number;
  /** FLOWBILL_MQTT_HOST: bind address of the embedded broker. */
  mqttHost: string;
  /** FLOWBILL_MQTT_URL: use this external broker (mqtt://user:pass@host:port) instead of the embedded one. */
  externalMqttUrl: string | undefined;
  /**
   * FLOWBILL_HUB_ID: this hub process's MQTT client id with an external broker, unique among the hubs
   * (1-64 of [A-Za-z0-9_.-]). Default <hostname>-<pid>: unique, but a restart is a new id whose old session
   * only expires (FLOWBILL_MQTT_SESSION_EXPIRY_SEC); set a stable id per host to get in-flight batches back.
   */
  hubId: string;
  /** FLOWBILL_MQTT_SHARE_GROUP: external broker, the hubs' shared subscription group ($share/<group>/...summaries). */
  mqttShareGroup: string;
  /**
   * FLOWBILL_MQTT_SESSION_EXPIRY_SEC: external broker (MQTT 5), how long the broker keeps a disconnected hub's
   * session. Mosquitto keeps dealing a shared subscription's messages to a member whose session lives, so this
   * bounds how long a dead hub still takes its share (hub/broker/README.md); a hub back within it gets them.
   */
  mqttSessionExpirySec: number;
  /**
   * FLOWBILL_MQTT_DYNSEC: off | on. on (external Mosquitto only): the hub pushes edge and consumer credentials
   * and ACLs to the broker's dynamic-security plugin; the user of FLOWBILL_MQTT_URL must be a dynsec admin.
   */
  mqttDynsec: boolean;
  /**
   * FLOWBILL_MQTT_MAX_PACKET_BYTES: embedded broker, largest packet (remaining length) an edge or consumer
   * may send; a larger one closes its connection. The largest legitimate message is a SummaryBatch: a
   * 10,000-summary batch measures 0.48 MB typical, 1.37 MB worst case (64-char subject ids, 2^53 counters),
   * so the 2 MiB default fits edges up to FLOWBILL_EDGE_BATCH_MAX_SUMMARIES=10000 (their default is 1000).
   * Keep it above FLOWBILL_INGEST_MAX_PAYLOAD_BYTES so ingest, not the broker, refuses big batches.
   */
  mqttMaxPacketBytes: number;
  /** FLOWBILL_MQTT_MAX_CONNECT_BYTES: embedded broker, largest packet before authentication (the CONNECT). */
  mqttMaxConnectBytes: number;
  /** FLOWBILL_MQTT_CONNECT_TIMEOUT_MS: embedded broker closes a socket not authenticated within this time. */
  mqttConnectTimeoutMs: number;
  /** FLOWBILL_MQTT_AUTH_MAX_FAILURES: failed MQTT logins per username, or per address, that lock it. */
  mqttAuthMaxFailures: number;
  /** FLOWBILL_MQTT_AUTH_FAILURE_WINDOW_SEC: ...counted within this window. */
  mqttAuthFailureWindowSec: number;
  /** FLOWBILL_MQTT_AUTH_LOCKOUT_SEC: how long a locked username or address is refused (a known-good username+address pair is exempt). */
  mqttAuthLockoutSec: number;
  /** FLOWBILL_LOGIN_MAX_FAILURES_PER_USERNAME: failed HTTP logins of one name (within its tenant) that lock it. */
  loginMaxFailuresPerUsername: number;
  /** FLOWBILL_LOGIN_MAX_FAILURES_PER_ADDRESS: failed HTTP logins from one address (IPv6: /64) that lock it; higher, a NAT'd office is one address. */
  loginMaxFailuresPerAddress: number;
  /** FLOWBILL_LOGIN_FAILURE_WINDOW_SEC: ...counted within this window. */
  loginFailureWindowSec: number;
  /** FLOWBILL_LOGIN_LOCKOUT_SEC: the first HTTP login lock lasts this long; each following one twice as long... */
  loginLockoutSec: number;
  /** FLOWBILL_LOGIN_MAX_LOCKOUT_SEC: ...up to this (a name+address that logged in before is exempt from both locks). */
  loginMaxLockoutSec: number;
  /**
   * FLOWBILL_TRUST_PROXY: off | on. on: the hub is behind one reverse proxy, and a client's address (login
   * limits per address) is the last X-Forwarded-For entry, the one that proxy added. Leave off when clients
   * reach the hub directly: anyone could then claim any address in that header.
   */
  trustProxy: boolean;
  /** FLOWBILL_PUBLIC_URL: how edges and customers reach this hub (links in mails, provisioning). */
  publicUrl: string;
  /** FLOWBILL_PUBLIC_MQTT_URL: the MQTT URL handed to edges at provisioning. */
  publicMqttUrl: string;
  /**
   * FLOWBILL_ADMIN_PASSWORD: the super_admin's password, set on first start (user "admin"). Unset: the first
   * start prints a generated one-time password that must be changed at the first login (`npm start`'s demo
   * uses DEMO_ADMIN_PASSWORD instead).
   */
  adminPassword: string | undefined;
  /**
   * FLOWBILL_SECRET_KEY: 64 hex chars (32 bytes), the current AES-256-GCM key of stored customer passwords.
   * Unset: the hub keeps its keys in <dataDir>/secret-keys.json, generated on first start (mode 0600).
   */
  secretKeyHex: string | undefined;
  /** FLOWBILL_SECRET_KEYS_RETIRED: comma-separated 64-hex keys that only open (a rotation's old keys); the hub re-seals their values at start. */
  retiredSecretKeysHex: readonly string[];
  /** FLOWBILL_SMTP_URL: smtp://user:pass@host:port; unset = write mails to <dataDir>/mail-outbox. */
  smtpUrl: string | undefined;
  /** FLOWBILL_MAIL_FROM: sender address of report and welcome mails. */
  mailFrom: string;
  /**
   * FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS: without SMTP, .eml files in <dataDir>/mail-outbox are deleted this
   * many days after they were written (they may carry a customer's password); with SMTP, a message that
   * could not be delivered for this long is reported and deleted.
   */
  mailOutboxRetentionDays: number;
  /** FLOWBILL_SESSION_TTL_HOURS: web/API session lifetime. */
  sessionTtlHours: number;
  /**
   * FLOWBILL_COOKIE_SECURE: auto | on | off. The session cookie's Secure attribute (sent over https only);
   * auto = on when FLOWBILL_PUBLIC_URL is https (behind a TLS proxy too). off only for plain-HTTP setups.
   */
  cookieSecure: CookieSecureMode;
  /** FLOWBILL_JOBS: "on" runs the node-cron jobs (billing, trials, invoices, retention); "off" for tests. */
  jobsEnabled: boolean;
  /** FLOWBILL_INVOICE_SELLER_NAME: the seller (this platform) named on invoices and credit notes, frozen into each at issue. */
  invoiceSellerName: string;
  /** FLOWBILL_INVOICE_PAYMENT_TERMS_DAYS: an invoice is due this many days after its UTC issue date (0 = on that day). */
  invoicePaymentTermsDays: number;
  /**
   * FLOWBILL_CLOCK: system (default) | an ISO 8601 instant with its zone, e.g. 2027-01-10T09:00:00Z: the hub's
   * time starts there and runs forward at real speed (tests, demos). Never in production: the hub warns at
   * start and GET /api/v1/health shows it. undefined = the system clock.
   */
  clockStartMs: number | undefined;
  /**
   * FLOWBILL_CLOCK_CONTROL: off | on, on only with FLOWBILL_CLOCK=<instant>. on: a super_admin may move the
   * hub's time forward (never back) with POST /api/v1/hub/clock, which then runs the jobs due at the new time.
   */
  clockControl: boolean;
  /**
   * FLOWBILL_INGEST_MAX_PAYLOAD_BYTES: a summaries message larger than this is dropped before decoding (no
   * ack: the edge keeps it; raise the limit to let it in). 1.5 MiB default: a 10,000-summary batch with
   * 64-char subject ids and 2^53 counters (1.37 MB) fits, and it stays below FLOWBILL_MQTT_MAX_PACKET_BYTES.
   */
  ingestMaxPayloadBytes: number;
  /** FLOWBILL_INGEST_MAX_BATCH_SUMMARIES: a batch with more summaries is not stored (no ack); the edge's batchMaxSummaries default is 1000. */
  ingestMaxBatchSummaries: number;
  /** FLOWBILL_INGEST_MAX_REVISION_SUBJECTS: distinct subjects stored per edge per bucket revision; more are refused. */
  ingestMaxRevisionSubjects: number;
  /** FLOWBILL_INGEST_DEDUP_HORIZON_DAYS: dedup markers are kept this long; older buckets are refused (they could not be deduplicated). */
  ingestDedupHorizonDays: number;
  /**
   * FLOWBILL_HUB_STORE: level (default) | postgres. level: one hub process on LevelDB in FLOWBILL_HUB_DATA_DIR
   * (npm start, small installs). postgres: the scale-out mode, every store in the PostgreSQL database at
   * FLOWBILL_PG_URL, shared by several hub processes; the hub applies its schema migrations at start.
   */
  hubStore: 'level' | 'postgres';
  /**
   * FLOWBILL_PG_URL: postgres://user:password@host:5432/database, required with FLOWBILL_HUB_STORE=postgres
   * (libpq-style ?sslmode=… options are passed through). Never logged with its password.
   */
  pgUrl: string | undefined;
  /** FLOWBILL_PG_MAX_CONNECTIONS: connections this hub process opens at most (default 10); keep hubs × this below the server's max_connections. */
  pgMaxConnections: number;
}

function intKey(env: NodeJS.ProcessEnv, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`config ${key}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

export function loadHubConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HubConfig> = {}): Readonly<HubConfig> {
  const httpPort = intKey(env, 'FLOWBILL_HTTP_PORT', 8080, 0, 65535);
  const mqttPort = intKey(env, 'FLOWBILL_MQTT_PORT', 1883, 0, 65535);
  const secretKeyHex = env.FLOWBILL_SECRET_KEY || undefined;
  if (secretKeyHex !== undefined) parseSecretKeyHex(secretKeyHex, 'config FLOWBILL_SECRET_KEY');
  const retiredSecretKeysHex = (env.FLOWBILL_SECRET_KEYS_RETIRED ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  retiredSecretKeysHex.forEach((k, i) => parseSecretKeyHex(k, `config FLOWBILL_SECRET_KEYS_RETIRED (key #${i + 1})`));
  const loginLockoutSec = intKey(env, 'FLOWBILL_LOGIN_LOCKOUT_SEC', 300, 1, 86_400);
  const trustProxy = env.FLOWBILL_TRUST_PROXY || 'off';
  if (trustProxy !== 'on' && trustProxy !== 'off') throw new Error(`config FLOWBILL_TRUST_PROXY=${trustProxy}: expected on or off`);
  const jobs = env.FLOWBILL_JOBS ?? 'on';
  if (jobs !== 'on' && jobs !== 'off') throw new Error(`config FLOWBILL_JOBS=${jobs}: expected on or off`);
  const clockRaw = env.FLOWBILL_CLOCK || 'system';
  const clockStartMs = clockRaw === 'system' ? undefined : parseIsoInstant(clockRaw);
  if (clockRaw !== 'system' && clockStartMs === undefined) throw new Error(`config FLOWBILL_CLOCK=${clockRaw}: expected system or an ISO 8601 instant with its zone, e.g. 2027-01-10T09:00:00Z`);
  const clockControl = env.FLOWBILL_CLOCK_CONTROL || 'off';
  if (clockControl !== 'on' && clockControl !== 'off') throw new Error(`config FLOWBILL_CLOCK_CONTROL=${clockControl}: expected on or off`);
  if (clockControl === 'on' && clockStartMs === undefined) throw new Error('config FLOWBILL_CLOCK_CONTROL=on: only with FLOWBILL_CLOCK=<instant> (a test hub); the system clock cannot be moved');
  const invoiceSellerName = (env.FLOWBILL_INVOICE_SELLER_NAME ?? 'flowbill').trim();
  // printed on PDFs: no control characters, one line
  if (!/^[^\u0000-\u001f\u007f]{1,120}$/.test(invoiceSellerName)) throw new Error(`config FLOWBILL_INVOICE_SELLER_NAME: expected 1-120 characters on one line`);
  const cookieSecure = env.FLOWBILL_COOKIE_SECURE || 'auto';
  const hubId = env.FLOWBILL_HUB_ID || `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 50)}-${process.pid}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(hubId)) throw new Error(`config FLOWBILL_HUB_ID=${hubId}: expected 1-64 of [A-Za-z0-9_.-]`);
  const mqttShareGroup = env.FLOWBILL_MQTT_SHARE_GROUP || 'flowbill-hubs';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(mqttShareGroup)) throw new Error(`config FLOWBILL_MQTT_SHARE_GROUP=${mqttShareGroup}: expected 1-64 of [A-Za-z0-9_.-]`);
  const mqttDynsec = env.FLOWBILL_MQTT_DYNSEC || 'off';
  if (mqttDynsec !== 'on' && mqttDynsec !== 'off') throw new Error(`config FLOWBILL_MQTT_DYNSEC=${mqttDynsec}: expected on or off`);
  if (mqttDynsec === 'on' && !env.FLOWBILL_MQTT_URL) throw new Error('config FLOWBILL_MQTT_DYNSEC=on: only with FLOWBILL_MQTT_URL (an external Mosquitto with the dynamic-security plugin)');
  if (cookieSecure !== 'auto' && cookieSecure !== 'on' && cookieSecure !== 'off') throw new Error(`config FLOWBILL_COOKIE_SECURE=${cookieSecure}: expected auto, on or off`);
  const hubStore = env.FLOWBILL_HUB_STORE || 'level';
  if (hubStore !== 'level' && hubStore !== 'postgres') throw new Error(`config FLOWBILL_HUB_STORE=${hubStore}: expected level or postgres`);
  const pgUrl = env.FLOWBILL_PG_URL || undefined;
  if (hubStore === 'postgres' && pgUrl === undefined) throw new Error('config FLOWBILL_PG_URL: required with FLOWBILL_HUB_STORE=postgres (postgres://user:password@host:5432/database)');
  // the URL may carry a password: the message names the key, never the value
  if (pgUrl !== undefined && !/^postgres(ql)?:\/\/[^/]/.test(pgUrl)) throw new Error('config FLOWBILL_PG_URL: expected postgres://user:password@host:5432/database');
  const config: HubConfig = {
    dataDir: env.FLOWBILL_HUB_DATA_DIR ?? './data/hub',
    httpPort,
    httpHost: env.FLOWBILL_HTTP_HOST ?? '127.0.0.1',
    mqttPort,
    mqttHost: env.FLOWBILL_MQTT_HOST ?? '127.0.0.1',
    externalMqttUrl: env.FLOWBILL_MQTT_URL || undefined,
    hubId,
    mqttShareGroup,
    mqttSessionExpirySec: intKey(env, 'FLOWBILL_MQTT_SESSION_EXPIRY_SEC', 60, 1, 86_400),
    mqttDynsec: mqttDynsec === 'on',
    mqttMaxPacketBytes: intKey(env, 'FLOWBILL_MQTT_MAX_PACKET_BYTES', 2 * 1024 * 1024, 64 * 1024, 268_435_455),
    mqttMaxConnectBytes: intKey(env, 'FLOWBILL_MQTT_MAX_CONNECT_BYTES', 64 * 1024, 1024, 1024 * 1024),
    mqttConnectTimeoutMs: intKey(env, 'FLOWBILL_MQTT_CONNECT_TIMEOUT_MS', 10_000, 1000, 300_000),
    mqttAuthMaxFailures: intKey(env, 'FLOWBILL_MQTT_AUTH_MAX_FAILURES', 10, 1, 10_000),
    mqttAuthFailureWindowSec: intKey(env, 'FLOWBILL_MQTT_AUTH_FAILURE_WINDOW_SEC', 300, 1, 86_400),
    mqttAuthLockoutSec: intKey(env, 'FLOWBILL_MQTT_AUTH_LOCKOUT_SEC', 900, 1, 86_400),
    loginMaxFailuresPerUsername: intKey(env, 'FLOWBILL_LOGIN_MAX_FAILURES_PER_USERNAME', 8, 1, 10_000),
    loginMaxFailuresPerAddress: intKey(env, 'FLOWBILL_LOGIN_MAX_FAILURES_PER_ADDRESS', 50, 1, 100_000),
    loginFailureWindowSec: intKey(env, 'FLOWBILL_LOGIN_FAILURE_WINDOW_SEC', 900, 1, 86_400),
    loginLockoutSec,
    loginMaxLockoutSec: intKey(env, 'FLOWBILL_LOGIN_MAX_LOCKOUT_SEC', Math.max(3600, loginLockoutSec), loginLockoutSec, 7 * 86_400),
    trustProxy: trustProxy === 'on',
    publicUrl: env.FLOWBILL_PUBLIC_URL ?? `http://127.0.0.1:${httpPort}`,
    publicMqttUrl: env.FLOWBILL_PUBLIC_MQTT_URL ?? `mqtt://127.0.0.1:${mqttPort}`,
    adminPassword: env.FLOWBILL_ADMIN_PASSWORD || undefined,
    secretKeyHex,
    retiredSecretKeysHex: Object.freeze(retiredSecretKeysHex),
    smtpUrl: env.FLOWBILL_SMTP_URL || undefined,
    mailFrom: env.FLOWBILL_MAIL_FROM ?? 'flowbill@localhost',
    mailOutboxRetentionDays: intKey(env, 'FLOWBILL_MAIL_OUTBOX_RETENTION_DAYS', 7, 1, 3650),
    sessionTtlHours: intKey(env, 'FLOWBILL_SESSION_TTL_HOURS', 12, 1, 24 * 30),
    cookieSecure,
    jobsEnabled: jobs === 'on',
    invoiceSellerName,
    invoicePaymentTermsDays: intKey(env, 'FLOWBILL_INVOICE_PAYMENT_TERMS_DAYS', 14, 0, 365),
    clockStartMs,
    clockControl: clockControl === 'on',
    ingestMaxPayloadBytes: intKey(env, 'FLOWBILL_INGEST_MAX_PAYLOAD_BYTES', 1536 * 1024, 1024, 256 * 1024 * 1024),
    ingestMaxBatchSummaries: intKey(env, 'FLOWBILL_INGEST_MAX_BATCH_SUMMARIES', 10_000, 1, 1_000_000),
    ingestMaxRevisionSubjects: intKey(env, 'FLOWBILL_INGEST_MAX_REVISION_SUBJECTS', 500_000, 1, 100_000_000),
    ingestDedupHorizonDays: intKey(env, 'FLOWBILL_INGEST_DEDUP_HORIZON_DAYS', 40, 1, 3650),
    hubStore,
    pgUrl,
    pgMaxConnections: intKey(env, 'FLOWBILL_PG_MAX_CONNECTIONS', 10, 1, 1000),
    ...overrides,
  };
  return Object.freeze(config);
}
