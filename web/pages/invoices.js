// Invoices and credit notes of the operator, newest first; a row opens its lines. Issued documents
// are never edited: super_admin corrects one with a credit note.
// API (hub/commerce/commerce-routes.ts): GET /operators/:op/invoices → {invoices:[{kind,number,periodKey,periodStartMs,
//      periodEndMs,currency,currencyExponent,lines,totalMinor,issuedAtMs,creditsInvoice?,reason?}]}
//      POST /operators/:op/invoices/:number/credit-note {reason} (super_admin) → {creditNote}
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatMoney, formatUtc, formatUtcDate } from '../format.js';
import { invoicePreview } from './account.js';

export async function render(ctx) {
  const message = h('div', { id: 'invoice-message' });
  const body = h('div', { id: 'invoices' });
  const detail = h('div', { id: 'invoice-detail' });
  ctx.el.append(h('h1', {}, 'Invoices'), message, body, detail);

  async function load() {
    let invoices;
    try {
      invoices = (await ctx.api(ctx.opPath('/invoices'))).invoices || [];
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'invoices'));
      return;
    }
    if (!ctx.isCurrent()) return;
    invoices = [...invoices].sort((a, b) => Number(b.issuedAtMs) - Number(a.issuedAtMs) || String(b.number).localeCompare(String(a.number)));
    body.replaceChildren(section(null, table([
      { label: 'Number', value: (i) => h('button', { type: 'button', class: 'linkish', onclick: () => showDetail(i) }, i.number) },
      { label: 'Kind', value: (i) => (i.kind === 'credit_note' ? badge('credit note', 'warn') : badge('invoice', 'ok')) },
      { label: 'Period', value: (i) => `${formatUtcDate(i.periodStartMs)} – ${formatUtcDate(i.periodEndMs - 1)}` },
      { label: 'Issued', value: (i) => formatUtc(i.issuedAtMs) },
      { label: 'Total', num: true, value: (i) => formatMoney(i.totalMinor, i.currency, i.currencyExponent) },
      { label: 'Note', value: (i) => (i.creditsInvoice ? `corrects ${i.creditsInvoice}${i.reason ? `: ${i.reason}` : ''}` : '') },
    ], invoices, { id: 'invoices-table', empty: 'No invoices yet: the first one is issued after the first billing period ends.' })));
  }

  function showDetail(inv) {
    const credit = ctx.principal.role === 'super_admin' && inv.kind === 'invoice'
      ? h('form', { class: 'inline', onsubmit: async (e) => {
        e.preventDefault();
        const reason = e.target.elements.reason.value;
        try {
          const res = await ctx.api(ctx.opPath(`/invoices/${encodeURIComponent(inv.number)}/credit-note`), { method: 'POST', body: { reason } });
          message.replaceChildren(h('div', { class: 'notice success' }, `Credit note ${res.creditNote ? res.creditNote.number : ''} issued.`));
          detail.replaceChildren();
          await load();
        } catch (err) {
          message.replaceChildren(errorBox(err, 'credit notes'));
        }
      } }, h('label', {}, 'Reason', h('input', { name: 'reason', required: true, size: 40 })), h('button', { type: 'submit', class: 'danger' }, 'Issue credit note'))
      : null;
    detail.replaceChildren(section(`${inv.kind === 'credit_note' ? 'Credit note' : 'Invoice'} ${inv.number}`, invoicePreview(inv), credit));
    detail.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  await load();
}
