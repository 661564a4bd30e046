/**
 * The invoice lifecycle's use cases: read invoices and credit notes with their derived state, record
 * payments and refunds, issue credit notes, make the PDFs. The invoices themselves are issued by the
 * commerce service's monthly job.
 *
 * Writes run one at a time through one SerialQueue (the KV store has atomic batches but no
 * compare-and-set): a credit note's number is the last one + 1, written in the same batch as the
 * document, so concurrent requests get distinct numbers with no gap. This queue is the only writer of
 * the credit-note series, payments and idempotency records; the invoice job writes none of them, and an
 * issued invoice it writes is never rewritten, so the two queues cannot race.
 */
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { hubError } from '../errors';
import { utcDate } from './invoice-period';
import type { CommerceRepository } from './commerce-repository';
import type { CreditNote } from './credit-note';
import type { Invoice } from './invoice';
import { formatInvoiceNumber } from './invoice';
import { planCreditNote, planPayment, planRefund } from './invoice-lifecycle';
import type { Payment } from './invoice-payment';
import { renderCreditNotePdf, renderInvoicePdf } from './invoice-pdf';
import type { IdempotencyRecord } from './invoice-requests';
import { idempotencyKeyOf, parseCreditNoteRequest, parseMoneyMovement, requestFingerprint } from './invoice-requests';
import type { InvoiceTerms } from './invoice-terms';
import { dueDateFor, issuedTerms } from './invoice-terms';
import type { InvoiceView } from './invoice-view';
import { invoiceView } from './invoice-view';

export interface InvoiceServiceDeps {
  repo: CommerceRepository;
  clock: Clock;
  log: Logger;
  terms: InvoiceTerms;
  /** The operator's current name (undefined: unknown, the id stands in). */
  operatorName(operatorId: string): Promise<string | undefined>;
}

/** An untrusted write: the parsed JSON body and the Idempotency-Key header, if any. */
export interface WriteRequest {
  body: Record<string, unknown>;
  idempotencyKeyHeader?: string;
}

