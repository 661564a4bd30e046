/**
 * The invoice API under /api/v1/operators/:operatorId. Operators' users (admin and read-only) read
 * their own invoices, credit notes and PDFs; super_admin reads every operator's and is the only one who
 * records payments and refunds and issues credit notes. Another operator's document answers 404.
 *
 *   GET  invoices                        [{…invoice, status, amountDueMinor, lines[{lineNo, creditableMinor…}], payments, creditNotes}]
 *   GET  invoices/:number                one of them
 *   GET  invoices/:number/pdf
 *   POST invoices/:number/payments       {amountMinor, reference, date?}     super_admin; Idempotency-Key
 *   POST invoices/:number/refunds        {amountMinor, reference, date?}     super_admin; Idempotency-Key
 *   POST invoices/:number/credit-notes   {reason, full: true} | {reason, lines: [{lineNo, amountMinor}]}
 *   GET  credit-notes, credit-notes/:number, credit-notes/:number/pdf
 *
 * Writes answer 201 with the new record and the invoice after it; a replay of an Idempotency-Key
 * (header, or an idempotencyKey field) answers 200 with the first result and `Idempotent-Replayed: true`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { CreditNoteResponse, CreditNotesResponse, InvoiceResponse, InvoicesResponse, IssueCreditNoteResponse, PaymentResponse, RefundResponse } from '../../common/api/invoices';
import { assertOperatorAccess, OPERATOR_READERS, requireRole } from '../http/principal';
import { readBody } from '../http/request-body';
import type { InvoiceService, WriteRequest } from './invoice-service';

function writeRequest(ctx: Context): WriteRequest {
  return { body: readBody(ctx), idempotencyKeyHeader: ctx.get('idempotency-key') || undefined };
}

function created(ctx: Context, replayed: boolean, body: unknown): void {
  ctx.status = replayed ? 200 : 201;
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
  ctx.body = body;
}

function sendPdf(ctx: Context, doc: { filename: string; pdf: Uint8Array }): void {
  ctx.type = 'application/pdf';
  ctx.attachment(doc.filename);
  ctx.body = Buffer.from(doc.pdf);
}

export function createInvoiceRoutes(deps: { invoices: InvoiceService }): Router {
  const { invoices } = deps;
  const router = new Router({ prefix: '/api/v1/operators/:operatorId' });
  const read = (ctx: Context) => assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_READERS);
  const superAdmin = requireRole('super_admin');

  router.get('/invoices', async (ctx) => {
    read(ctx);
    ctx.body = { invoices: await invoices.listInvoices(ctx.params.operatorId) } satisfies InvoicesResponse;
  });
  router.get('/invoices/:number', async (ctx) => {
    read(ctx);
    ctx.body = { invoice: await invoices.getInvoice(ctx.params.operatorId, ctx.params.number) } satisfies InvoiceResponse;
  });
  router.get('/invoices/:number/pdf', async (ctx) => {
    read(ctx);
    sendPdf(ctx, await invoices.invoicePdf(ctx.params.operatorId, ctx.params.number));
  });

  router.post('/invoices/:number/payments', superAdmin, async (ctx) => {
    const { payment, replayed, invoice } = await invoices.recordPayment(ctx.params.operatorId, ctx.params.number, writeRequest(ctx));
    created(ctx, replayed, { payment, invoice } satisfies PaymentResponse);
  });
  router.post('/invoices/:number/refunds', superAdmin, async (ctx) => {
    const { payment, replayed, invoice } = await invoices.recordRefund(ctx.params.operatorId, ctx.params.number, writeRequest(ctx));
    created(ctx, replayed, { refund: payment, invoice } satisfies RefundResponse);
  });
  router.post('/invoices/:number/credit-notes', superAdmin, async (ctx) => {
    const { creditNote, replayed, invoice } = await invoices.issueCreditNote(ctx.params.operatorId, ctx.params.number, writeRequest(ctx));
    created(ctx, replayed, { creditNote, invoice } satisfies IssueCreditNoteResponse);
  });

  router.get('/credit-notes', async (ctx) => {
    read(ctx);
    ctx.body = { creditNotes: await invoices.listCreditNotes(ctx.params.operatorId) } satisfies CreditNotesResponse;
  });
  router.get('/credit-notes/:number', async (ctx) => {
    read(ctx);
    ctx.body = { creditNote: await invoices.getCreditNote(ctx.params.operatorId, ctx.params.number) } satisfies CreditNoteResponse;
  });
  router.get('/credit-notes/:number/pdf', async (ctx) => {
    read(ctx);
    sendPdf(ctx, await invoices.creditNotePdf(ctx.params.operatorId, ctx.params.number));
  });

  return router;
}
