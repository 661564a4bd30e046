/**
 * CommerceRepository: commerce state in the hub's KeyValueStore, JSON values.
 *
 * Keys:
 *   commerce/price-book                                  PriceBook (absent = DEFAULT_PRICE_BOOK)
 *   commerce/sub/<operatorId>                            Subscription
 *   commerce/snap/<operatorId>/<atMs:15>/<seq:9>         BillingSnapshot (append-only)
 *   commerce/inv/<number>                                Invoice or CreditNote (never rewritten)
 *   commerce/inv-key/<operatorId>/<YYYY-MM>              invoice number (the invoice run's idempotency key)
 *   commerce/inv-op/<operatorId>/<number>                index of an operator's documents
 *   commerce/seq/<invoice|credit_note>                   last issued number of each gapless series
 *   commerce/pay/<operatorId>/<invoice>/<no:6>           Payment or refund (never rewritten)
 *   commerce/idem/<operatorId>/<key>                     IdempotencyRecord of a payment, refund or credit note
 *   commerce/job/<name>                                  { lastRunMs } of the last completed run
 *
 * Contract: `save` writes a subscription together with its new snapshots in one atomic batch;
 * `issue` / `issueCreditNote` write a document, its indexes and the advanced sequence (and the
 * idempotency record) in one atomic batch, so a number is taken exactly when its document exists;
 * `recordPayment` writes a payment with its idempotency record. Callers
 * serialise read-modify-write through one SerialQueue (no compare-and-set in the KV port).
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { decodeAddon } from './addon-state';
import type { CreditNote } from './credit-note';
import { normaliseStoredCreditNote } from './credit-note';
import type { DocumentKind, Invoice } from './invoice';
import type { Payment } from './invoice-payment';
import type { IdempotencyRecord } from './invoice-requests';
import type { PriceBook } from './price-book';
import { DEFAULT_PRICE_BOOK } from './price-book';
import type { BillingSnapshot, SnapshotDraft, Subscription } from './subscription';

const P = 'commerce/';

/**
 * A stored subscription of any version: the add-on of a record written before its state became a
 * union by status is read by decodeAddon (and written back in the new shape on the next save).
 */
function decodeSubscription(raw: Subscription): Subscription {
  return { ...raw, addon: decodeAddon(raw.addon, raw.notices ?? []) };
}
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const idemKey = (operatorId: string, key: string) => `${P}idem/${operatorId}/${key}`;
const snapKey = (operatorId: string, atMs: number, seq: number) => `${P}snap/${operatorId}/${pad(atMs, 15)}/${pad(seq, 9)}`;

