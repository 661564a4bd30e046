/**
 * CommerceRepository: commerce state in the hub's KeyValueStore, JSON values.
 *
 * Keys:
 *   commerce/price-book                                  PriceBook (absent = DEFAULT_PRICE_BOOK)
 *   commerce/sub/<operatorId>                            Subscription
 *   commerce/snap/<operatorId>/<atMs:15>/<seq:9>         BillingSnapshot (append-only)
 *   commerce/inv/<number>                                Invoice or credit note (never rewritten)
 *   commerce/inv-key/<operatorId>/<YYYY-MM | credit-<n>> document number (the idempotency key)
 *   commerce/inv-op/<operatorId>/<number>                index of an operator's documents
 *   commerce/seq/<invoice|credit_note>                   last issued sequence number
 *   commerce/job/<name>                                  { lastRunMs } of the last completed run
 *
 * Contract: `save` writes a subscription together with its new snapshots in one atomic batch;
 * `issue` writes a document, its indexes and the advanced sequence in one atomic batch. Callers
 * serialise read-modify-write through one SerialQueue (no compare-and-set in the KV port).
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import type { Invoice } from './invoice';
import type { PriceBook } from './price-book';
import { DEFAULT_PRICE_BOOK } from './price-book';
import type { BillingSnapshot, SnapshotDraft, Subscription } from './subscription';

const P = 'commerce/';
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const snapKey = (operatorId: string, atMs: number, seq: number) => `${P}snap/${operatorId}/${pad(atMs, 15)}/${pad(seq, 9)}`;

export function createCommerceRepository(kv: KeyValueStore) {
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const put = (key: string, value: unknown): KvOp => ({ type: 'put', key, value: encodeJson(value) });

  return {
    async getPriceBook(): Promise<PriceBook> {
      return (await getJson<PriceBook>(`${P}price-book`)) ?? structuredClone(DEFAULT_PRICE_BOOK) as PriceBook;
    },
    async savePriceBook(book: PriceBook): Promise<void> {
      await kv.write([put(`${P}price-book`, book)]);
    },

    getSubscription: (operatorId: string) => getJson<Subscription>(`${P}sub/${operatorId}`),
    async listSubscriptions(): Promise<Subscription[]> {
      return (await collect(kv, prefixRange(`${P}sub/`))).map(([, v]) => decodeJson<Subscription>(v));
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

    /** The number issued under an idempotency key ("<operatorId>/<YYYY-MM>" or "<operatorId>/credit-<number>"). */
    numberForKey: (idempotencyKey: string) => getJson<string>(`${P}inv-key/${idempotencyKey}`),
    getInvoice: (number: string) => getJson<Invoice>(`${P}inv/${number}`),
    async listInvoices(operatorId: string): Promise<Invoice[]> {
      const numbers = (await collect(kv, prefixRange(`${P}inv-op/${operatorId}/`))).map(([k]) => k.slice(`${P}inv-op/${operatorId}/`.length));
      const docs = await kv.getMany(numbers.map((n) => `${P}inv/${n}`));
      return docs.filter((d): d is Uint8Array => d !== undefined).map((d) => decodeJson<Invoice>(d)).sort((a, b) => a.kind.localeCompare(b.kind) || a.seq - b.seq);
    },
    async lastSeq(kind: Invoice['kind']): Promise<number> {
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

    async getJobLastRun(name: string): Promise<number | undefined> {
      return (await getJson<{ lastRunMs: number }>(`${P}job/${name}`))?.lastRunMs;
    },
    async setJobLastRun(name: string, lastRunMs: number): Promise<void> {
      await kv.write([put(`${P}job/${name}`, { lastRunMs })]);
    },
  };
}

export type CommerceRepository = ReturnType<typeof createCommerceRepository>;
