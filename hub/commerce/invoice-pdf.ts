/**
 * Invoice and credit note PDFs (pdfmake document definitions, rendered by hub/pdf/render-pdf.ts with
 * the standard Helvetica font). Dates are spelled out with their time zone (always UTC, the zone the
 * billing periods are cut in); money is "1234.50 USD" in the currency's own decimals.
 *
 * The issued document (parties, number, dates, lines, total) is printed as issued. Payments, credits
 * and the amount due are the state when the PDF was made, and the PDF says so ("as of …").
 */
import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces';
import { formatMoney } from '../../common/money';
import { renderPdf } from '../pdf/render-pdf';
import type { CreditNote } from './credit-note';
import type { InvoiceStatus } from './invoice-balance';
import type { InvoiceView } from './invoice-view';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026-05-15" → "15 May 2026". */
export function readableDate(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** "2026-04-11" → "11 Apr 2026", for narrow table columns. */
export function shortDate(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  return `${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`;
}

/** An instant → "1 May 2026, 00:05 UTC". */
export function readableInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${readableDate(iso.slice(0, 10))}, ${iso.slice(11, 16)} UTC`;
}

const STATUS_TEXT: Record<InvoiceStatus, string> = {
  issued: 'Issued, unpaid',
  partially_paid: 'Partially paid',
  paid: 'Paid',
  void: 'Void (fully credited)',
};

const facts = (rows: [string, string][]): Content => ({
  table: { widths: [120, '*'], body: rows.map(([k, v]) => [{ text: k, bold: true }, v]) },
  layout: 'lightHorizontalLines',
  margin: [0, 0, 0, 12],
});

function parties(seller: { name: string }, buyer: { name: string; operatorId?: string }): Content {
  return {
    columns: [
      { stack: [{ text: 'From', bold: true }, seller.name] },
      { stack: [{ text: 'To', bold: true }, buyer.name, ...(buyer.operatorId ? [`Operator id: ${buyer.operatorId}`] : [])] },
    ],
    margin: [0, 0, 0, 12],
  };
}

const right = (text: string, bold = false): Content => ({ text, alignment: 'right', bold });
const heading = (text: string): Content => ({ text, bold: true, fontSize: 11, margin: [0, 8, 0, 4] });

function periodText(v: { periodStartMs: number; periodEndMs: number }): string {
  return `${readableDate(new Date(v.periodStartMs).toISOString().slice(0, 10))} – ${readableDate(new Date(v.periodEndMs - 1).toISOString().slice(0, 10))} (UTC)`;
}

/** The invoice as issued, then its payments and credits and the amount due as of `asOfMs`. */
export function invoicePdfDefinition(v: InvoiceView, asOfMs: number): TDocumentDefinitions {
  const money = (m: number) => formatMoney(m, v.currency);
  const lineRows: Content[][] = [
    ['#', 'Description', 'Period', 'Quantity', 'Unit price', 'Amount'].map((h, i) => ({ text: h, bold: true, alignment: i >= 3 ? 'right' : 'left' })),
    ...v.lines.map((l): Content[] => [
      String(l.lineNo),
      l.description,
      `${shortDate(l.fromDate)} – ${shortDate(l.toDate)}`,
      right(`${l.days} of ${l.daysInPeriod} days`),
      right(`${money(l.monthlyFeeMinor)} / month${l.percentOfFee === 100 ? '' : ` at ${l.percentOfFee}%`}`),
      right(money(l.amountMinor)),
    ]),
  ];
  const settlement: Content[][] = [[{ text: 'Total', bold: true }, right(money(v.totalMinor), true)]];
  for (const cn of v.creditNotes) settlement.push([`Credit note ${cn.number} of ${readableInstant(cn.issuedAtMs)}`, right(money(cn.totalMinor))]);
  for (const p of v.payments) {
    settlement.push([
      `${p.kind === 'payment' ? 'Payment' : 'Refund'} received ${readableDate(p.date)}, reference ${p.reference}`,
      right(money(p.kind === 'payment' ? -p.amountMinor : p.amountMinor)),
    ]);
  }
  settlement.push(v.refundDueMinor > 0
    ? [{ text: 'Refund due to you', bold: true }, right(money(v.refundDueMinor), true)]
    : [{ text: 'Amount due', bold: true }, right(money(v.amountDueMinor), true)]);
  const voidedBy = v.creditNotes.filter((c) => c.voidsInvoice).map((c) => c.number);
  return {
    info: { title: `Invoice ${v.number}`, subject: `${v.buyer.name}, ${v.periodKey}` },
    defaultStyle: { font: 'Helvetica', fontSize: 9 },
    pageMargins: [40, 40, 40, 40],
    content: [
      { text: `Invoice ${v.number}`, fontSize: 18, bold: true, margin: [0, 0, 0, 12] },
      parties(v.seller, v.buyer),
      facts([
        ['Invoice number', v.number],
        ['Issue date', readableInstant(v.issuedAtMs)],
        ['Due date', `${readableDate(v.dueDate)} (end of day, UTC)`],
        ['Billing period', periodText(v)],
        ['Currency', v.currency],
        ['Status', `${STATUS_TEXT[v.status]}${v.overdue ? ', overdue' : ''} (as of ${readableInstant(asOfMs)})`],
      ]),
      heading('Lines'),
      { table: { headerRows: 1, widths: [12, '*', 100, 56, 106, 62], body: lineRows }, layout: 'lightHorizontalLines', fontSize: 8 },
      heading(`Payments and credits (as of ${readableInstant(asOfMs)})`),
      { table: { widths: ['*', 90], body: settlement }, layout: 'lightHorizontalLines' },
      ...(voidedBy.length > 0 ? [{ text: `This invoice is void: it was fully credited (${v.creditNotes.map((c) => c.number).join(', ')}).`, bold: true, margin: [0, 8, 0, 0] } as Content] : []),
      {
        text: `Amounts in ${v.currency}. Each line is rounded half up once to the minor unit; the total is the sum of the rounded lines. `
          + 'An issued invoice is never changed: corrections are made by credit notes, which refer to it.',
        fontSize: 8, color: '#555555', margin: [0, 12, 0, 0],
      },
    ],
  };
}

/** The credit note as issued; `invoice` (its invoice, state as of asOfMs) for the reference and the balance after it. */
export function creditNotePdfDefinition(cn: CreditNote, invoice: InvoiceView, asOfMs: number): TDocumentDefinitions {
  const money = (m: number) => formatMoney(m, cn.currency);
  const lineRows: Content[][] = [
    ['#', 'Invoice line', 'Description', 'Period', 'Amount'].map((h, i) => ({ text: h, bold: true, alignment: i === 4 ? 'right' : 'left' })),
    ...cn.lines.map((l, i): Content[] => [String(i + 1), String(l.invoiceLineNo), l.description, `${shortDate(l.fromDate)} – ${shortDate(l.toDate)}`, right(money(l.amountMinor))]),
    ['', '', { text: 'Total credited', bold: true }, '', right(money(cn.totalMinor), true)],
  ];
  const seller = cn.seller ?? invoice.seller;
  const buyer = cn.buyer ?? invoice.buyer;
  return {
    info: { title: `Credit note ${cn.number}`, subject: `Credits invoice ${cn.creditsInvoice}` },
    defaultStyle: { font: 'Helvetica', fontSize: 9 },
    pageMargins: [40, 40, 40, 40],
    content: [
      { text: `Credit note ${cn.number}`, fontSize: 18, bold: true, margin: [0, 0, 0, 12] },
      parties(seller, buyer),
      facts([
        ['Credit note number', cn.number],
        ['Issue date', readableInstant(cn.issuedAtMs)],
        ['Credits invoice', `${cn.creditsInvoice} of ${readableInstant(invoice.issuedAtMs)}, billing period ${periodText(cn)}`],
        ['Reason', cn.reason],
        ['Effect', cn.voidsInvoice ? `Voids invoice ${cn.creditsInvoice}: nothing on it is left to credit` : `Partial credit of invoice ${cn.creditsInvoice}`],
        ['Currency', cn.currency],
      ]),
      heading('Lines credited'),
      { table: { headerRows: 1, widths: [14, 40, '*', 130, 80], body: lineRows }, layout: 'lightHorizontalLines' },
      heading(`Invoice ${cn.creditsInvoice} after its credit notes and payments (as of ${readableInstant(asOfMs)})`),
      facts([
        ['Invoice total', money(invoice.totalMinor)],
        ['Credited', money(-invoice.creditedMinor)],
        ['Paid', money(invoice.paidMinor - invoice.refundedMinor)],
        invoice.refundDueMinor > 0 ? ['Refund due to you', money(invoice.refundDueMinor)] : ['Amount due', money(invoice.amountDueMinor)],
        ['Status', STATUS_TEXT[invoice.status]],
      ]),
    ],
  };
}

export const renderInvoicePdf = (v: InvoiceView, asOfMs: number) => renderPdf(invoicePdfDefinition(v, asOfMs));
export const renderCreditNotePdf = (cn: CreditNote, invoice: InvoiceView, asOfMs: number) => renderPdf(creditNotePdfDefinition(cn, invoice, asOfMs));
