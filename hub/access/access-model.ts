import type { SealedSecret } from './secret-box';

/**
 * The records behind per-customer NetFlow access (issue 5).
 *
 * Client ─< Service ─ AccessRecord ─> CustomerLogin
 * - a Client is the operator's customer (the person or company that logs in);
 * - a Service is what the client bought (a VPS, a cloud server or a dedicated server); records
 *   reference a service and the client is derived from it ("client detected from the service");
 * - one AccessRecord per service;
 * - a CustomerLogin (username + encrypted password) belongs to one client; several records of
 *   that client may share it ("one login across several services"), so the password lives on the
 *   login, not on the record.
 */
export interface Client {
  clientId: string;
  operatorId: string;
  name: string;
  /** Where welcome mails go by default. */
  email?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export const SERVICE_TYPES = ['vps', 'cloud', 'dedicated'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export interface Service {
  serviceId: string;
  operatorId: string;
  /** Fixed at creation: the service's access record and login belong to this client. */
  clientId: string;
  type: ServiceType;
  label: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export const NETFLOW_GROUP_KINDS = ['ip_group', 'interface', 'customer_label', 'billing_group'] as const;
export type NetflowGroupKind = (typeof NETFLOW_GROUP_KINDS)[number];

/**
 * What traffic the record shows:
 * - ip_group: value is the IP group name (subject "ipg:<name>");
 * - interface: value is "<exporter>/<ifIndex>" (subject "if:<exporter>/<ifIndex>");
 * - customer_label: every subject whose operator-given label equals value exactly;
 * - billing_group: the subjects of the 95th-percentile billing group with this id.
 */
export interface NetflowGroup { kind: NetflowGroupKind; value: string }

export interface AccessRecord {
  recordId: string;
  operatorId: string;
  serviceId: string;
  /** Copied from the service at creation (a service never changes client). */
  clientId: string;
  enabled: boolean;
  /** Button target in the client area; undefined = the hub's own customer view (config.publicUrl + '/customer'). */
  netflowUrl?: string;
  username: string;
  group?: NetflowGroup;
  /** Canonical address or routed subnet ("203.0.113.0/28", "2001:db8:1::/48"). */
  ipAddress?: string;
  /** Internal notes: operator eyes only, never in customer-facing output. */
  notes: string;
  /** The client area shows the password only when the operator turned this on. */
  showPasswordInClientArea: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface CustomerLogin {
  username: string;
  operatorId: string;
  clientId: string;
  /** undefined after "clear stored password": the login cannot be used until a new one is set. */
  password?: SealedSecret;
  updatedAtMs: number;
}

/** Usernames customers type at /api/v1/login: same alphabet as operator users. */
export const CUSTOMER_USERNAME = /^[A-Za-z0-9_.@-]{1,128}$/;
export const ENTITY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;
