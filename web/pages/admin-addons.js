// super_admin: which operators are offered the NetFlow Traffic Analysis add-on. Hiding it stops new
// trials and activations for that operator (commerce rules decide what happens to a running one).
// API: GET /operators → {operators}; GET /operators/:op/subscription → {subscription:{tier,addon:{visible,status (none|trial|trial_expired|active|cancelling|ended|purged),…}}};
//      PUT /operators/:op/addons/netflow/visibility {visible} → {subscription}
import { h, table, section, errorBox, badge } from '../dom.js';

export async function render(ctx) {
  const message = h('div', { id: 'addons-message' });
  const list = h('div', { id: 'addon-visibility' });
  ctx.el.append(h('h1', {}, 'Add-on visibility'), h('p', { class: 'muted' }, 'NetFlow Traffic Analysis: offered to these operators.'), message, list);

  async function load() {
    let operators;
    try {
      operators = (await ctx.api('/operators')).operators || [];
    } catch (err) {
      list.replaceChildren(errorBox(err, 'operators'));
      return;
    }
    const rows = await Promise.all(operators.map(async (o) => {
      try {
        return { ...o, sub: (await ctx.api(`/operators/${encodeURIComponent(o.operatorId)}/subscription`)).subscription };
      } catch (err) {
        return { ...o, err };
      }
    }));
    if (!ctx.isCurrent()) return;
    list.replaceChildren(section(null, table([
      { label: 'Operator', value: (r) => h('span', {}, h('strong', {}, r.name || r.operatorId), h('div', { class: 'muted' }, r.operatorId)) },
      { label: 'Tier', value: (r) => (r.sub && r.sub.tier ? r.sub.tier.name : '—') },
      { label: 'Add-on', value: (r) => (r.err ? errorBox(r.err, 'subscriptions') : badge(r.sub.addon.status, r.sub.addon.status === 'active' || r.sub.addon.status === 'cancelling' ? 'ok' : 'muted')) },
      { label: 'Visible', value: (r) => (r.sub ? (r.sub.addon.visible ? badge('offered', 'ok') : badge('hidden', 'bad')) : '—') },
      { label: '', value: (r) => (r.sub ? h('button', { type: 'button', class: 'secondary', 'data-operator': r.operatorId, onclick: () => toggle(r) }, r.sub.addon.visible ? 'Hide' : 'Offer') : '') },
    ], rows, { id: 'visibility-table', empty: 'No operators yet.' })));
  }

  async function toggle(r) {
    const visible = !r.sub.addon.visible;
    try {
      await ctx.api(`/operators/${encodeURIComponent(r.operatorId)}/addons/netflow/visibility`, { method: 'PUT', body: { visible } });
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${r.operatorId}: add-on ${visible ? 'offered' : 'hidden'}.`));
    } catch (err) {
      message.replaceChildren(errorBox(err, 'add-on visibility'));
    }
    await load();
  }

  await load();
}
