// One customer: their services and the NetFlow access record of each (one record per service; records
// of one customer may share a login). Operators create services and records here and enable/disable them.
// API (hub/access/access-routes.ts): GET /operators/:op/clients/:id → {client}; GET/POST …/services[?clientId]
//      {clientId,type:vps|cloud|dedicated,label}; GET/POST …/access-records {serviceId,username,password?,group?:{kind,value},
//      ipAddress?,notes?,enabled?}; PATCH …/access-records/:recordId {enabled}
import { h, table, section, errorBox } from '../dom.js';
import { recordsTable } from './customers.js';

const WRITERS = ['super_admin', 'operator_admin'];
const GROUP_KINDS = [['ip_group', 'IP group'], ['interface', 'interface (exporter/ifIndex)'], ['customer_label', 'subject label'], ['billing_group', 'billing plan']];

export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const clientId = ctx.params.customerId;
  const message = h('div', { id: 'customer-message' });
  const body = h('div');
  ctx.el.append(h('p', {}, h('a', { href: '#/customers' }, '← Customers')), body);
  const ok = (text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (err, what) => message.replaceChildren(errorBox(err, what));

  async function load() {
    let client, services, records;
    try {
      client = (await ctx.api(ctx.opPath(`/clients/${encodeURIComponent(clientId)}`))).client;
      services = (await ctx.api(ctx.opPath('/services'), { query: { clientId } })).services || [];
      records = ((await ctx.api(ctx.opPath('/access-records'))).records || []).filter((r) => r.clientId === clientId);
    } catch (err) {
      body.replaceChildren(h('h1', {}, 'Customer'), errorBox(err, 'customers'));
      return;
    }
    if (!ctx.isCurrent()) return;
    const withRecord = new Set(records.map((r) => r.serviceId));
    const toggle = (r) => h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try {
        await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}`), { method: 'PATCH', body: { enabled: !r.enabled } });
        ok(`${r.username}: ${r.enabled ? 'disabled' : 'enabled'}.`);
      } catch (err) { fail(err, 'access records'); }
      await load();
    } }, r.enabled ? 'Disable' : 'Enable');

    body.replaceChildren(
      h('h1', {}, client.name), h('p', { class: 'muted' }, client.email || 'no e-mail address'), message,
      section('Services', table([
        { label: 'Service', value: (s) => s.label },
        { label: 'Type', value: (s) => s.type },
        { label: 'Access record', value: (s) => (withRecord.has(s.serviceId) ? 'yes' : 'none') },
      ], services, { id: 'services-table', empty: 'No services yet.' }),
      canWrite ? h('form', { class: 'inline', onsubmit: async (e) => {
        e.preventDefault();
        const f = e.target.elements;
        try {
          await ctx.api(ctx.opPath('/services'), { method: 'POST', body: { clientId, type: f.type.value, label: f.label.value.trim() } });
          ok('Service created.');
          await load();
        } catch (err) { fail(err, 'services'); }
      } },
      h('label', {}, 'Label', h('input', { name: 'label', required: true })),
      h('label', {}, 'Type', h('select', { name: 'type' }, ['vps', 'cloud', 'dedicated'].map((t) => h('option', { value: t }, t)))),
      h('button', { type: 'submit' }, 'Add service')) : null),
      section('NetFlow access records', recordsTable(records, canWrite ? toggle : undefined),
        canWrite && services.some((s) => !withRecord.has(s.serviceId)) ? recordForm(services.filter((s) => !withRecord.has(s.serviceId))) : null),
    );
  }

  function recordForm(freeServices) {
    return h('form', { class: 'inline', id: 'new-record', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      const payload = { serviceId: f.serviceId.value, username: f.username.value.trim(), enabled: true };
      if (f.password.value) payload.password = f.password.value;
      if (f.groupValue.value.trim()) payload.group = { kind: f.groupKind.value, value: f.groupValue.value.trim() };
      if (f.ipAddress.value.trim()) payload.ipAddress = f.ipAddress.value.trim();
      try {
        await ctx.api(ctx.opPath('/access-records'), { method: 'POST', body: payload });
        ok(`Access record for ${payload.username} created.`);
        await load();
      } catch (err) { fail(err, 'access records'); }
    } },
    h('label', {}, 'Service', h('select', { name: 'serviceId' }, freeServices.map((s) => h('option', { value: s.serviceId }, s.label)))),
    h('label', {}, 'Login', h('input', { name: 'username', required: true, autocomplete: 'off' })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })),
    h('label', {}, 'Shows', h('select', { name: 'groupKind' }, GROUP_KINDS.map(([k, l]) => h('option', { value: k }, l)))),
    h('label', {}, 'Group / subject', h('input', { name: 'groupValue' })),
    h('label', {}, 'IP or subnet', h('input', { name: 'ipAddress' })),
    h('button', { type: 'submit' }, 'Create access record'));
  }

  await load();
}
