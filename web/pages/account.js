// Account → Plans → Add-ons: the operator's subscription tier, the tiers on offer, and the add-ons
// with their lifecycle (start trial, activate, cancel, disable renewal, days left).
// API: GET  /operators/:op/subscription → {subscription:{tier,status,currentPeriodEndMs?,currency?},
//             tiers?:[{tier,name,priceMinor,currency,interval?}], addons:[{addonId,name,description?,state,
//             trialEndsAtMs?,daysLeft?,renews?,periodEndMs?,priceMinor?,currency?,trialAvailable?}]}
//      POST /operators/:op/addons/:addonId/{start-trial|activate|cancel|disable-renewal} → {addon}
//      POST /operators/:op/subscription {tier} → {subscription}
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatMoney, formatUtc, formatUtcDate } from '../format.js';

const WRITERS = ['super_admin', 'operator_admin'];
const DAY_MS = 86_400_000;

export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'account-message' });
  const body = h('div', { id: 'account' });
  ctx.el.append(h('h1', {}, 'Account'), message, body);

  async function act(label, path, payload) {
    message.replaceChildren();
    try {
      await ctx.api(ctx.opPath(path), { method: 'POST', body: payload ?? {} });
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${label}: done.`));
    } catch (err) {
      message.replaceChildren(errorBox(err, label.toLowerCase()));
    }
    await load();
  }

  async function load() {
    let res;
    try {
      res = await ctx.api(ctx.opPath('/subscription'));
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'subscriptions'));
      return;
    }
    if (!ctx.isCurrent()) return;
    const sub = res.subscription || {};
    const tiers = res.tiers || [];
    const addons = res.addons || [];
    const nowMs = Date.now();
    body.replaceChildren(
      section('Plan', h('dl', { class: 'kv', id: 'subscription' },
        h('dt', {}, 'Tier'), h('dd', {}, h('strong', {}, sub.tierName || sub.tier || '—')),
        h('dt', {}, 'Status'), h('dd', {}, sub.status ? badge(sub.status, sub.status === 'active' ? 'ok' : 'warn') : '—'),
        sub.currentPeriodEndMs ? [h('dt', {}, 'Current period ends'), h('dd', {}, formatUtc(sub.currentPeriodEndMs))] : null),
      tiers.length ? table([
        { label: 'Tier', value: (t) => t.name || t.tier },
        { label: 'Price', num: true, value: (t) => `${formatMoney(t.priceMinor, t.currency, t.currencyExponent)}${t.interval ? ` / ${t.interval}` : ''}` },
        { label: 'Limits', value: (t) => t.limits ? Object.entries(t.limits).map(([k, v]) => `${k}: ${v}`).join(', ') : '' },
        { label: '', value: (t) => (t.tier === sub.tier ? badge('current', 'ok') : canWrite ? h('button', { type: 'button', class: 'secondary', onclick: () => act(`Change to ${t.name || t.tier}`, '/subscription', { tier: t.tier }) }, 'Switch') : '') },
      ], tiers, { id: 'tiers' }) : null),
      section('Add-ons', table([
        { label: 'Add-on', value: (a) => h('span', {}, h('strong', {}, a.name || a.addonId), a.description ? h('div', { class: 'muted' }, a.description) : null) },
        { label: 'State', value: (a) => addonState(a) },
        { label: 'Days left', num: true, value: (a) => daysLeft(a, nowMs) },
        { label: 'Renews', value: (a) => (isRunning(a) ? (a.renews === false ? 'no' : a.state === 'trial' ? '—' : 'yes') : '—') },
        { label: 'Price', num: true, value: (a) => (a.priceMinor !== undefined ? formatMoney(a.priceMinor, a.currency, a.currencyExponent) : '') },
        { label: 'Actions', value: (a) => (canWrite ? addonActions(a, act) : h('span', { class: 'muted' }, 'read-only')) },
      ], addons, { id: 'addons', empty: 'No add-ons are offered to this operator.', rowAttrs: (a) => ({ 'data-addon': a.addonId }) })),
    );
  }

  function daysLeft(a, nowMs) {
    if (a.daysLeft !== undefined && a.daysLeft !== null) return String(a.daysLeft);
    const end = a.state === 'trial' ? a.trialEndsAtMs : a.periodEndMs;
    if (!end || !isRunning(a)) return '—';
    return String(Math.max(0, Math.ceil((Number(end) - nowMs) / DAY_MS)));
  }

  await load();
}

function isRunning(a) {
  return a.state === 'trial' || a.state === 'active';
}

function addonState(a) {
  const kinds = { active: 'ok', trial: 'warn', cancelled: 'bad', expired: 'bad', available: 'muted' };
  return h('span', {}, badge(a.state || 'available', kinds[a.state] || 'muted'),
    a.state === 'trial' && a.trialEndsAtMs ? h('div', { class: 'muted' }, `trial ends ${formatUtcDate(a.trialEndsAtMs)}`) : null,
    a.state === 'active' && a.renews === false && a.periodEndMs ? h('div', { class: 'muted' }, `ends ${formatUtcDate(a.periodEndMs)}`) : null);
}

function addonActions(a, act) {
  const id = encodeURIComponent(a.addonId);
  const name = a.name || a.addonId;
  const btn = (label, action, cls) => h('button', { type: 'button', class: cls, 'data-action': action, onclick: () => act(`${label} ${name}`, `/addons/${id}/${action}`) }, label);
  const out = [];
  const state = a.state || 'available';
  if (state === 'available' && a.trialAvailable !== false) out.push(btn('Start trial', 'start-trial'));
  if (state === 'available' || state === 'trial' || state === 'expired' || state === 'cancelled') out.push(btn('Activate', 'activate', state === 'trial' ? undefined : 'secondary'));
  if (state === 'active' && a.renews !== false) out.push(btn('Disable renewal', 'disable-renewal', 'secondary'));
  if (state === 'active' || state === 'trial') out.push(btn('Cancel', 'cancel', 'danger'));
  return h('div', { class: 'row' }, out);
}
