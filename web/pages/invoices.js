// @ts-check
// Invoices of the operator, newest first, with their state (status, amount due), PDFs, and the credit
// notes that corrected them; a row opens its lines, payments and credits. Issued documents are never
// edited: super_admin records payments and corrects an invoice with credit notes (partial or full).
// API (hub/commerce/invoice-routes.ts):
//   GET  /operators/:op/invoices → {invoices:[{number,periodKey,periodStartMs,periodEndMs,currency,currencyExponent,
//        issuedAtMs,dueDate,totalMinor,status,overdue,amountDueMinor,refundDueMinor,creditedMinor,paidMinor,
//        lines:[{lineNo,description,amountMinor,creditedMinor,creditableMinor,…}],payments:[…],creditNotes:[…]}]}
//   GET  /operators/:op/invoices/:number/pdf, /operators/:op/credit-notes/:number/pdf (downloads)
//   POST /operators/:op/invoices/:number/payments {amountMinor, reference, date?, idempotencyKey} (super_admin)
//   POST /operators/:op/invoices/:number/credit-notes {reason, full: true} | {reason, lines:[{lineNo, amountMinor}]}, idempotencyKey (super_admin)
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatMoney, formatUtc, formatUtcDate, parseMoneyToMinor } from '../format.js';
import { invoicePreview } from './account.js';

/** @typedef {import('../../common/api/invoices').InvoiceView} InvoiceView */
/** @typedef {import('../../common/api/invoices').InvoicesResponse} InvoicesResponse */
/** @typedef {import('../../common/api/invoices').PaymentResponse} PaymentResponse */
/** @typedef {import('../../common/api/invoices').PaymentRequest} PaymentRequest */
/** @typedef {import('../../common/api/invoices').IssueCreditNoteResponse} IssueCreditNoteResponse */
/** @typedef {import('../../common/api/invoices').CreditNoteRequest} CreditNoteRequest */
/** @typedef {import('../../common/api/invoices').PaymentView} PaymentView */
/** @typedef {import('../../common/api/invoices').InvoiceLineView} InvoiceLineView */
/** @typedef {import('../../common/api/invoices').CreditNoteSummaryView} CreditNoteSummaryView */

/** @type {Record<string, [string, 'ok' | 'warn' | 'bad' | 'muted']>} */
const STATUS = {
  issued: ['unpaid', 'warn'],
  partially_paid: ['partially paid', 'warn'],
  paid: ['paid', 'ok'],
  void: ['void', 'muted'],
};

/** @param {InvoiceView} inv */
function statusBadge(inv) {
  const [text, kind] = STATUS[inv.status] || [inv.status || 'issued', 'muted'];
  return h('span', {}, badge(text, kind), inv.overdue ? badge('overdue', 'bad') : null);
}

/** A fresh key per form shown: a double submit or a retried request records once. (getRandomValues:
 * randomUUID needs a secure context, and a hub may be reached over plain HTTP on a LAN.) */
function newIdempotencyKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const message = h('div', { id: 'invoice-message' });
  const body = h('div', { id: 'invoices' });
  const credits = h('div', { id: 'credit-notes' });
  const detail = h('div', { id: 'invoice-detail' });
  ctx.el.append(h('h1', {}, 'Invoices'), message, body, credits, detail);
  const isSuperAdmin = ctx.principal.role === 'super_admin';
  const money = (/** @type {number} */ m, /** @type {{ currency: string, currencyExponent: number }} */ inv) => formatMoney(m, inv.currency, inv.currencyExponent);
  const pdfLink = (/** @type {'invoices' | 'credit-notes'} */ kind, /** @type {string} */ number) => h('a', { href: `/api/v1${ctx.opPath(`/${kind}/${encodeURIComponent(number)}/pdf`)}`, target: '_blank', rel: 'noopener', class: 'pdf-link' }, 'PDF');

  /** @param {string} [openNumber] reopen this invoice's detail after the reload */
  async function load(openNumber) {
    /** @type {InvoiceView[]} */
    let invoices;
    try {
      invoices = (/** @type {InvoicesResponse} */ (await ctx.api(ctx.opPath('/invoices')))).invoices || [];
    } catch (err) {
      if (ctx.isCurrent()) body.replaceChildren(errorBox(err, 'invoices'));
      return;
    }
    if (!ctx.isCurrent()) return;
    invoices = [...invoices].sort((a, b) => Number(b.issuedAtMs) - Number(a.issuedAtMs) || String(b.number).localeCompare(String(a.number)));
    body.replaceChildren(section(null, table([
      { label: 'Number', value: (i) => h('button', { type: 'button', class: 'linkish', onclick: () => showDetail(i) }, i.number) },
      { label: 'Period', value: (i) => `${formatUtcDate(i.periodStartMs)} – ${formatUtcDate(i.periodEndMs - 1)}` },
      { label: 'Issued', value: (i) => formatUtc(i.issuedAtMs) },
      { label: 'Due', value: (i) => i.dueDate || '' },
      { label: 'Total', num: true, value: (i) => money(i.totalMinor, i) },
      { label: 'Status', value: (i) => statusBadge(i) },
      { label: 'Amount due', num: true, value: (i) => (i.refundDueMinor > 0 ? `refund due ${money(i.refundDueMinor, i)}` : i.amountDueMinor === undefined ? '' : money(i.amountDueMinor, i)) },
      { label: 'PDF', value: (i) => pdfLink('invoices', i.number) },
    ], invoices, { id: 'invoices-table', rowAttrs: (i) => ({ 'data-invoice': i.number }), empty: 'No invoices yet: the first one is issued after the first billing period ends.' })));

    // Credit notes, from the invoices they correct (each invoice lists its own).
    const notes = invoices.flatMap((i) => (i.creditNotes || []).map((c) => ({ ...c, invoice: i })))
      .sort((a, b) => Number(b.issuedAtMs) - Number(a.issuedAtMs));
    credits.replaceChildren(notes.length === 0 ? '' : section('Credit notes', table([
      { label: 'Number', value: (c) => c.number },
      { label: 'Credits invoice', value: (c) => c.invoice.number },
      { label: 'Issued', value: (c) => formatUtc(c.issuedAtMs) },
      { label: 'Amount', num: true, value: (c) => money(c.totalMinor, c.invoice) },
      { label: 'Effect', value: (c) => (c.voidsInvoice ? 'voids the invoice' : 'partial credit') },
      { label: 'Reason', value: (c) => c.reason },
      { label: 'PDF', value: (c) => pdfLink('credit-notes', c.number) },
    ], notes, { id: 'credit-notes-table' })));

    const open = openNumber && invoices.find((i) => i.number === openNumber);
    if (open) showDetail(open);
  }

  /**
   * Run a write, show its outcome, reload and reopen the invoice.
   * @template R
   * @param {InvoiceView} inv
   * @param {string} what
   * @param {() => Promise<R>} request
   * @param {(res: R) => string} success
   */
  async function write(inv, what, request, success) {
    try {
      const res = await request();
      await load(inv.number);
      // After the reload, so the page shows the new state when the message appears.
      message.replaceChildren(h('div', { class: 'notice success' }, success(res)));
    } catch (err) {
      message.replaceChildren(errorBox(err, what));
    }
  }

  /** @param {InvoiceView} inv */
  function paymentForm(inv) {
    const key = newIdempotencyKey();
    return h('form', { class: 'inline', id: 'payment-form', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      const amountMinor = parseMoneyToMinor(f.amount.value, inv.currency, inv.currencyExponent);
      if (!amountMinor) return message.replaceChildren(h('div', { class: 'notice error' }, `Amount: a positive amount in ${inv.currency} with its decimals.`));
      /** @type {PaymentRequest} */
      const payload = { amountMinor, reference: f.reference.value, idempotencyKey: key, ...(f.date.value ? { date: f.date.value } : {}) };
      await write(inv, 'payments', () => /** @type {Promise<PaymentResponse>} */ (ctx.api(ctx.opPath(`/invoices/${encodeURIComponent(inv.number)}/payments`), { method: 'POST', body: payload })),
        (res) => `Payment recorded on ${inv.number}; amount due ${money(res.invoice.amountDueMinor, inv)}.`);
    } },
    h('label', {}, `Amount (${inv.currency})`, h('input', { name: 'amount', required: true, size: 10, inputmode: 'decimal', value: '' })),
    h('label', {}, 'Received on (UTC)', h('input', { name: 'date', type: 'date' })),
    h('label', {}, 'Reference', h('input', { name: 'reference', required: true, size: 24, maxlength: 200 })),
    h('button', { type: 'submit' }, 'Record payment'));
  }

  /** @param {InvoiceView} inv */
  function creditForm(inv) {
    const key = newIdempotencyKey();
    const creditable = (inv.lines || []).filter((l) => l.creditableMinor > 0);
    return h('form', { class: 'stack', id: 'credit-form', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      /** @type {CreditNoteRequest} */
      let payload;
      if (f.full.checked) payload = { reason: f.reason.value, full: true };
      else {
        /** @type {{ lineNo: number, amountMinor: number }[]} */
        const lines = [];
        for (const l of creditable) {
          const text = f[`line-${l.lineNo}`].value.trim();
          if (text === '') continue;
          const amountMinor = parseMoneyToMinor(text, inv.currency, inv.currencyExponent);
          if (!amountMinor) return message.replaceChildren(h('div', { class: 'notice error' }, `Line ${l.lineNo}: a positive amount in ${inv.currency} with its decimals.`));
          lines.push({ lineNo: l.lineNo, amountMinor });
        }
        if (lines.length === 0) return message.replaceChildren(h('div', { class: 'notice error' }, 'Give an amount for at least one line, or credit everything left.'));
        payload = { reason: f.reason.value, lines };
      }
      await write(inv, 'credit notes', () => /** @type {Promise<IssueCreditNoteResponse>} */ (ctx.api(ctx.opPath(`/invoices/${encodeURIComponent(inv.number)}/credit-notes`), { method: 'POST', body: { ...payload, idempotencyKey: key } })),
        (res) => `Credit note ${res.creditNote.number} issued${res.creditNote.voidsInvoice ? `: ${inv.number} is void` : ''}.`);
    } },
    h('label', {}, 'Reason', h('input', { name: 'reason', required: true, size: 40, maxlength: 500 })),
    creditable.map((l) => h('label', {}, `Line ${l.lineNo}: ${l.description} (up to ${money(l.creditableMinor, inv)})`,
      h('input', { name: `line-${l.lineNo}`, size: 10, inputmode: 'decimal', placeholder: `0 ${inv.currency}` }))),
    h('label', { class: 'row' }, h('input', { name: 'full', type: 'checkbox' }), 'Credit everything left (voids the invoice)'),
    h('button', { type: 'submit', class: 'danger' }, 'Issue credit note'));
  }

  /** @param {InvoiceView} inv */
  function showDetail(inv) {
    const facts = table([
      { label: 'Status', value: () => statusBadge(inv) },
      { label: 'Due', value: () => inv.dueDate || '' },
      { label: 'Total', num: true, value: () => money(inv.totalMinor, inv) },
      { label: 'Credited', num: true, value: () => (inv.creditedMinor === undefined ? '' : money(inv.creditedMinor, inv)) },
      { label: 'Paid', num: true, value: () => (inv.paidMinor === undefined ? '' : money(inv.paidMinor - (inv.refundedMinor || 0), inv)) },
      { label: inv.refundDueMinor > 0 ? 'Refund due' : 'Amount due', num: true, value: () => (inv.refundDueMinor > 0 ? money(inv.refundDueMinor, inv) : inv.amountDueMinor === undefined ? '' : money(inv.amountDueMinor, inv)) },
    ], [inv], { id: 'invoice-state' });
    const payments = (inv.payments || []).length === 0 ? null : table([
      { label: '#', num: true, value: (p) => String(p.no) },
      { label: 'Kind', value: (p) => p.kind },
      { label: 'Date (UTC)', value: (p) => p.date },
      { label: 'Reference', value: (p) => p.reference },
      { label: 'Amount', num: true, value: (p) => money(p.amountMinor, inv) },
    ], inv.payments, { id: 'invoice-payments' });
    const writable = isSuperAdmin && inv.status && inv.status !== 'void';
    detail.replaceChildren(section(`Invoice ${inv.number}`,
      facts,
      invoicePreview(inv),
      payments ? h('h3', {}, 'Payments and refunds') : null, payments,
      writable && inv.amountDueMinor > 0 ? [h('h3', {}, 'Record a payment'), paymentForm(inv)] : null,
      writable ? [h('h3', {}, 'Credit note'), creditForm(inv)] : null));
    detail.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  await load();
}
