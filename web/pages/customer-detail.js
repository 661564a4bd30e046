// @ts-check
// One customer: their services and the NetFlow access record of each (one record per service; records
// of one customer may share a login). Operators create services and records here, edit, enable/disable
// and delete records, and send the welcome mail after previewing it with its merge fields filled in.
// API (hub/access/access-routes.ts): GET /operators/:op/clients/:id → {client}; GET/POST …/services[?clientId]
//      {clientId,type:vps|cloud|dedicated,label}; GET/POST …/access-records {serviceId,username,password?,group?:{kind,value},
//      ipAddress?,notes?,enabled?}; PATCH …/access-records/:recordId (same fields; password '' keeps the stored one);
//      DELETE …/access-records/:recordId; POST …/access-records/:recordId/welcome-mail {dryRun?} → preview or {sent,to}.
// The group/subject pickers read GET …/subjects (series-routes.ts), …/ip-groups (edge-routes.ts) and …/bill-plans.
import { h, table, section, errorBox, setChildren } from '../dom.js';
import { clearFieldErrors, showApiFieldError } from '../field-errors.js';
import { recordsTable } from './customers.js';

/** @typedef {import('../../common/api/access').AccessRecordView} AccessRecordView */
/** @typedef {import('../../common/api/access').WelcomeMailPreview} WelcomeMailPreview */
/** @typedef {import('../../common/api/access').NetflowGroupView} NetflowGroupView */
/** @typedef {import('../../common/api/access').NetflowGroupKind} NetflowGroupKind */
/** @typedef {import('../../common/api/access').UpdateAccessRecordRequest} UpdateAccessRecordRequest */
/** @typedef {import('../../common/api/access').ClientView} ClientView */
/** @typedef {import('../../common/api/access').ServiceView} ServiceView */
/** @typedef {import('../../common/api/bill-plans').SubjectInfoView} SubjectInfoView */
/** @typedef {import('../../common/api/bill-plans').BillPlanView} BillPlanView */
/** @typedef {import('../../common/api/subjects').IpGroupView} IpGroupView */
/** @typedef {[value: string, label: string][]} Choices */

