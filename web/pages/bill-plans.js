// @ts-check
// 95th-percentile bill plans: create, edit (name, description, e-mails, tariff), see tariffs and subjects,
// add/remove subjects, delete.
// Billing period and generation day are fixed once a plan exists; price changes apply from the next cycle.
// API (hub/billing/billing-routes.ts): GET/POST /operators/:op/bill-plans; GET …/bill-plans/available-subjects;
//      POST …/bill-plans/:planId/subjects {subjectId}; DELETE …/bill-plans/:planId/subjects/:subjectId;
//      DELETE …/bill-plans/:planId (bills the running part of the cycle); PATCH …/bill-plans/:planId {name, description,
//      emails, currency, baseSpeedBps, baseCostMinor, additionalSpeedBps, additionalCostMinor, percentileMethod}.
// POST body: {name, description, billingPeriod: monthly|quarterly, generationDay 1–31, emails, currency,
//      baseSpeedBps, baseCostMinor, additionalSpeedBps, additionalCostMinor, percentileMethod: merge|separate, subjectIds}
import { h, table, section, errorBox, badge } from '../dom.js';
import { currencyExponent, formatBps, formatMoney, formatUtcDate, parseMbpsToBps, parseMoneyToMinor } from '../format.js';
import { clearFieldErrors, showApiFieldError, showFieldError } from '../field-errors.js';

/** API field → control name of the plan forms, for errors next to their field. */
const PLAN_FIELDS = {
  name: 'name', description: 'description', emails: 'emails', currency: 'currency', percentileMethod: 'percentileMethod',
  baseSpeedBps: 'baseSpeed', baseCostMinor: 'baseCost', additionalSpeedBps: 'additionalSpeed', additionalCostMinor: 'additionalCost',
  generationDay: 'generationDay', billingPeriod: 'billingPeriod',
};

/** @typedef {import('../../common/api/bill-plans').BillPlanView} BillPlanView */
/** @typedef {import('../../common/api/bill-plans').TariffView} TariffView */
/** @typedef {import('../../common/api/bill-plans').AssociationView} AssociationView */
/** @typedef {import('../../common/api/bill-plans').SubjectInfoView} SubjectInfoView */
/** @typedef {import('../../common/api/bill-plans').UpdateBillPlanRequest} UpdateBillPlanRequest */

