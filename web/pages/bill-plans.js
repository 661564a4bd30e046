// 95th-percentile bill plans: create, see tariffs and subjects, add/remove subjects, delete.
// Billing period and generation day are fixed once a plan exists; price changes apply from the next cycle.
// API (hub/billing/billing-routes.ts): GET/POST /operators/:op/bill-plans; GET …/bill-plans/available-subjects;
//      POST …/bill-plans/:planId/subjects {subjectId}; DELETE …/bill-plans/:planId/subjects/:subjectId;
//      DELETE …/bill-plans/:planId (bills the running part of the cycle).
// POST body: {name, description, billingPeriod: monthly|quarterly, generationDay 1–31, emails, currency,
//      baseSpeedBps, baseCostMinor, additionalSpeedBps, additionalCostMinor, percentileMethod: merge|separate, subjectIds}
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatBps, formatMoney, formatUtcDate, parseMbpsToBps, parseMoneyToMinor } from '../format.js';

const WRITERS = ['super_admin', 'operator_admin'];

export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'plans-message' });
  const list = h('div', { id: 'plans' });
  const create = h('div');
  ctx.el.append(h('h1', {}, 'Bill plans'), message, list, create);
  const ok = (text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (err, what) => message.replaceChildren(errorBox(err, what));
  const call = async (what, fn, done) => {
    try { await fn(); ok(done); } catch (err) { fail(err, what); }
    await load();
  };

  async function load() {
    let plans, available;
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

  function planCard(plan, available) {
    const tariff = plan.tariffs[plan.tariffs.length - 1] || {};
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
      table([
        { label: 'Subject', value: (a) => h('code', {}, a.subjectId) },
        { label: 'Since', value: (a) => formatUtcDate(a.fromSec * 1000) },
        canWrite ? { label: '', value: (a) => h('button', { type: 'button', class: 'danger', onclick: () => {
          if (!confirm(`Remove ${a.subjectId}? Its bill for this cycle so far is generated now.`)) return;
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}/subjects/${encodeURIComponent(a.subjectId)}`), { method: 'DELETE' }), `${a.subjectId} removed and billed.`);
        } }, 'Remove') } : null,
      ].filter(Boolean), active, { empty: 'No subjects in this plan.' }),
      canWrite ? h('div', { class: 'toolbar' },
        available.length ? h('form', { class: 'inline', onsubmit: (e) => {
          e.preventDefault();
          const subjectId = e.target.elements.subjectId.value;
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}/subjects`), { method: 'POST', body: { subjectId } }), `${subjectId} added.`);
        } }, h('select', { name: 'subjectId', 'aria-label': 'Subject' }, available.map((s) => h('option', { value: s.subjectId }, `${s.label || s.subjectId}`))), h('button', { type: 'submit', class: 'secondary' }, 'Add subject'))
          : h('span', { class: 'muted' }, 'Every reported subject is already in a plan.'),
        h('span', { class: 'spacer' }),
        h('a', { href: `#/reports?planId=${pid}` }, 'Bills'),
        h('button', { type: 'button', class: 'danger', onclick: () => {
          if (!confirm(`Delete plan ${plan.name}? Bills for the running cycle are generated now.`)) return;
          void call('bill plans', () => ctx.api(ctx.opPath(`/bill-plans/${pid}`), { method: 'DELETE' }), `${plan.name} deleted.`);
        } }, 'Delete plan')) : null,
    );
  }

  function planForm(available) {
    const err = (text) => { message.replaceChildren(h('div', { class: 'notice error', role: 'alert' }, text)); };
    return h('form', { class: 'stack', id: 'new-plan', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      const currency = f.currency.value.trim().toUpperCase();
      const baseCostMinor = parseMoneyToMinor(f.baseCost.value, currency);
      const additionalCostMinor = parseMoneyToMinor(f.additionalCost.value, currency);
      const baseSpeedBps = parseMbpsToBps(f.baseSpeed.value);
      const additionalSpeedBps = parseMbpsToBps(f.additionalSpeed.value);
      if (baseCostMinor === undefined || additionalCostMinor === undefined) return err(`Costs: amounts in ${currency} with the currency's decimals.`);
      if (!baseSpeedBps || !additionalSpeedBps) return err('Speeds: positive numbers of Mbps.');
      const body = {
        name: f.name.value.trim(), description: f.description.value, billingPeriod: f.billingPeriod.value, generationDay: Number(f.generationDay.value),
        emails: f.emails.value, currency, baseSpeedBps, baseCostMinor, additionalSpeedBps, additionalCostMinor, percentileMethod: f.percentileMethod.value,
        subjectIds: [...f.subjectIds.selectedOptions].map((o) => o.value),
      };
      await call('bill plans', () => ctx.api(ctx.opPath('/bill-plans'), { method: 'POST', body }), `Plan ${body.name} created.`);
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