/** A named control's value in a form (inputs and selects alike). */
const valueOf = (/** @type {HTMLFormElement} */ form, /** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;

const WRITERS = ['super_admin', 'operator_admin'];
/** @type {[NetflowGroupKind, string][]} */
const GROUP_KINDS = [['ip_group', 'IP group'], ['interface', 'interface (exporter/ifIndex)'], ['customer_label', 'subject label'], ['billing_group', 'bill plan']];
/** API field → control name of the record forms. */
const RECORD_FIELDS = { username: 'username', password: 'password', group: 'groupValue', 'group.kind': 'groupKind', 'group.value': 'groupValue', ipAddress: 'ipAddress', notes: 'notes' };

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const clientId = ctx.params.customerId;
  const message = h('div', { id: 'customer-message' });
  const body = h('div');
  ctx.el.append(h('p', {}, h('a', { href: '#/customers' }, '← Customers')), body);
  const ok = (/** @type {string} */ text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (/** @type {unknown} */ err, /** @type {string} */ what) => message.replaceChildren(errorBox(err, what));
  /** Choices of each group kind, loaded once per render: [value, label][] */
  /** @type {Record<NetflowGroupKind, Choices>} */
  let choices = { ip_group: [], interface: [], customer_label: [], billing_group: [] };

  async function loadChoices() {
    /** @type {[SubjectInfoView[], IpGroupView[], BillPlanView[]]} */
    const [subjects, groups, plans] = await Promise.all([
      ctx.api(ctx.opPath('/subjects')).then((r) => r.subjects || []).catch(() => []),
      ctx.api(ctx.opPath('/ip-groups')).then((r) => r.ipGroups || []).catch(() => []),
      ctx.api(ctx.opPath('/bill-plans')).then((r) => r.plans || []).catch(() => []),
    ]);
    /** @type {Map<string, string>} */
    const ipGroups = new Map(groups.map((g) => [g.name, g.name]));
    for (const s of subjects) if (s.subjectId.startsWith('ipg:')) ipGroups.set(s.subjectId.slice(4), s.label && s.label !== s.subjectId.slice(4) ? `${s.subjectId.slice(4)} (${s.label})` : s.subjectId.slice(4));
    const labels = new Set(subjects.map((s) => s.label).filter(Boolean));
    choices = {
      ip_group: [...ipGroups].sort((a, b) => a[0].localeCompare(b[0])),
      interface: subjects.filter((s) => s.subjectId.startsWith('if:')).map((s) => /** @type {[string, string]} */ ([s.subjectId.slice(3), s.label && s.label !== s.subjectId ? `${s.subjectId.slice(3)} (${s.label})` : s.subjectId.slice(3)])),
      customer_label: [...labels].sort().map((l) => /** @type {[string, string]} */ ([l, l])),
      billing_group: plans.map((p) => [p.planId, p.name]),
    };
  }

  /**
   * "Shows": kind + a select of the existing subjects of that kind (no free text to mistype). A record's
   * current value that is no longer among them (a deleted group) stays selectable, marked.
   * @param {NetflowGroupView | null} current
   */
  function groupPicker(current) {
    const valueSelect = h('select', { name: 'groupValue', 'aria-label': 'Group / subject' });
    const fillValues = (/** @type {NetflowGroupKind} */ kind) => {
      const list = [...(choices[kind] || [])];
      if (current && current.kind === kind && !list.some(([v]) => v === current.value)) list.unshift([current.value, `${current.value} (not reporting)`]);
      setChildren(valueSelect, h('option', { value: '' }, list.length ? '— none —' : '— none to pick —'),
        list.map(([v, l]) => h('option', { value: v, selected: current && current.kind === kind && current.value === v }, l)));
    };
    const kindSelect = h('select', { name: 'groupKind', onchange: (/** @type {Event} */ e) => fillValues(/** @type {NetflowGroupKind} */ (/** @type {HTMLSelectElement} */ (e.target).value)) },
      GROUP_KINDS.map(([k, l]) => h('option', { value: k, selected: (current ? current.kind : 'ip_group') === k }, l)));
    fillValues(current ? current.kind : 'ip_group');
    return [h('label', {}, 'Shows', kindSelect), h('label', {}, 'Group / subject', valueSelect)];
  }

  /**
   * The body fields both record forms send; an edit clears what was emptied (null), a creation omits it.
   * @param {HTMLFormElement} form
   * @param {{ edit: boolean }} mode
   */
  function recordFields(form, { edit }) {
    /** @type {UpdateAccessRecordRequest & { username: string }} */
    const payload = { username: valueOf(form, 'username').trim() };
    if (valueOf(form, 'password')) payload.password = valueOf(form, 'password');
    const value = valueOf(form, 'groupValue');
    if (value) payload.group = { kind: /** @type {NetflowGroupKind} */ (valueOf(form, 'groupKind')), value };
    else if (edit) payload.group = null;
    const ip = valueOf(form, 'ipAddress').trim();
    if (ip) payload.ipAddress = ip; else if (edit) payload.ipAddress = null;
    payload.notes = valueOf(form, 'notes');
    return payload;
  }

  async function load() {
    /** @type {ClientView} */
    let client;
    /** @type {ServiceView[]} */
    let services;
    /** @type {AccessRecordView[]} */
    let records;
    try {
      [client, services, records] = await Promise.all([
        ctx.api(ctx.opPath(`/clients/${encodeURIComponent(clientId)}`)).then((r) => r.client),
        ctx.api(ctx.opPath('/services'), { query: { clientId } }).then((r) => r.services || []),
        ctx.api(ctx.opPath('/access-records'), { query: { clientId } }).then((r) => r.records || []),
        canWrite ? loadChoices() : undefined,
      ]);
    } catch (err) {
      body.replaceChildren(h('h1', {}, 'Customer'), errorBox(err, 'customers'));
      return;
    }
    if (!ctx.isCurrent()) return;
    const withRecord = new Set(records.map((r) => r.serviceId));
    const editor = h('div', { id: 'record-editor' });
    const actions = (/** @type {AccessRecordView} */ r) => h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', 'data-action': 'edit', onclick: () => { editor.replaceChildren(editForm(r, editor)); editor.scrollIntoView({ block: 'nearest' }); } }, 'Edit'),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'toggle', onclick: async () => {
        try {
          await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}`), { method: 'PATCH', body: { enabled: !r.enabled } });
          ok(`${r.username}: ${r.enabled ? 'disabled' : 'enabled'}.`);
        } catch (err) { fail(err, 'access records'); }
        await load();
      } }, r.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'welcome', onclick: () => { editor.replaceChildren(h('p', { class: 'muted' }, 'Rendering the welcome mail…')); void welcomePreview(r, editor); } }, 'Welcome mail'),
      h('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: async () => {
        if (!confirm(`Delete the access record ${r.username} of ${r.serviceLabel || r.serviceId}? The customer loses this service's traffic view (the service stays).`)) return;
        try {
          await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}`), { method: 'DELETE' });
          ok(`Access record ${r.username} deleted.`);
        } catch (err) { fail(err, 'access records'); }
        await load();
      } }, 'Delete'));

    body.replaceChildren(
      h('h1', {}, client.name), h('p', { class: 'muted' }, client.email || 'no e-mail address'), message,
      section('Services', table(/** @type {import('../dom.js').Column<ServiceView>[]} */ ([
        { label: 'Service', value: (s) => s.label },
        { label: 'Type', value: (s) => s.type },
        { label: 'Access record', value: (s) => (withRecord.has(s.serviceId) ? 'yes' : 'none') },
      ]), services, { id: 'services-table', empty: 'No services yet.' }),
      canWrite ? h('form', { class: 'inline', onsubmit: async (e) => {
        e.preventDefault();
        const form = /** @type {HTMLFormElement} */ (e.target);
        try {
          await ctx.api(ctx.opPath('/services'), { method: 'POST', body: { clientId, type: valueOf(form, 'type'), label: valueOf(form, 'label').trim() } });
          ok('Service created.');
          await load();
        } catch (err) { fail(err, 'services'); }
      } },
      h('label', {}, 'Label', h('input', { name: 'label', required: true })),
      h('label', {}, 'Type', h('select', { name: 'type' }, ['vps', 'cloud', 'dedicated'].map((t) => h('option', { value: t }, t)))),
      h('button', { type: 'submit' }, 'Add service')) : null),
      section('NetFlow access records', recordsTable(records, canWrite ? actions : undefined), editor,
        canWrite && services.some((s) => !withRecord.has(s.serviceId)) ? recordForm(services.filter((s) => !withRecord.has(s.serviceId))) : null),
    );
  }

  /** @param {ServiceView[]} freeServices services without a record */
  function recordForm(freeServices) {
    const form = h('form', { class: 'inline', id: 'new-record', onsubmit: async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const payload = { serviceId: valueOf(form, 'serviceId'), ...recordFields(form, { edit: false }), enabled: true };
      try {
        await ctx.api(ctx.opPath('/access-records'), { method: 'POST', body: payload });
        ok(`Access record for ${payload.username} created.`);
        await load();
      } catch (err) { if (!showApiFieldError(form, err, RECORD_FIELDS)) fail(err, 'access records'); }
    } },
    h('label', {}, 'Service', h('select', { name: 'serviceId' }, freeServices.map((s) => h('option', { value: s.serviceId }, s.label)))),
    h('label', {}, 'Login', h('input', { name: 'username', required: true, autocomplete: 'off' })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })),
    ...groupPicker(null),
    h('label', {}, 'IP or subnet', h('input', { name: 'ipAddress' })),
    h('label', {}, 'Internal notes', h('input', { name: 'notes' })),
    h('button', { type: 'submit' }, 'Create access record'));
    return form;
  }

  /** @param {AccessRecordView} r @param {HTMLElement} editor */
  function editForm(r, editor) {
    const form = h('form', { class: 'inline', id: 'edit-record', 'data-record': r.recordId, onsubmit: async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const payload = recordFields(form, { edit: true });
      try {
        await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}`), { method: 'PATCH', body: payload });
        ok(`Access record ${payload.username} saved.`);
        await load();
      } catch (err) { if (!showApiFieldError(form, err, RECORD_FIELDS)) fail(err, 'access records'); }
    } },
    h('label', {}, 'Login', h('input', { name: 'username', required: true, autocomplete: 'off', value: r.username })),
    h('label', {}, 'New password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: r.hasPassword ? 'blank: keep' : 'none stored', title: 'Leave blank to keep the stored password' })),
    ...groupPicker(r.group),
    h('label', {}, 'IP or subnet', h('input', { name: 'ipAddress', value: r.ipAddress || '' })),
    h('label', {}, 'Internal notes', h('input', { name: 'notes', value: r.notes || '' })),
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', class: 'secondary', onclick: () => editor.replaceChildren() }, 'Cancel'));
    return section(`Edit access record ${r.username} (${r.serviceLabel || r.serviceId})`, form);
  }

  /**
   * The welcome mail as the customer would get it (the hub renders it with dryRun: merge fields filled,
   * the password included), then Send. The preview never leaves this page.
   * @param {AccessRecordView} r @param {HTMLElement} editor
   */
  async function welcomePreview(r, editor) {
    /** @type {WelcomeMailPreview} */
    let preview;
    try {
      preview = await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}/welcome-mail`), { method: 'POST', body: { dryRun: true } });
    } catch (err) {
      editor.replaceChildren(errorBox(err, 'welcome mails'));
      return;
    }
    if (!ctx.isCurrent()) return;
    const m = preview.message;
    editor.replaceChildren(section(`Welcome mail for ${r.username}`,
      h('dl', { class: 'kv', id: 'welcome-preview' },
        h('dt', {}, 'To'), h('dd', {}, m.to.join(', ')),
        h('dt', {}, 'Subject'), h('dd', {}, m.subject)),
      h('div', { class: 'mail-preview', id: 'welcome-text' }, m.text),
      r.enabled ? null : h('p', { class: 'muted' }, 'This record is disabled: the mail carries no NetFlow login.'),
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'send-welcome', onclick: async () => {
          try {
            const res = await ctx.api(ctx.opPath(`/access-records/${encodeURIComponent(r.recordId)}/welcome-mail`), { method: 'POST', body: {} });
            editor.replaceChildren();
            ok(`Welcome mail sent to ${res.to.join(', ')}.`);
          } catch (err) { fail(err, 'welcome mails'); }
        } }, `Send to ${m.to.join(', ')}`),
        h('button', { type: 'button', class: 'secondary', onclick: () => editor.replaceChildren() }, 'Cancel'))));
  }

  await load();
}
