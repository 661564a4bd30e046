// @ts-check
// Read-only MQTT consumer credentials of the operator, as a section of the Users page: a consumer reads
// the tenant's summaries, status, live and stored topics (README "MQTT topics") and can publish nothing.
// API (hub/edges/edge-routes.ts): GET /operators/:op/consumers → {consumers}; POST …/consumers {name}
//      → {consumer, credentials} (the password only in this answer); DELETE …/consumers/:username (revoke).
import { h, table, section, errorBox } from '../dom.js';
import { formatUtc } from '../format.js';

/** @typedef {import('../../common/api/users').ConsumerView} ConsumerView */
/** @typedef {import('../../common/api/users').ConsumersResponse} ConsumersResponse */
/** @typedef {import('../../common/api/users').CreateConsumerResponse} CreateConsumerResponse */

/**
 * @param {Pick<import('../app.js').PageContext, 'api' | 'opPath' | 'isCurrent'>} ctx
 * @param {boolean} canWrite
 * @returns {HTMLElement}
 */
export function consumersSection(ctx, canWrite) {
  const message = h('div', { id: 'consumers-message' });
  const list = h('div', { id: 'consumers' });
  const el = section('Read-only MQTT consumers',
    h('p', { class: 'muted' }, 'Credentials for third-party readers of this operator\'s MQTT topics (summaries, status, live flows, stored batches). They cannot publish.'),
    message, list,
    canWrite ? h('form', { class: 'inline', id: 'new-consumer', onsubmit: async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      const form = /** @type {HTMLFormElement} */ (e.target);
      const name = /** @type {HTMLInputElement} */ (form.elements.namedItem('name')).value.trim();
      try {
        /** @type {CreateConsumerResponse} */
        const res = await ctx.api(ctx.opPath('/consumers'), { method: 'POST', body: { name } });
        form.reset();
        message.replaceChildren(credentialsBox(res));
      } catch (err) { message.replaceChildren(errorBox(err, 'consumers')); }
      await load();
    } },
    h('label', {}, 'Name (who reads)', h('input', { name: 'name', required: true, maxlength: 128, placeholder: 'billing export' })),
    h('button', { type: 'submit' }, 'Create consumer')) : null);

  async function load() {
    try {
      /** @type {ConsumersResponse} */
      const res = await ctx.api(ctx.opPath('/consumers'));
      if (!ctx.isCurrent()) return;
      list.replaceChildren(table([
        { label: 'Name', value: (/** @type {ConsumerView} */ c) => c.name },
        { label: 'MQTT username', value: (/** @type {ConsumerView} */ c) => h('code', {}, c.username) },
        { label: 'Created', value: (/** @type {ConsumerView} */ c) => formatUtc(c.createdAtMs) },
        canWrite ? { label: '', value: (/** @type {ConsumerView} */ c) => h('button', { type: 'button', class: 'danger', 'data-revoke': c.username, onclick: async () => {
          if (!confirm(`Revoke ${c.name} (${c.username})? Its connections close now and it cannot connect again.`)) return;
          try {
            await ctx.api(ctx.opPath(`/consumers/${encodeURIComponent(c.username)}`), { method: 'DELETE' });
            message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${c.name} revoked.`));
          } catch (err) { message.replaceChildren(errorBox(err, 'consumers')); }
          await load();
        } }, 'Revoke') } : null,
      ].filter((c) => c !== null), res.consumers, { id: 'consumers-table', empty: 'No consumers yet.' }));
    } catch (err) {
      if (ctx.isCurrent()) list.replaceChildren(errorBox(err, 'consumer credentials'));
    }
  }
  void load();
  return el;
}

/** The one time the password is shown: everything a subscriber needs to connect. */
function credentialsBox(/** @type {CreateConsumerResponse} */ res) {
  const c = res.credentials;
  return h('div', { class: 'notice success', role: 'status', id: 'consumer-credentials' },
    h('strong', {}, `Consumer ${res.consumer.name} created. `), 'Copy the password now: it is shown only this once.',
    h('dl', { class: 'kv' },
      h('dt', {}, 'MQTT URL'), h('dd', {}, h('code', {}, c.mqttUrl)),
      h('dt', {}, 'Username'), h('dd', {}, h('code', {}, c.username)),
      h('dt', {}, 'Password'), h('dd', {}, h('code', { id: 'consumer-password' }, c.password)),
      h('dt', {}, 'Topics'), h('dd', {}, h('code', {}, `flowbill/v1/${c.tenantId}/+/stored`), ' (billing truth), ', h('code', {}, `flowbill/v1/${c.tenantId}/+/summaries`))));
}
