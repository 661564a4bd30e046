// @ts-check
// Account → Plan → Add-ons: the operator's subscription tier, the NetFlow Traffic Analysis add-on
// with its lifecycle (start trial, activate, cancel, disable/enable renewal, days left), notices, and
// the running period's invoice preview.
// API (hub/commerce/commerce-routes.ts):
//   GET  /operators/:op/subscription → {subscription:{currency, tier:{tierId,name,maxCustomers,monthlyFeeMinor,
//        netflowEligible}, activeCustomers, period:{startMs,endMs}, addon:{name,visible,
//        status: none|trial|trial_expired|active|cancelling|ended|purged, trial:{startedAtMs,endsAtMs}|null,
//        paid:{firstActivatedAtMs}|null, endsAtMs? and endReason? (cancelling), purgeAtMs? (trial_expired, ended),
//        trialUsed,renew,daysLeft,eligible,percentOfFee,priceTier:{tierId,tierName},priceMonthlyMinor,
//        collection:{allowed,reason}}, notices:[{atMs,code,text}], nextInvoicePreview:{lines,totalMinor,currency,currencyExponent,note}}}
//   POST /operators/:op/addons/netflow/{start-trial|activate|cancel|disable-renewal|enable-renewal} → {subscription}
//   PUT  /operators/:op/subscription {tierId} → {subscription};  GET /price-book (super_admin) → {priceBook:{tiers}}
import { h, table, section, errorBox, badge, setChildren } from '../dom.js';
import { formatCount, formatMoney, formatUnroundedMoney, formatUtc, formatUtcDate } from '../format.js';

/** @typedef {import('../../common/api/subscription').SubscriptionView} SubscriptionView */
/** @typedef {import('../../common/api/subscription').SubscriptionResponse} SubscriptionResponse */
/** @typedef {import('../../common/api/subscription').AddonView} AddonView */
/** @typedef {import('../../common/api/subscription').TierView} TierView */
/** @typedef {import('../../common/api/subscription').BillingPeriodView} BillingPeriodView */
/** @typedef {import('../../common/api/subscription').InvoicePreviewView} InvoicePreviewView */
/** @typedef {import('../../common/api/session').Role} Role */
/** @typedef {{ tierId: string, name: string, maxCustomers: number | null, monthlyFeeMinor: number, netflowEligible: boolean }} PriceBookTier GET /price-book's tiers */
/** @typedef {(label: string, method: string, path: string, payload?: unknown) => Promise<void>} Act */

/** @type {Role[]} */
const WRITERS = ['super_admin', 'operator_admin'];

