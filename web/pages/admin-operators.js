// @ts-check
// super_admin: operators (tenants) and their first users, and the hub's own health and counters.
// API (hub/identity/identity-routes.ts): GET /operators → {operators:[{operatorId,name,createdAtMs}]};
//      POST /operators {operatorId,name}; POST /operators/:op/users {username,password,role}
//      GET /health → {ok, mqttConnected} (503 while MQTT is down); GET /hub/counters → {counters:{ingest:{…}, mqtt:{…}}}
import { h, table, section, errorBox, badge, fill } from '../dom.js';
import { formatCount, formatUtc } from '../format.js';

/** @typedef {import('../../common/api/session').OperatorView} OperatorView */
/** @typedef {import('../../common/api/session').OperatorsResponse} OperatorsResponse */

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const message = h('div', { id: 'operators-message' });
  const list = h('div', { id: 'operators' });
  ctx.el.append(h('h1', {}, 'Operators'), message, list);

  const ok = (/** @type {string} */ text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (/** @type {unknown} */ err, /** @type {string} */ what) => message.replaceChildren(errorBox(err, what));

  async function load() {
    /** @type {OperatorView[]} */
    let operators;
    try {
      operators = (/** @type {OperatorsResponse} */ (await ctx.api('/operators'))).operators || [];
    } catch (err) {
      list.replaceChildren(errorBox(err, 'operators'));
      return;
    }
    if (!ctx.isCurrent()) return;
    list.replaceChildren(section(null, table([
      { label: 'Operator', value: (o) => h('code', {}, o.operatorId) },
      { label: 'Name', value: (o) => o.name },
      { label: 'Created', value: (o) => formatUtc(o.createdAtMs) },
    ], operators, { id: 'operators-table', empty: 'No operators yet.' })),
    section('Add a user to an operator', h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      try {
        await ctx.api(`/operators/${encodeURIComponent(f.operatorId.value)}/users`, { method: 'POST', body: { username: f.username.value, password: f.password.value, role: f.role.value } });
        ok(`User ${f.username.value} created.`);
        e.target.reset();
      } catch (err) { fail(err, 'users'); }
    } },
    h('label', {}, 'Operator', h('select', { name: 'operatorId', required: true }, operators.map((o) => h('option', { value: o.operatorId }, o.operatorId)))),
    h('label', {}, 'Username', h('input', { name: 'username', required: true, autocomplete: 'off' })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
    h('label', {}, 'Role', h('select', { name: 'role' }, h('option', { value: 'operator_admin' }, 'operator admin'), h('option', { value: 'operator_readonly' }, 'read-only'))),
    h('button', { type: 'submit' }, 'Create user'))));
  }

  ctx.el.append(section('New operator', h('form', { class: 'inline', id: 'new-operator', onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      await ctx.api('/operators', { method: 'POST', body: { operatorId: f.operatorId.value.trim(), name: f.name.value.trim() } });
      // A new operator has 0 active customers, so the smallest tier: say where the add-on's trial is.
      ok(`Operator ${f.operatorId.value} created on the Small tier; to let it try NetFlow, pick it in the header and switch its tier on Account.`);
      e.target.reset();
      await ctx.refreshOperators();
      await load();
    } catch (err) { fail(err, 'operators'); }
  } },
  // The hub's rule (identity-store.ts SAFE_ID). Browsers compile `pattern` with the v flag, where a
  // "-" in a class must be escaped: '[a-z0-9-]' is an invalid regex there (a console error, no check).
  h('label', {}, 'Operator id', h('input', { name: 'operatorId', required: true, maxlength: 64, pattern: '[A-Za-z0-9_\\-]+', title: '1-64 letters, digits, _ or -' })),
  h('label', {}, 'Name', h('input', { name: 'name', required: true })),
  h('button', { type: 'submit' }, 'Create operator'))));
  const hub = h('div', { id: 'hub-health' });
  ctx.el.append(section('Hub', hub));
  await load();
  await fill(hub, 'hub counters', async () => {
    let health;
    try {
      health = await ctx.api('/health');
    } catch (err) {
      // 503 carries no {error}: the hub's MQTT client is down, so nothing is ingested.
      health = /** @type {{ status?: number }} */ (err).status === 503 ? { ok: false, mqttConnected: false } : null;
      if (!health) throw err;
    }
    const counters = (await ctx.api('/hub/counters')).counters || {};
    const rows = Object.entries(counters).flatMap(([group, values]) => Object.entries(values || {}).map(([name, value]) => ({ group, name, value })));
    return [
      h('p', {}, 'MQTT ', health.mqttConnected ? badge('connected', 'ok') : badge('down: nothing is ingested', 'bad')),
      table([
        { label: 'Part', value: (r) => r.group },
        { label: 'Counter', value: (r) => r.name },
        { label: 'Value', num: true, value: (r) => formatCount(r.value) },
      ], rows, { id: 'hub-counters', empty: 'No counters reported.' }),
    ];
  });
}
