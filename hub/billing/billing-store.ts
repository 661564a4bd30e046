import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf, type CriticalSections } from '../../common/critical-sections';
import { prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import type { Bill, BillSamples } from './bill';
import type { BillPlan } from './bill-plan';
import { decodeSamples, encodeSamples } from './sample-codec';
import type { BillRunCheck, BillRunCounts, BillRunHead, BillRunStore } from './bill-run-record';

/**
 * BillingStore: plans, the subject → plan index, bills with their samples, bill numbers, mails still
 * to send, and the job's last run, over the KV port. Every change that must hold together (a plan and
 * its subject index; a bill, its number, its idempotency key and its pending mail) is one atomic write.
 *
 * Keys (all under "billing/"):
 *   plan/<op>/<planId>                       plan JSON
 *   subject/<op>/<subjectId>                 planId that holds the subject now (exclusivity)
 *   seq/<op>                                 last bill number issued
 *   bill/<op>/<billNo:10>                    bill JSON
 *   samples/<op>/<billNo:10>                 the bill's 5-minute samples (sample-codec.ts)
 *   bill-key/<op>/<planId>/<spanStartSec>/<subjectId>   billNo: one bill per plan, subject and span
 *   by-subject/<op>/<subjectId>/<billNo:10>  index for "all bills of this subject"
 *   mail-pending/<op>/<billNo:10>            report not yet handed to the Mailer
 *   job/last-run                             {lastRunMs}
 *   run-head/<runAtMs:15>                    a bill run with work: instant, start, end, hub, mails (bill-run-record.ts)
 *   run-op/<runAtMs:15>/<op>                 the operator's counts in that run
 *   run-of/<op>                              runAtMs of the operator's last run with work
 *   run-check                                the last run that finished, with work or not
 */
export interface BillingStore extends BillRunStore {
  /** Where billing serializes its read-modify-writes: across hub processes on a shared store (common/critical-sections.ts). */
  readonly sections: CriticalSections;
  getPlan(operatorId: string, planId: string): Promise<BillPlan | undefined>;
  listPlans(operatorId: string): Promise<BillPlan[]>;
  listAllPlans(): Promise<BillPlan[]>;
  planOfSubject(operatorId: string, subjectId: string): Promise<string | undefined>;
  /** Subject ids held by any plan of the operator. */
  heldSubjects(operatorId: string): Promise<Set<string>>;
  /** Writes the plan and moves the subject index: `claim` subjects now point at it, `release` no longer do. */
  savePlan(plan: BillPlan, change?: { claim?: string[]; release?: string[] }): Promise<void>;

  billNoForKey(operatorId: string, planId: string, spanStartSec: number, subjectId: string): Promise<number | undefined>;
  lastBillNo(operatorId: string): Promise<number>;
  /** Stores a bill (its billNo must be lastBillNo+1) with its samples, key, index and pending mail. */
  saveBill(bill: Bill, samples: BillSamples, mail: boolean): Promise<void>;
  getBill(operatorId: string, billNo: number): Promise<Bill | undefined>;
  getSamples(operatorId: string, billNo: number): Promise<BillSamples | undefined>;
  /** Most recent first. */
  listBills(operatorId: string, filter?: { planId?: string; limit?: number }): Promise<Bill[]>;
  listBillsOfSubject(operatorId: string, subjectId: string): Promise<Bill[]>;
  pendingMails(): Promise<{ operatorId: string; billNo: number }[]>;
  clearPendingMail(operatorId: string, billNo: number): Promise<void>;
  getLastRunMs(): Promise<number | undefined>;
  setLastRunMs(ms: number): Promise<void>;
}

const P = 'billing/';
const pad = (n: number) => String(n).padStart(10, '0');
const padMs = (ms: number) => String(ms).padStart(15, '0');

export function createBillingStore(kv: KeyValueStore): BillingStore {
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const listJson = async <T>(prefix: string, extra: { reverse?: boolean; limit?: number } = {}): Promise<T[]> => {
    const out: T[] = [];
    for await (const [, v] of kv.entries(prefixRange(prefix, extra))) out.push(decodeJson<T>(v));
    return out;
  };
  const put = (key: string, value: unknown): KvOp => ({ type: 'put', key, value: encodeJson(value) });

  return {
    sections: sectionsOf(kv),
    getPlan: (op, planId) => getJson<BillPlan>(`${P}plan/${op}/${planId}`),
    listPlans: (op) => listJson<BillPlan>(`${P}plan/${op}/`),
    listAllPlans: () => listJson<BillPlan>(`${P}plan/`),
    planOfSubject: (op, subjectId) => getJson<string>(`${P}subject/${op}/${subjectId}`),
    async heldSubjects(op) {
      const prefix = `${P}subject/${op}/`;
      const out = new Set<string>();
      for await (const [k] of kv.entries(prefixRange(prefix))) out.add(k.slice(prefix.length));
      return out;
    },
    async savePlan(plan, change = {}) {
      const ops: KvOp[] = [put(`${P}plan/${plan.operatorId}/${plan.planId}`, plan)];
      for (const s of change.release ?? []) ops.push({ type: 'del', key: `${P}subject/${plan.operatorId}/${s}` });
      for (const s of change.claim ?? []) ops.push(put(`${P}subject/${plan.operatorId}/${s}`, plan.planId));
      await kv.write(ops);
    },

    billNoForKey: (op, planId, spanStartSec, subjectId) => getJson<number>(`${P}bill-key/${op}/${planId}/${spanStartSec}/${subjectId}`),
    async lastBillNo(op) { return (await getJson<number>(`${P}seq/${op}`)) ?? 0; },
    async saveBill(bill, samples, mail) {
      const op = bill.operatorId;
      const no = pad(bill.billNo);
      const ops: KvOp[] = [
        put(`${P}seq/${op}`, bill.billNo),
        put(`${P}bill/${op}/${no}`, bill),
        { type: 'put', key: `${P}samples/${op}/${no}`, value: encodeSamples(samples) },
        put(`${P}bill-key/${op}/${bill.planId}/${bill.spanStartSec}/${bill.subjectId}`, bill.billNo),
        put(`${P}by-subject/${op}/${bill.subjectId}/${no}`, bill.billNo),
      ];
      if (mail) ops.push(put(`${P}mail-pending/${op}/${no}`, bill.billNo));
      await kv.write(ops);
    },
    getBill: (op, billNo) => getJson<Bill>(`${P}bill/${op}/${pad(billNo)}`),
    async getSamples(op, billNo) {
      const v = await kv.get(`${P}samples/${op}/${pad(billNo)}`);
      return v ? decodeSamples(v) : undefined;
    },
    async listBills(op, filter = {}) {
      if (!filter.planId) return listJson<Bill>(`${P}bill/${op}/`, { reverse: true, limit: filter.limit });
      const out: Bill[] = [];
      for await (const [, v] of kv.entries(prefixRange(`${P}bill/${op}/`, { reverse: true }))) {
        const b = decodeJson<Bill>(v);
        if (b.planId !== filter.planId) continue;
        out.push(b);
        if (filter.limit !== undefined && out.length >= filter.limit) break;
      }
      return out;
    },
    async listBillsOfSubject(op, subjectId) {
      const nos = await listJson<number>(`${P}by-subject/${op}/${subjectId}/`, { reverse: true });
      const raw = await kv.getMany(nos.map((n) => `${P}bill/${op}/${pad(n)}`));
      return raw.filter((v): v is Uint8Array => v !== undefined).map((v) => decodeJson<Bill>(v));
    },
    async pendingMails() {
      const out: { operatorId: string; billNo: number }[] = [];
      for await (const [k, v] of kv.entries(prefixRange(`${P}mail-pending/`))) {
        const operatorId = k.slice(`${P}mail-pending/`.length).split('/')[0]!;
        out.push({ operatorId, billNo: decodeJson<number>(v) });
      }
      return out;
    },
    async clearPendingMail(op, billNo) { await kv.write([{ type: 'del', key: `${P}mail-pending/${op}/${pad(billNo)}` }]); },
    async getLastRunMs() { return (await getJson<{ lastRunMs: number }>(`${P}job/last-run`))?.lastRunMs; },
    async setLastRunMs(ms) { await kv.write([put(`${P}job/last-run`, { lastRunMs: ms })]); },

    async startRun(head, counts) {
      const at = padMs(head.runAtMs);
      const before = await kv.getMany(counts.map(([op]) => `${P}run-of/${op}`));
      const ops: KvOp[] = [put(`${P}run-head/${at}`, head)];
      counts.forEach(([op, c], i) => {
        const old = before[i] && decodeJson<number>(before[i]!);
        if (old !== undefined && old !== head.runAtMs) ops.push({ type: 'del', key: `${P}run-op/${padMs(old)}/${op}` });
        ops.push(put(`${P}run-op/${at}/${op}`, c), put(`${P}run-of/${op}`, head.runAtMs));
      });
      await kv.write(ops);
      // A run's head goes with the last operator that pointed at it (heads are few: at most one per operator).
      const drop: KvOp[] = [];
      for await (const [k] of kv.entries(prefixRange(`${P}run-head/`))) {
        const old = k.slice(`${P}run-head/`.length);
        if (old === at) continue;
        let used = false;
        for await (const _ of kv.entries(prefixRange(`${P}run-op/${old}/`, { limit: 1 }))) used = true;
        if (!used) drop.push({ type: 'del', key: k });
      }
      if (drop.length > 0) await kv.write(drop);
    },
    async updateRun(runAtMs, change) {
      const at = padMs(runAtMs);
      const ops: KvOp[] = [];
      if (change.head) ops.push(put(`${P}run-head/${at}`, change.head));
      for (const [op, c] of change.counts ?? []) ops.push(put(`${P}run-op/${at}/${op}`, c));
      if (change.check) ops.push(put(`${P}run-check`, change.check));
      if (ops.length > 0) await kv.write(ops);
    },
    async runOf(op) {
      const runAtMs = await getJson<number>(`${P}run-of/${op}`);
      if (runAtMs === undefined) return undefined;
      const [head, counts] = await Promise.all([getJson<BillRunHead>(`${P}run-head/${padMs(runAtMs)}`), getJson<BillRunCounts>(`${P}run-op/${padMs(runAtMs)}/${op}`)]);
      return head && counts ? { head, counts } : undefined;
    },
    getRunCheck: () => getJson<BillRunCheck>(`${P}run-check`),
  };
}
