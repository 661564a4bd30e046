// @ts-check
// Customers (the access module calls them clients), their services and NetFlow access records.
// API (hub/access/access-routes.ts): GET/POST /operators/:op/clients {name,email?} → {clients}/{client};
//      GET /operators/:op/services → {services}; GET /operators/:op/access-records → {records:[{recordId,serviceId,
//      serviceLabel,clientId,clientName,enabled,username,hasPassword,group,ipAddress,…}]}
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatUtcDate } from '../format.js';

/** @typedef {import('../../common/api/access').AccessRecordView} AccessRecordView */
/** @typedef {import('../../common/api/access').ClientView} ClientView */
/** @typedef {import('../../common/api/access').ServiceView} ServiceView */

const WRITERS = ['super_admin', 'operator_admin'];

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'customers-message' });
  const list = h('div', { id: 'customers' });
  const records = h('div', { id: 'access-records' });
  ctx.el.append(h('h1', {}, 'Customers'), message, list, records);

  const addForm = () => {
    if (!canWrite) return;
    ctx.el.insertBefore(section('New customer', h('form', { class: 'inline', id: 'new-client', onsubmit: async (e) => {
      e.preventDefault();
      const f = /** @type {HTMLFormElement} */ (e.target).elements;
      const field = (/** @type {string} */ n) => /** @type {HTMLInputElement} */ (f.namedItem(n)).value.trim();
      try {
        const res = await ctx.api(ctx.opPath('/clients'), { method: 'POST', body: { name: field('name'), ...(field('email') ? { email: field('email') } : {}) } });
        ctx.navigate(`/customers/${encodeURIComponent(res.client.clientId)}`);
      } catch (err) { message.replaceChildren(errorBox(err, 'customers')); }
    } },
    h('label', {}, 'Name', h('input', { name: 'name', required: true })),
    h('label', {}, 'E-mail (welcome mails)', h('input', { name: 'email', type: 'email' })),
    h('button', { type: 'submit' }, 'Create customer'))), list);
  };

  /** @type {ClientView[]} */
  let clients;
  /** @type {ServiceView[]} */
  let services = [];
  /** @type {AccessRecordView[]} */
  let recs = [];
  try {
    const [c, s, r] = await Promise.all([
      ctx.api(ctx.opPath('/clients')),
      ctx.api(ctx.opPath('/services')).catch(() => ({ services: [] })),
      ctx.api(ctx.opPath('/access-records')).catch(() => ({ records: [] })),
    ]);
    clients = c.clients || [];
    services = s.services || [];
    recs = r.records || [];
  } catch (err) {
    if (ctx.isCurrent()) list.replaceChildren(errorBox(err, 'customers'));
    return;
  }
  if (!ctx.isCurrent()) return;
  addForm(); // only once the API answered: no form on a hub without the access module
  const count = (/** @type {{ clientId: string }[]} */ items, /** @type {string} */ clientId) => items.filter((x) => x.clientId === clientId).length;
  list.replaceChildren(section(null, table(/** @type {import('../dom.js').Column<ClientView>[]} */ ([
    { label: 'Customer', value: (c) => h('a', { href: `#/customers/${encodeURIComponent(c.clientId)}` }, c.name) },
    { label: 'E-mail', value: (c) => c.email || '' },
    { label: 'Services', num: true, value: (c) => String(count(services, c.clientId)) },
    { label: 'Access records', num: true, value: (c) => String(count(recs, c.clientId)) },
    { label: 'Since', value: (c) => formatUtcDate(c.createdAtMs) },
  ]), [...clients].sort((a, b) => a.name.localeCompare(b.name)), { id: 'clients-table', empty: 'No customers yet.' })));
  records.replaceChildren(section('All access records', recordsTable(recs)));
}

/**
 * Shared with the customer detail page.
 * @param {AccessRecordView[]} recs
 * @param {(r: AccessRecordView) => Node} [actions] the writers' buttons of a row
 */
export function recordsTable(recs, actions) {
  /** @type {(import('../dom.js').Column<AccessRecordView> | null)[]} */
  const columns = [
    { label: 'Login', value: (r) => h('span', {}, h('code', {}, r.username), r.hasPassword ? null : h('div', {}, badge('no password', 'warn'))) },
    { label: 'Customer', value: (r) => (r.clientName ? h('a', { href: `#/customers/${encodeURIComponent(r.clientId)}` }, r.clientName) : r.clientId) },
    { label: 'Service', value: (r) => `${r.serviceLabel || r.serviceId}${r.serviceType ? ` (${r.serviceType})` : ''}` },
    { label: 'Shows', value: (r) => (r.group ? `${r.group.kind.replace('_', ' ')}: ${r.group.value}` : '') },
    { label: 'IP', value: (r) => (r.ipAddress ? h('code', {}, r.ipAddress) : '') },
    { label: 'State', value: (r) => (r.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted')) },
    actions ? { label: '', value: (r) => actions(r) } : null,
  ];
  return table(columns.filter((c) => c !== null), recs, { id: 'records-table', empty: 'No access records yet.', rowAttrs: (r) => ({ 'data-record': r.recordId }) });
}