const WRITERS = ['super_admin', 'operator_admin'];
/** A named control's value in a form (inputs and selects alike). */
const valueOf = (/** @type {HTMLFormElement} */ form, /** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'plans-message' });
  const list = h('div', { id: 'plans' });
  const create = h('div');
  ctx.el.append(h('h1', {}, 'Bill plans'), message, list, create);
  const ok = (/** @type {string} */ text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (/** @type {unknown} */ err, /** @type {string} */ what) => message.replaceChildren(errorBox(err, what));
  const call = async (/** @type {string} */ what, /** @type {() => Promise<unknown>} */ fn, /** @type {string} */ done) => {
    try { await fn(); ok(done); } catch (err) { fail(err, what); }
    await load();
  };

  async function load() {
    /** @type {BillPlanView[]} */
    let plans;
    /** @type {SubjectInfoView[]} */
    let available;
    try {
      [plans, available] = await Promise.all([
        ctx.api(ctx.opPath('/bill-plans')).then((r) => r.plans || []),
        ctx.api(ctx.opPath('/bill-plans/available-subjects')).then((r) => r.subjects || []).catch(() => []),
      ]);
    } catch (err) {
      if (ctx.isCurrent()) list.replaceChildren(errorBox(err, 'bill plans'));
      return;
    }
    if (!ctx.isCurrent()) return;
    list.replaceChildren(...(plans.length ? plans.map((p) => planCard(p, available)) : [h('p', { class: 'empty' }, 'No bill plans yet.')]));
    if (canWrite) create.replaceChildren(section('New plan', planForm(available)));
  }

  /** @param {BillPlanView} plan @param {SubjectInfoView[]} available subjects in no plan */
  function planCard(plan, available) {
    const tariff = plan.tariffs[plan.tariffs.length - 1];
    const active = plan.associations.filter((a) => a.toSec === undefined || a.toSec === null);
    const pid = encodeURIComponent(plan.planId);
    return section(plan.name,
      plan.description ? h('p', { class: 'muted' }, plan.description) : null,
      h('dl', { class: 'kv' },
        h('dt', {}, 'Cycle'), h('dd', {}, `${plan.billingPeriod}, bills on day ${plan.generationDay}${plan.generationDay >= 29 ? ' (last day in shorter months)' : ''}`),
        h('dt', {}, 'Tariff'), h('dd', {}, `${formatMoney(tariff.baseCostMinor, tariff.currency)} up to ${formatBps(tariff.baseSpeedBps)}, then ${formatMoney(tariff.additionalCostMinor, tariff.currency)} per ${formatBps(tariff.additionalSpeedBps)} started`),
        h('dt', {}, '95th'), h('dd', {}, tariff.percentileMethod === 'separate' ? 'In & Out separate (the higher)' : 'In & Out merged'),
        h('dt', {}, 'Bills mailed to'), h('dd', {}, plan.emails.length ? plan.emails.join(', ') : '—')),
      h('h3', {}, 'Subjects'),
      table(/** @type {(import('../dom.js').Column<AssociationView> | null)[]} */ ([
        { label: 'Subject', value: (a) => h('code', {}, a.subjectId) },
        { label: 'Since', value: (a) => formatUtcDate(a.fromSec * 1000) },
        canWrite ? { label: '', value: (a) => h('button', { type: 'button', class: 'danger', onclick: () => {
          if (!confirm(`Remove ${a.subjectId}? Its bill for this cycle so far is generated now.`)) return;
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}/subjects/${encodeURIComponent(a.subjectId)}`), { method: 'DELETE' }), `${a.subjectId} removed and billed.`);
        } }, 'Remove') } : null,
      ]).filter((c) => c !== null), active, { empty: 'No subjects in this plan.' }),
      canWrite ? h('div', { class: 'toolbar' },
        available.length ? h('form', { class: 'inline', onsubmit: (e) => {
          e.preventDefault();
          const subjectId = valueOf(/** @type {HTMLFormElement} */ (e.target), 'subjectId');
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}/subjects`), { method: 'POST', body: { subjectId } }), `${subjectId} added.`);
        } }, h('select', { name: 'subjectId', 'aria-label': 'Subject' }, available.map((s) => h('option', { value: s.subjectId }, `${s.label || s.subjectId}`))), h('button', { type: 'submit', class: 'secondary' }, 'Add subject'))
          : h('span', { class: 'muted' }, 'Every reported subject is already in a plan.'),
        h('span', { class: 'spacer' }),
        h('a', { href: `#/reports?planId=${pid}` }, 'Bills'),
        h('button', { type: 'button', class: 'secondary', 'data-edit-plan': plan.planId, onclick: (e) => {
          const card = /** @type {HTMLElement} */ (e.target).closest('section');
          if (card) card.replaceWith(section(`Edit ${plan.name}`, editForm(plan)));
        } }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: () => {
          if (!confirm(`Delete plan ${plan.name}? Bills for the running cycle are generated now.`)) return;
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}`), { method: 'DELETE' }), `${plan.name} deleted.`);
        } }, 'Delete plan')) : null,
    );
  }

  /**
   * The tariff fields of both forms, read and checked here so errors sit next to their field.
   * @param {HTMLFormElement} form
   * @returns {Omit<TariffView, 'effectiveFromSec'> | undefined}
   */
  function readTariff(form) {
    const currency = valueOf(form, 'currency').trim().toUpperCase();
    const out = {
      currency, baseCostMinor: parseMoneyToMinor(valueOf(form, 'baseCost'), currency), additionalCostMinor: parseMoneyToMinor(valueOf(form, 'additionalCost'), currency),
      baseSpeedBps: parseMbpsToBps(valueOf(form, 'baseSpeed')), additionalSpeedBps: parseMbpsToBps(valueOf(form, 'additionalSpeed')),
      percentileMethod: /** @type {'merge' | 'separate'} */ (valueOf(form, 'percentileMethod')),
    };
    let ok = true;
    const bad = (/** @type {string} */ name, /** @type {string} */ text) => { showFieldError(form, name, text); ok = false; };
    if (out.baseCostMinor === undefined) bad('baseCost', `an amount in ${currency} with at most the currency's decimals`);
    if (out.additionalCostMinor === undefined) bad('additionalCost', `an amount in ${currency} with at most the currency's decimals`);
    if (!out.baseSpeedBps) bad('baseSpeed', 'a positive number of Mbps');
    if (!out.additionalSpeedBps) bad('additionalSpeed', 'a positive number of Mbps');
    const { baseCostMinor, additionalCostMinor, baseSpeedBps, additionalSpeedBps } = out;
    if (!ok || baseCostMinor === undefined || additionalCostMinor === undefined || !baseSpeedBps || !additionalSpeedBps) return undefined;
    return { ...out, baseCostMinor, additionalCostMinor, baseSpeedBps, additionalSpeedBps };
  }

  /** Name, description, e-mails and tariff of an existing plan; period and generation day are fixed. */
  /** @param {BillPlanView} plan */
  function editForm(plan) {
    const tariff = plan.tariffs[plan.tariffs.length - 1];
    const exp = currencyExponent(tariff.currency) ?? 2;
    // Integer minor units as the decimal text parseMoneyToMinor reads back (no float rounding).
    const money = (/** @type {number} */ minor) => {
      const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
      return `${minor < 0 ? '-' : ''}${exp ? `${digits.slice(0, -exp)}.${digits.slice(-exp)}` : digits}`;
    };
    const mbps = (/** @type {number} */ bps) => String(bps / 1e6);
    const form = h('form', { class: 'stack', id: 'edit-plan', 'data-plan': plan.planId, onsubmit: async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const t = readTariff(form);
      if (!t) return;
      /** @type {UpdateBillPlanRequest & { name: string }} */
      const body = { name: valueOf(form, 'name').trim(), description: valueOf(form, 'description'), emails: valueOf(form, 'emails'), ...t };
      try {
        await ctx.api(ctx.opPath(`/bill-plans/${encodeURIComponent(plan.planId)}`), { method: 'PATCH', body });
        ok(`Plan ${body.name} saved.`);
        await load();
      } catch (err) {
        if (!showApiFieldError(form, err, PLAN_FIELDS)) fail(err, 'bill plans');
      }
    } },
    h('label', {}, 'Name', h('input', { name: 'name', required: true, value: plan.name })),
    h('label', {}, 'Description', h('input', { name: 'description', value: plan.description || '' })),
    h('label', {}, 'E-mail bills to (comma-separated)', h('input', { name: 'emails', value: plan.emails.join(', ') })),
    h('div', { class: 'row' },
      h('label', {}, 'Currency', h('input', { name: 'currency', value: tariff.currency, size: 4, required: true })),
      h('label', {}, 'Base speed (Mbps)', h('input', { name: 'baseSpeed', required: true, inputmode: 'decimal', size: 8, value: mbps(tariff.baseSpeedBps) })),
      h('label', {}, 'Base cost', h('input', { name: 'baseCost', required: true, inputmode: 'decimal', size: 10, value: money(tariff.baseCostMinor) }))),
    h('div', { class: 'row' },
      h('label', {}, 'Additional speed block (Mbps)', h('input', { name: 'additionalSpeed', required: true, inputmode: 'decimal', size: 8, value: mbps(tariff.additionalSpeedBps) })),
      h('label', {}, 'Cost per block', h('input', { name: 'additionalCost', required: true, inputmode: 'decimal', size: 10, value: money(tariff.additionalCostMinor) })),
      h('label', {}, '95th method', h('select', { name: 'percentileMethod' },
        h('option', { value: 'merge', selected: tariff.percentileMethod !== 'separate' }, 'In & Out merged'),
        h('option', { value: 'separate', selected: tariff.percentileMethod === 'separate' }, 'In & Out separate')))),
    h('p', { class: 'muted' }, `Cycle: ${plan.billingPeriod}, bills on day ${plan.generationDay} (fixed). A tariff change applies from the next cycle; the running cycle keeps its tariff.`),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save plan'), h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Cancel')));
    return form;
  }

  /** @param {SubjectInfoView[]} available subjects in no plan */
  function planForm(available) {
    return h('form', { class: 'stack', id: 'new-plan', onsubmit: async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      const form = /** @type {HTMLFormElement} */ (e.target);
      clearFieldErrors(form);
      const t = readTariff(form);
      if (!t) return;
      const subjects = /** @type {HTMLSelectElement} */ (form.elements.namedItem('subjectIds'));
      const body = {
        name: valueOf(form, 'name').trim(), description: valueOf(form, 'description'), billingPeriod: valueOf(form, 'billingPeriod'), generationDay: Number(valueOf(form, 'generationDay')),
        emails: valueOf(form, 'emails'), ...t, subjectIds: [...subjects.selectedOptions].map((o) => o.value),
      };
      try {
        await ctx.api(ctx.opPath('/bill-plans'), { method: 'POST', body });
        ok(`Plan ${body.name} created.`);
        await load();
      } catch (error) {
        if (!showApiFieldError(form, error, PLAN_FIELDS)) fail(error, 'bill plans');
      }
    } },
    h('label', {}, 'Name', h('input', { name: 'name', required: true })),
    h('label', {}, 'Description', h('input', { name: 'description' })),
    h('div', { class: 'row' },
      h('label', {}, 'Billing period', h('select', { name: 'billingPeriod' }, h('option', { value: 'monthly' }, 'monthly'), h('option', { value: 'quarterly' }, 'quarterly'))),
      h('label', {}, 'Generation day', h('input', { name: 'generationDay', type: 'number', min: 1, max: 31, value: '1', required: true })),
      h('label', {}, '95th method', h('select', { name: 'percentileMethod' }, h('option', { value: 'merge' }, 'In & Out merged'), h('option', { value: 'separate' }, 'In & Out separate')))),
    h('div', { class: 'row' },
      h('label', {}, 'Currency', h('input', { name: 'currency', value: 'USD', size: 4, required: true, pattern: '[A-Za-z]{3}' })),
      h('label', {}, 'Base speed (Mbps)', h('input', { name: 'baseSpeed', required: true, inputmode: 'decimal', size: 8 })),
      h('label', {}, 'Base cost', h('input', { name: 'baseCost', required: true, inputmode: 'decimal', size: 10 }))),
    h('div', { class: 'row' },
      h('label', {}, 'Additional speed block (Mbps)', h('input', { name: 'additionalSpeed', required: true, inputmode: 'decimal', size: 8 })),
      h('label', {}, 'Cost per block', h('input', { name: 'additionalCost', required: true, inputmode: 'decimal', size: 10 }))),
    h('label', {}, 'E-mail bills to (comma-separated)', h('input', { name: 'emails' })),
    h('label', {}, 'Subjects (not yet in a plan)', h('select', { name: 'subjectIds', multiple: true, size: Math.min(6, Math.max(2, available.length)) },
      available.map((s) => h('option', { value: s.subjectId }, `${s.label || s.subjectId} (${s.subjectId})`)))),
    h('div', {}, h('button', { type: 'submit' }, 'Create plan')),
    h('p', { class: 'muted' }, badge('note', 'muted'), ' Billing period and generation day cannot be changed later; price changes apply from the next cycle.'));
  }

  await load();
}