export function createCommerceRepository(kv: KeyValueStore) {
  // Where the services serialize their read-modify-writes (a gapless number, a subscription change):
  // across every hub process when the store is shared (common/critical-sections.ts).
  const sections = sectionsOf(kv);
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const put = (key: string, value: unknown): KvOp => ({ type: 'put', key, value: encodeJson(value) });
  const listDocuments = async (operatorId: string): Promise<(Invoice | CreditNote)[]> => {
    const numbers = (await collect(kv, prefixRange(`${P}inv-op/${operatorId}/`))).map(([k]) => k.slice(`${P}inv-op/${operatorId}/`.length));
    const docs = await kv.getMany(numbers.map((n) => `${P}inv/${n}`));
    return docs.filter((d): d is Uint8Array => d !== undefined).map((d) => decodeJson<Invoice | CreditNote>(d)).sort((a, b) => a.seq - b.seq);
  };

  return {
    sections,
    async getPriceBook(): Promise<PriceBook> {
      return (await getJson<PriceBook>(`${P}price-book`)) ?? structuredClone(DEFAULT_PRICE_BOOK) as PriceBook;
    },
    async savePriceBook(book: PriceBook): Promise<void> {
      await kv.write([put(`${P}price-book`, book)]);
    },

    async getSubscription(operatorId: string): Promise<Subscription | undefined> {
      const raw = await getJson<Subscription>(`${P}sub/${operatorId}`);
      return raw && decodeSubscription(raw);
    },
    async listSubscriptions(): Promise<Subscription[]> {
      return (await collect(kv, prefixRange(`${P}sub/`))).map(([, v]) => decodeSubscription(decodeJson<Subscription>(v)));
    },
    /** Save the subscription and append its new snapshots (numbered after sub.snapshotSeq) atomically. */
    async saveSubscription(sub: Subscription, drafts: SnapshotDraft[] = []): Promise<Subscription> {
      let seq = sub.snapshotSeq;
      const ops: KvOp[] = drafts.map((d) => {
        seq += 1;
        const snap: BillingSnapshot = { ...d, seq };
        return put(snapKey(sub.operatorId, d.atMs, seq), snap);
      });
      const saved = { ...sub, snapshotSeq: seq };
      ops.push(put(`${P}sub/${sub.operatorId}`, saved));
      await kv.write(ops);
      return saved;
    },
    /** Snapshots in force during [fromMs, toMs): the last one before fromMs and all inside, sorted. */
    async snapshotsFor(operatorId: string, fromMs: number, toMs: number): Promise<BillingSnapshot[]> {
      const base = `${P}snap/${operatorId}/`;
      const before = await collect(kv, { gte: base, lt: `${base}${pad(fromMs, 15)}`, reverse: true, limit: 1 });
      const inside = await collect(kv, { gte: `${base}${pad(fromMs, 15)}`, lt: `${base}${pad(toMs, 15)}` });
      return [...before, ...inside].map(([, v]) => decodeJson<BillingSnapshot>(v));
    },

    /** The invoice number issued under an idempotency key ("<operatorId>/<YYYY-MM>"). */
    numberForKey: (idempotencyKey: string) => getJson<string>(`${P}inv-key/${idempotencyKey}`),
    async getInvoice(number: string): Promise<Invoice | undefined> {
      const doc = await getJson<Invoice | CreditNote>(`${P}inv/${number}`);
      return doc?.kind === 'invoice' ? doc : undefined;
    },
    async getCreditNote(number: string): Promise<CreditNote | undefined> {
      const doc = await getJson<Invoice | CreditNote>(`${P}inv/${number}`);
      return doc?.kind === 'credit_note' ? normaliseStoredCreditNote(doc) : undefined;
    },
    /** The operator's invoices, by number. */
    async listInvoices(operatorId: string): Promise<Invoice[]> {
      return (await listDocuments(operatorId)).filter((d): d is Invoice => d.kind === 'invoice');
    },
    /** The operator's credit notes, by number. */
    async listCreditNotes(operatorId: string): Promise<CreditNote[]> {
      return (await listDocuments(operatorId)).filter((d): d is CreditNote => d.kind === 'credit_note').map(normaliseStoredCreditNote);
    },
    async lastSeq(kind: DocumentKind): Promise<number> {
      return (await getJson<number>(`${P}seq/${kind}`)) ?? 0;
    },
    /** Write an issued document with its sequence and indexes in one batch (plus extra ops, e.g. the subscription). */
    async issue(doc: Invoice, extra: KvOp[] = []): Promise<void> {
      const ops: KvOp[] = [
        put(`${P}inv/${doc.number}`, doc),
        put(`${P}inv-op/${doc.operatorId}/${doc.number}`, true),
        put(`${P}seq/${doc.kind}`, doc.seq),
        put(`${P}inv-key/${doc.idempotencyKey}`, doc.number),
        ...extra,
      ];
      await kv.write(ops);
    },
    subscriptionOp: (sub: Subscription): KvOp => put(`${P}sub/${sub.operatorId}`, sub),

    /** A credit note with its index, its series' advanced sequence and its idempotency record, in one batch. */
    async issueCreditNote(doc: CreditNote, idempotency?: { key: string; record: IdempotencyRecord }): Promise<void> {
      const ops: KvOp[] = [
        put(`${P}inv/${doc.number}`, doc),
        put(`${P}inv-op/${doc.operatorId}/${doc.number}`, true),
        put(`${P}seq/credit_note`, doc.seq),
      ];
      if (idempotency) ops.push(put(idemKey(doc.operatorId, idempotency.key), idempotency.record));
      await kv.write(ops);
    },
    /** Payments and refunds of the operator (of one invoice when given), in recording order per invoice. */
    async listPayments(operatorId: string, invoiceNumber?: string): Promise<Payment[]> {
      const prefix = `${P}pay/${operatorId}/${invoiceNumber === undefined ? '' : `${invoiceNumber}/`}`;
      return (await collect(kv, prefixRange(prefix))).map(([, v]) => decodeJson<Payment>(v));
    },
    /** A payment or refund with its idempotency record, in one batch. */
    async recordPayment(payment: Payment, idempotency?: { key: string; record: IdempotencyRecord }): Promise<void> {
      const ops: KvOp[] = [put(`${P}pay/${payment.operatorId}/${payment.invoiceNumber}/${pad(payment.no, 6)}`, payment)];
      if (idempotency) ops.push(put(idemKey(payment.operatorId, idempotency.key), idempotency.record));
      await kv.write(ops);
    },
    getIdempotency: (operatorId: string, key: string) => getJson<IdempotencyRecord>(idemKey(operatorId, key)),

    async getJobLastRun(name: string): Promise<number | undefined> {
      return (await getJson<{ lastRunMs: number }>(`${P}job/${name}`))?.lastRunMs;
    },
    async setJobLastRun(name: string, lastRunMs: number): Promise<void> {
      await kv.write([put(`${P}job/${name}`, { lastRunMs })]);
    },
  };
}

export type CommerceRepository = ReturnType<typeof createCommerceRepository>;