export function createInvoiceService(deps: InvoiceServiceDeps) {
  const { repo, clock, log, terms } = deps;
  const queue = repo.sections.section('invoices');

  async function viewContext(operatorId: string, invoice: Invoice) {
    const buyerName = invoice.buyer ? undefined : await deps.operatorName(operatorId);
    const fallback = issuedTerms(terms, operatorId, buyerName, invoice.issuedAtMs);
    return { todayUtc: utcDate(clock.nowMs()), fallbackDueDate: dueDateFor(invoice.issuedAtMs, terms.paymentTermsDays), fallbackSeller: fallback.seller, fallbackBuyer: fallback.buyer };
  }

  async function loadInvoice(operatorId: string, number: string): Promise<Invoice> {
    const invoice = await repo.getInvoice(number);
    // Another operator's invoice answers like a missing one, so numbers cannot be probed.
    if (!invoice || invoice.operatorId !== operatorId) throw hubError('NOT_FOUND', `no invoice ${number}`);
    return invoice;
  }

  async function viewOf(invoice: Invoice, creditNotes?: CreditNote[], payments?: Payment[]): Promise<InvoiceView> {
    const cns = creditNotes ?? await repo.listCreditNotes(invoice.operatorId);
    const pays = payments ?? await repo.listPayments(invoice.operatorId, invoice.number);
    return invoiceView(invoice, cns, pays, await viewContext(invoice.operatorId, invoice));
  }

  /** Idempotent write: a known key replays its first result; a new key (or none) applies `write` once. */
  async function idempotent<T>(operatorId: string, key: string | undefined, fingerprint: string | undefined,
    replay: (record: IdempotencyRecord) => Promise<T>,
    write: (idempotency: { key: string; record: Omit<IdempotencyRecord, 'result'> } | undefined) => Promise<T>): Promise<{ result: T; replayed: boolean }> {
    if (key !== undefined && fingerprint !== undefined) {
      const record = await repo.getIdempotency(operatorId, key);
      if (record) {
        if (record.fingerprint !== fingerprint) {
          throw hubError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different request; use a new key for a new request`);
        }
        return { result: await replay(record), replayed: true };
      }
      return { result: await write({ key, record: { fingerprint, atMs: clock.nowMs() } }), replayed: false };
    }
    return { result: await write(undefined), replayed: false };
  }

  async function moneyMovement(kind: Payment['kind'], operatorId: string, number: string, req: WriteRequest) {
    const movement = parseMoneyMovement(req.body);
    const key = idempotencyKeyOf(req.idempotencyKeyHeader, req.body.idempotencyKey);
    const fingerprint = key === undefined ? undefined : requestFingerprint(kind, number, movement);
    return queue.run(async () => {
      const invoice = await loadInvoice(operatorId, number);
      const creditNotes = await repo.listCreditNotes(operatorId);
      const payments = await repo.listPayments(operatorId, number);
      const { result: payment, replayed } = await idempotent(operatorId, key, fingerprint,
        async (record) => {
          const found = record.result.kind !== 'credit_note' ? payments.find((p) => p.no === (record.result as { no: number }).no) : undefined;
          if (!found) throw hubError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different request`);
          return found;
        },
        async (idem) => {
          const before = await viewOf(invoice, creditNotes, payments);
          const nowMs = clock.nowMs();
          const plan = kind === 'payment' ? planPayment : planRefund;
          const draft = plan(invoice, before, movement, utcDate(nowMs));
          const p: Payment = { ...draft, no: payments.length + 1, recordedAtMs: nowMs, ...(idem ? { idempotencyKey: idem.key } : {}) };
          await repo.recordPayment(p, idem && { key: idem.key, record: { ...idem.record, result: { kind, invoiceNumber: number, no: p.no } } });
          log.info({ operatorId, invoice: number, kind, no: p.no, amountMinor: p.amountMinor }, `commerce: ${kind} recorded`);
          payments.push(p);
          return p;
        });
      return { payment, replayed, invoice: await viewOf(invoice, creditNotes, payments) };
    });
  }

  return {
    /** The operator's invoices, by number, each with its derived state. */
    async listInvoices(operatorId: string): Promise<InvoiceView[]> {
      const [invoices, creditNotes, payments] = await Promise.all([repo.listInvoices(operatorId), repo.listCreditNotes(operatorId), repo.listPayments(operatorId)]);
      return Promise.all(invoices.map((inv) => viewOf(inv, creditNotes, payments)));
    },
    async getInvoice(operatorId: string, number: string): Promise<InvoiceView> {
      return viewOf(await loadInvoice(operatorId, number));
    },
    recordPayment: (operatorId: string, number: string, req: WriteRequest) => moneyMovement('payment', operatorId, number, req),
    recordRefund: (operatorId: string, number: string, req: WriteRequest) => moneyMovement('refund', operatorId, number, req),

    /** A credit note of lines/amounts of the invoice, or of everything left (full: voids it). */
    async issueCreditNote(operatorId: string, number: string, req: WriteRequest): Promise<{ creditNote: CreditNote; replayed: boolean; invoice: InvoiceView }> {
      const request = parseCreditNoteRequest(req.body);
      const key = idempotencyKeyOf(req.idempotencyKeyHeader, req.body.idempotencyKey);
      const fingerprint = key === undefined ? undefined : requestFingerprint('credit_note', number, request);
      return queue.run(async () => {
        const invoice = await loadInvoice(operatorId, number);
        const creditNotes = await repo.listCreditNotes(operatorId);
        const payments = await repo.listPayments(operatorId, number);
        const { result: creditNote, replayed } = await idempotent(operatorId, key, fingerprint,
          async (record) => {
            const found = record.result.kind === 'credit_note' ? creditNotes.find((c) => c.number === (record.result as { number: string }).number) : undefined;
            if (!found) throw hubError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different request`);
            return found;
          },
          async (idem) => {
            const before = await viewOf(invoice, creditNotes, payments);
            const draft = planCreditNote(invoice, before, request);
            const nowMs = clock.nowMs();
            const seq = (await repo.lastSeq('credit_note')) + 1;
            const { seller, buyer } = issuedTerms(terms, operatorId, await deps.operatorName(operatorId), nowMs);
            const cn: CreditNote = {
              ...draft, kind: 'credit_note', number: formatInvoiceNumber('credit_note', seq), seq, issuedAtMs: nowMs, seller, buyer,
              ...(idem ? { idempotencyKey: idem.key } : {}),
            };
            // The number, the document and the idempotency record land in one atomic batch.
            await repo.issueCreditNote(cn, idem && { key: idem.key, record: { ...idem.record, result: { kind: 'credit_note', number: cn.number } } });
            log.info({ operatorId, invoice: number, number: cn.number, totalMinor: cn.totalMinor, voidsInvoice: cn.voidsInvoice }, 'commerce: credit note issued');
            creditNotes.push(cn);
            return cn;
          });
        return { creditNote, replayed, invoice: await viewOf(invoice, creditNotes, payments) };
      });
    },

    /** The operator's credit notes, by number. */
    listCreditNotes: (operatorId: string) => repo.listCreditNotes(operatorId),
    async getCreditNote(operatorId: string, number: string): Promise<CreditNote> {
      const cn = await repo.getCreditNote(number);
      if (!cn || cn.operatorId !== operatorId) throw hubError('NOT_FOUND', `no credit note ${number}`);
      return cn;
    },

    async invoicePdf(operatorId: string, number: string): Promise<{ filename: string; pdf: Uint8Array }> {
      const view = viewOf(await loadInvoice(operatorId, number));
      return { filename: `invoice-${number}.pdf`, pdf: await renderInvoicePdf(await view, clock.nowMs()) };
    },
    async creditNotePdf(operatorId: string, number: string): Promise<{ filename: string; pdf: Uint8Array }> {
      const cn = await repo.getCreditNote(number);
      if (!cn || cn.operatorId !== operatorId) throw hubError('NOT_FOUND', `no credit note ${number}`);
      const invoice = await viewOf(await loadInvoice(operatorId, cn.creditsInvoice));
      return { filename: `credit-note-${number}.pdf`, pdf: await renderCreditNotePdf(cn, invoice, clock.nowMs()) };
    },
  };
}

export type InvoiceService = ReturnType<typeof createInvoiceService>;
