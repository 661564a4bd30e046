// @ts-check
// super_admin: which operators are offered the NetFlow Traffic Analysis add-on. Hiding it stops new
// trials and activations for that operator (commerce rules decide what happens to a running one).
// API: GET /operators → {operators}; GET /operators/:op/subscription → {subscription:{tier,addon:{visible,status (none|trial|trial_expired|active|cancelling|ended|purged),…}}};
//      PUT /operators/:op/addons/netflow/visibility {visible} → {subscription}
import { h, table, section, errorBox, badge } from '../dom.js';

/** @typedef {import('../../common/api/session').OperatorView} OperatorView */
/** @typedef {import('../../common/api/session').OperatorsResponse} OperatorsResponse */
/** @typedef {import('../../common/api/subscription').SubscriptionView} SubscriptionView */
/** @typedef {import('../../common/api/subscription').SubscriptionResponse} SubscriptionResponse */
/** @typedef {import('../../common/api/subscription').AddonVisibilityRequest} AddonVisibilityRequest */
/** An operator with its subscription, or the error that kept it from loading. @typedef {OperatorView & { sub?: SubscriptionView, err?: unknown }} Row */

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const message = h('div', { id: 'addons-message' });
  const list = h('div', { id: 'addon-visibility' });
  ctx.el.append(h('h1', {}, 'Add-on visibility'), h('p', { class: 'muted' }, 'NetFlow Traffic Analysis: offered to these operators.'), message, list);

  async function load() {
    /** @type {OperatorView[]} */
    let operators;
    try {
      operators = (/** @type {OperatorsResponse} */ (await ctx.api('/operators'))).operators || [];
    } catch (err) {
      list.replaceChildren(errorBox(err, 'operators'));
      return;
    }
    const rows = await Promise.all(operators.map(async (o) => {
      try {
        /** @type {SubscriptionResponse} */
        const res = await ctx.api(`/operators/${encodeURIComponent(o.operatorId)}/subscription`);
        return /** @type {Row} */ ({ ...o, sub: res.subscription });
      } catch (err) {
        return /** @type {Row} */ ({ ...o, err });
      }
    }));
    if (!ctx.isCurrent()) return;
    list.replaceChildren(section(null, table([
      { label: 'Operator', value: (r) => h('span', {}, h('strong', {}, r.name || r.operatorId), h('div', { class: 'muted' }, r.operatorId)) },
      { label: 'Tier', value: (r) => (r.sub && r.sub.tier ? r.sub.tier.name : '—') },
      { label: 'Add-on', value: (r) => (!r.sub ? errorBox(r.err, 'subscriptions') : badge(r.sub.addon.status, r.sub.addon.status === 'active' || r.sub.addon.status === 'cancelling' ? 'ok' : 'muted')) },
      { label: 'Visible', value: (r) => (r.sub ? (r.sub.addon.visible ? badge('offered', 'ok') : badge('hidden', 'bad')) : '—') },
      { label: '', value: ({ operatorId, sub }) => (sub ? h('button', { type: 'button', class: 'secondary', 'data-operator': operatorId, onclick: () => toggle(operatorId, sub) }, sub.addon.visible ? 'Hide' : 'Offer') : '') },
    ], rows, { id: 'visibility-table', empty: 'No operators yet.' })));
  }

  /**
   * @param {string} operatorId
   * @param {SubscriptionView} sub
   */
  async function toggle(operatorId, sub) {
    const visible = !sub.addon.visible;
    try {
      /** @type {AddonVisibilityRequest} */
      const body = { visible };
      await ctx.api(`/operators/${encodeURIComponent(operatorId)}/addons/netflow/visibility`, { method: 'PUT', body });
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${operatorId}: add-on ${visible ? 'offered' : 'hidden'}.`));
    } catch (err) {
      message.replaceChildren(errorBox(err, 'add-on visibility'));
    }
    await load();
  }

  await load();
}
