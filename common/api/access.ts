/**
 * Access records of the operators' customers (hub/access/access-routes.ts), as web/pages/customers.js
 * and customer-detail.js read and write them (issue 11).
 */

export type NetflowGroupKind = 'ip_group' | 'interface' | 'customer_label' | 'billing_group';

/** What traffic the record shows: ip_group "<name>", interface "<exporter>/<ifIndex>", a subject label, or a bill plan id. */
export interface NetflowGroupView { kind: NetflowGroupKind; value: string }

/** GET /operators/:op/access-records → {records}; never the password, only whether one is stored. */
export interface AccessRecordView {
  recordId: string;
  serviceId: string;
  serviceLabel: string | null;
  serviceType: string | null;
  clientId: string;
  clientName: string | null;
  enabled: boolean;
  netflowUrl: string | null;
  effectiveNetflowUrl: string;
  username: string;
  hasPassword: boolean;
  group: NetflowGroupView | null;
  ipAddress: string | null;
  notes: string;
  showPasswordInClientArea: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface AccessRecordsResponse { records: AccessRecordView[] }

/** PATCH /operators/:op/access-records/:id: present fields change; password '' keeps the stored one. */
export interface UpdateAccessRecordRequest {
  enabled?: boolean;
  username?: string;
  password?: string;
  group?: NetflowGroupView | null;
  ipAddress?: string | null;
  notes?: string;
}

/** POST /operators/:op/access-records/:id/welcome-mail {to?, dryRun?}: dryRun answers the rendering only. */
export interface WelcomeMailRequest { to?: string[]; dryRun?: boolean }
export interface WelcomeMailPreview { dryRun: true; message: { to: string[]; subject: string; text: string; html?: string } }
export interface WelcomeMailSent { sent: true; mailId: string; to: string[] }

/** GET /operators/:op/clients → {clients}: the operator's customers. */
export interface ClientView { clientId: string; operatorId: string; name: string; email?: string; createdAtMs: number; updatedAtMs: number }
/** GET /operators/:op/services[?clientId] → {services}: what a customer bought; one access record each. */
export interface ServiceView { serviceId: string; operatorId: string; clientId: string; type: 'vps' | 'cloud' | 'dedicated'; label: string; createdAtMs: number; updatedAtMs: number }