/** @type {Record<string, [string, 'muted' | 'ok' | 'warn' | 'bad']>} */
const STATUS = {
  none: ['not started', 'muted'],
  trial: ['trial', 'warn'],
  trial_expired: ['trial expired', 'bad'],
  active: ['active', 'ok'],
  cancelling: ['active, not renewing', 'warn'],
  ended: ['ended', 'bad'],
  purged: ['ended, data deleted', 'muted'],
};

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'account-message' });
  const body = h('div', { id: 'account' });
  // Operator users change their own password here (super_admins also from the header's "Password").
  const password = ctx.principal.role === 'super_admin' ? null : section('Password',
    h('p', { class: 'row' }, h('span', { class: 'muted' }, `Signed in as ${ctx.principal.username}.`),
      h('a', { href: '#/change-password', class: 'btn secondary', id: 'account-change-password' }, 'Change password')));
  ctx.el.append(h('h1', {}, 'Account'), message, body);
  if (password) ctx.el.append(password);
  let busy = false;

  /** @type {Act} */
  async function act(label, method, path, payload) {
    if (busy) return;
    busy = true;
    message.replaceChildren();
    try {
      const res = /** @type {Partial<SubscriptionResponse>} */ (await ctx.api(ctx.opPath(path), { method, body: payload ?? {} }));
      message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `${label}: done.`));
      if (res.subscription) await show(res.subscription);
      else await load();
    } catch (err) {
      message.replaceChildren(errorBox(err, label.toLowerCase()));
      await load();
    } finally {
      busy = false;
    }
  }

  async function load() {
    /** @type {SubscriptionResponse} */
    let res;
    try {
      res = await ctx.api(ctx.opPath('/subscription'));
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'subscriptions'));
      return;
    }
    await show(res.subscription);
  }

  /** @type {PriceBookTier[] | null} */
  let tiers = null;
  /** @param {SubscriptionView} sub */
  async function show(sub) {
    if (!ctx.isCurrent()) return;
    if (tiers === null && ctx.principal.role === 'super_admin') {
      try { tiers = ((await ctx.api('/price-book')).priceBook || {}).tiers || []; } catch { tiers = []; }
    }
    const cur = sub.currency;
    const tier = sub.tier;
    const addon = sub.addon;
    setChildren(body,
      section('Plan', h('dl', { class: 'kv', id: 'subscription' },
        h('dt', {}, 'Tier'), h('dd', {}, h('strong', {}, tier.name || tier.tierId || '—')),
        h('dt', {}, 'Monthly fee'), h('dd', {}, formatMoney(tier.monthlyFeeMinor, cur)),
        h('dt', {}, 'Active customers'), h('dd', {}, `${formatCount(sub.activeCustomers)}${tier.maxCustomers ? ` of up to ${formatCount(tier.maxCustomers)}` : ''}`),
        sub.period ? [h('dt', {}, 'Billing period'), h('dd', {}, `${formatUtcDate(sub.period.startMs)} – ${formatUtcDate(sub.period.endMs - 1)}`)] : null),
      tiers && tiers.length ? table([
        { label: 'Tier', value: (t) => t.name },
        { label: 'Customers up to', num: true, value: (t) => (t.maxCustomers === null ? 'no limit' : formatCount(t.maxCustomers)) },
        { label: 'Monthly fee', num: true, value: (t) => formatMoney(t.monthlyFeeMinor, cur) },
        { label: 'NetFlow add-on', value: (t) => (t.netflowEligible ? 'eligible' : 'not eligible') },
        { label: '', value: (t) => (t.tierId === tier.tierId ? badge('current', 'ok') : h('button', { type: 'button', class: 'secondary', onclick: () => act(`Change to ${t.name}`, 'PUT', '/subscription', { tierId: t.tierId }) }, 'Switch')) },
      ], tiers, { id: 'tiers' }) : null),
      section('Add-ons', addonTable(addon, tier, cur, canWrite, act, sub.period), ineligibleHint(addon, tier, tiers, ctx.principal.role)),
      sub.notices && sub.notices.length ? section('Notices', table([
        { label: 'When', value: (n) => formatUtc(n.atMs) },
        { label: 'Notice', value: (n) => n.text },
      ], [...sub.notices].reverse(), { id: 'notices' })) : null,
      sub.nextInvoicePreview ? section('This period so far', invoicePreview(sub.nextInvoicePreview)) : null,
    );
  }

  await load();
}

/**
 * @param {AddonView} addon
 * @param {TierView} tier
 * @param {PriceBookTier[] | null} tiers the price book's, for super_admin only
 * @param {Role} role
 *
 * A new operator starts on the tier its active customer count fits (0 customers: the smallest),
 * which may not run the add-on. Say in one line what to do; the tier is a price, so the hub never
 * raises it by itself.
 */
function ineligibleHint(addon, tier, tiers, role) {
  if (addon.eligible !== false || addon.visible === false) return null;
  const eligible = (tiers || []).filter((t) => t.netflowEligible).map((t) => t.name);
  const names = eligible.length ? eligible.join(' or ') : 'a larger tier';
  const text = role === 'super_admin'
    ? `To try ${addon.name || 'the add-on'}, switch this operator from ${tier.name || 'its tier'} to ${names} in the Plan table above; its trial can then be started here.`
    : `${addon.name || 'The add-on'} needs a larger tier than ${tier.name || 'this one'}: ask your flowbill provider (super_admin) to move this account, then start the trial here.`;
  return h('p', { class: 'notice', id: 'addon-ineligible-hint' }, text);
}

/**
 * @param {AddonView} addon
 * @param {TierView} tier
 * @param {string} currency
 * @param {boolean} canWrite
 * @param {Act} act
 * @param {BillingPeriodView | undefined} period
 */
