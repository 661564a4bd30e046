import type { AccessRecord, Service } from './access-model';
import { describeGroup } from './customer-scope';
import type { MergeValues } from './merge-template';

/**
 * Everything a customer is shown about an access record is built here, from an explicit list of
 * fields, so internal notes (and anything added to AccessRecord later) cannot leak by accident.
 */

/**
 * The traffic view the button opens: the record's NetFlow URL, else the hub's own customer view with
 * the customer's organization (?org=), which the login page then sends along: one login name may
 * exist in several tenants (hub/identity/login-names.ts).
 */
export function effectiveNetflowUrl(record: Pick<AccessRecord, 'netflowUrl' | 'operatorId'>, publicUrl: string): string {
  return record.netflowUrl ?? `${publicUrl.replace(/\/+$/, '')}/customer?org=${encodeURIComponent(record.operatorId)}`;
}

export interface ClientAreaSection {
  title: 'Network usage';
  buttonLabel: string;
  buttonUrl: string;
  username: string;
  /** The NetFlow group as the customer reads it ('' when the record has only an address). */
  group: string;
  ipAddress: string;
  /**
   * Present only when the operator enabled showPasswordInClientArea, a password is stored, and the
   * caller may see it (access-routes.ts: roles that manage access records).
   */
  password?: string;
  /** True instead of `password` when one would be shown but the caller may not see it (no length, no hint). */
  passwordHidden?: true;
}

/** The "Network usage" section of a service's client-area page; null when the record is missing or disabled. */
export function buildClientAreaSection(record: AccessRecord | undefined, opts: { publicUrl: string; password?: string; passwordHidden?: boolean }): ClientAreaSection | null {
  if (!record || !record.enabled) return null;
  const section: ClientAreaSection = {
    title: 'Network usage',
    buttonLabel: 'View traffic',
    buttonUrl: effectiveNetflowUrl(record, opts.publicUrl),
    username: record.username,
    group: describeGroup(record),
    ipAddress: record.ipAddress ?? '',
  };
  if (record.showPasswordInClientArea && opts.password !== undefined) section.password = opts.password;
  else if (record.showPasswordInClientArea && opts.passwordHidden) section.passwordHidden = true;
  return section;
}

/**
 * Merge values of the welcome e-mail. A disabled record sets netflow_enabled false and every other
 * field empty (not unknown), so a field placed outside the {if} block cannot leak a disabled login.
 */
export function netflowMergeValues(record: AccessRecord, opts: { publicUrl: string; password?: string }): MergeValues {
  if (!record.enabled) {
    return { netflow_enabled: false, netflow_url: '', netflow_username: '', netflow_password: '', netflow_group: '', netflow_ip_address: '' };
  }
  return {
    netflow_enabled: true,
    netflow_url: effectiveNetflowUrl(record, opts.publicUrl),
    netflow_username: record.username,
    netflow_password: opts.password ?? '',
    netflow_group: record.group?.value ?? '',
    netflow_ip_address: record.ipAddress ?? '',
  };
}

export const DEFAULT_WELCOME_SUBJECT = 'Your {$service_label} is ready';

export const DEFAULT_WELCOME_TEXT = `Hello {$client_name},

your {$service_label} is ready.
{if $netflow_enabled}
Network usage
You can follow the traffic of your service at {$netflow_url}
Username: {$netflow_username}
{if $netflow_password}Password: {$netflow_password}
{/if}{if $netflow_group}Group: {$netflow_group}
{/if}{if $netflow_ip_address}IP address: {$netflow_ip_address}
{/if}{/if}
`;

export const DEFAULT_WELCOME_HTML = `<p>Hello {$client_name},</p>
<p>your {$service_label} is ready.</p>
{if $netflow_enabled}<h3>Network usage</h3>
<p><a href="{$netflow_url}">View your traffic</a></p>
<ul><li>Username: {$netflow_username}</li>{if $netflow_password}<li>Password: {$netflow_password}</li>{/if}{if $netflow_group}<li>Group: {$netflow_group}</li>{/if}{if $netflow_ip_address}<li>IP address: {$netflow_ip_address}</li>{/if}</ul>
{/if}`;

/** The merge values about the client and service (not NetFlow specific) that welcome templates may use. */
export function serviceMergeValues(service: Service, clientName: string): MergeValues {
  return { client_name: clientName, service_label: service.label, service_type: service.type };
}