function addonTable(addon, tier, currency, canWrite, act, period) {
  const [text, kind] = STATUS[addon.status] || [addon.status || 'none', /** @type {'muted'} */ ('muted')];
  /** @type {string[]} */
  const details = [];
  if (addon.status === 'trial' && addon.trial) details.push(`trial ends ${formatUtc(addon.trial.endsAtMs)}`);
  if (addon.status === 'cancelling' && addon.endsAtMs) details.push(`ends ${formatUtc(addon.endsAtMs)}${addon.endReason ? ` (${addon.endReason.replaceAll('_', ' ')})` : ''}`);
  if (addon.priceTier && tier.tierId && addon.priceTier.tierId !== tier.tierId) details.push(`charged at the ${addon.priceTier.tierName} price (the last eligible tier) until it ends`);
  if (addon.purgeAtMs && (addon.status === 'trial_expired' || addon.status === 'ended')) details.push(`collected data is deleted on ${formatUtcDate(addon.purgeAtMs)} unless activated`);
  if (addon.status !== 'trial' && addon.trial) details.push(`trial used ${formatUtcDate(addon.trial.startedAtMs)} – ${formatUtcDate(addon.trial.endsAtMs)}`);
  if (addon.collection && addon.collection.allowed === false && addon.collection.reason) details.push(`collection paused: ${addon.collection.reason}`);
  if (addon.eligible === false) details.push('this tier cannot run the add-on');
  if (addon.visible === false) details.push('not offered to this operator');
  return table([
    { label: 'Add-on', value: () => h('strong', {}, addon.name || 'NetFlow Traffic Analysis') },
    { label: 'State', value: () => h('span', {}, badge(text, kind), details.map((d) => h('div', { class: 'muted' }, d))) },
    { label: 'Days left', num: true, value: () => (addon.daysLeft === undefined || addon.daysLeft === null ? '—' : String(addon.daysLeft)) },
    { label: 'Renews', value: () => (addon.status === 'active' ? 'yes' : addon.status === 'cancelling' ? 'no' : '—') },
    { label: 'Price / month', num: true, value: () => `${formatMoney(addon.priceMonthlyMinor, currency)}${addon.percentOfFee !== undefined ? ` (${addon.percentOfFee}% of fee)` : ''}` },
    { label: 'Actions', value: () => (canWrite ? addonActions(addon, act, period) : h('span', { class: 'muted' }, 'read-only')) },
  ], [addon], { id: 'addons', rowAttrs: () => ({ 'data-addon': 'netflow' }) });
}

/**
 * Cancel is offered only while the add-on is active and renewing: a trial ends by itself and is never
 * charged (the hub refuses to cancel it), and once cancelled the add-on runs to the period's end with
 * "Enable renewal" as the way back. Cancelling asks first, saying what happens.
 */
/**
 * @param {AddonView} a
 * @param {Act} act
 * @param {BillingPeriodView | undefined} period
 */
function addonActions(a, act, period) {
  /** @type {(label: string, action: string, cls?: string, confirmText?: string) => HTMLElement} */
  const btn = (label, action, cls, confirmText) => h('button', { type: 'button', class: cls, 'data-action': action, onclick: () => {
    if (confirmText && !confirm(confirmText)) return;
    void act(label, 'POST', `/addons/netflow/${action}`);
  } }, label);
  const until = period && period.endMs ? ` until the end of the paid period (${formatUtc(period.endMs)})` : ' until the end of the paid period';
  if (a.visible === false || a.eligible === false) return h('span', { class: 'muted' }, 'unavailable');
  const out = [];
  if (a.status === 'none' && !a.trialUsed) out.push(btn('Start trial', 'start-trial'));
  if (a.status !== 'active' && a.status !== 'cancelling') out.push(btn('Activate', 'activate', a.status === 'none' && !a.trialUsed ? 'secondary' : undefined));
  if (a.status === 'active') out.push(btn('Disable renewal', 'disable-renewal', 'secondary'));
  if (a.status === 'cancelling') out.push(btn('Enable renewal', 'enable-renewal', 'secondary'));
  if (a.status === 'active') out.push(btn('Cancel', 'cancel', 'danger', `Cancel ${a.name || 'the add-on'}? It stays active${until}, is not renewed, and then collection stops; the data stays readable for the retention period.`));
  if (a.status === 'trial') out.push(h('span', { class: 'muted' }, 'the trial ends by itself and is never charged'));
  return h('div', { class: 'row' }, out);
}

/**
 * The lines of the period so far, or of an issued invoice (invoices.js).
 * @param {Pick<InvoicePreviewView, 'lines' | 'totalMinor' | 'currency' | 'currencyExponent'> & { note?: string }} inv
 */
export function invoicePreview(inv) {
  return [
    table([
      { label: 'Line', value: (l) => l.description },
      { label: 'Dates', value: (l) => `${l.fromDate} – ${l.toDate}` },
      { label: 'Days', num: true, value: (l) => `${l.days} / ${l.daysInPeriod}` },
      // The exact figure before the line's one half-up rounding, in the currency (not minor units).
      { label: 'Before rounding', num: true, value: (l) => formatUnroundedMoney(l.unroundedMinor, inv.currency, inv.currencyExponent), title: (l) => l.rule },
      { label: 'Amount', num: true, value: (l) => formatMoney(l.amountMinor, inv.currency, inv.currencyExponent) },
    ], inv.lines || [], { empty: 'No charges in this period.' }),
    h('p', { class: 'row' }, h('strong', {}, `Total ${formatMoney(inv.totalMinor, inv.currency, inv.currencyExponent)}`), inv.note ? h('span', { class: 'muted' }, inv.note) : null),
  ];
}
