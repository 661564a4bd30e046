import type { CustomerBill } from '../../common/api/customer';
import type { CustomerBilling } from '../access/customer-billing';
import type { Bill, BillSamples } from './bill';
import { spanSlots } from './bill';
import type { BillParties } from './bill-pdf';
import type { BillingService } from './billing-service';
import type { BillingStore } from './billing-store';
import { SLOT_SEC } from './percentile';

interface Deps {
  store: Pick<BillingStore, 'planOfSubject' | 'getBill' | 'listBillsOfSubject'>;
  service: Pick<BillingService, 'preview' | 'billDetails'>;
  billPdf: (bill: Bill, samples: BillSamples, override?: BillParties) => Promise<Uint8Array>;
}

/** Adapter of the customer view's billing port onto the billing module (its store, preview and PDF). */
export function createCustomerBillingAdapter(deps: Deps): CustomerBilling {
  return {
    async cycleSoFar(op, subjectId) {
      const planId = await deps.store.planOfSubject(op, subjectId);
      if (!planId) return undefined;
      // The same preview operators see (bill-preview.ts: the bill's own rules), without the amounts.
      const p = (await deps.service.preview(op, planId)).previews.find((x) => x.subjectId === subjectId);
      if (!p) return undefined;
      return {
        planName: p.planName, cycleStartSec: p.cycleStartSec, cycleEndSec: p.cycleEndSec, spanStartSec: p.spanStartSec, asOfSec: p.asOfSec,
        method: p.method, p95Bps: p.p95Bps, ...(p.p95InBps !== undefined ? { p95InBps: p.p95InBps, p95OutBps: p.p95OutBps } : {}),
        slotsSoFar: p.slotsSoFar, slotsWithData: p.slotsWithData, coveragePercent: p.coveragePercent,
      };
    },
    async billsOfSubjects(op, subjectIds) {
      const out: CustomerBill[] = [];
      for (const subjectId of subjectIds) {
        for (const b of await deps.store.listBillsOfSubject(op, subjectId)) {
          const billed = spanSlots({ startSec: b.spanStartSec, endSec: b.spanEndSec });
          out.push({
            billNo: b.billNo, planName: b.planName, subjectId: b.subjectId, serviceLabel: '',
            billedFromSec: billed.firstSlotSec, billedToSec: billed.firstSlotSec + billed.n * SLOT_SEC,
            p95Bps: b.p95Bps, amountMinor: b.charge.amountMinor, currency: b.charge.currency, generatedAtMs: b.generatedAtMs,
          });
        }
      }
      return out.sort((a, b) => b.billNo - a.billNo);
    },
    async subjectOfBill(op, billNo) {
      return (await deps.store.getBill(op, billNo))?.subjectId;
    },
    async billPdf(op, billNo, customerName) {
      const { bill, samples } = await deps.service.billDetails(op, billNo);
      return deps.billPdf(bill, samples, customerName ? { customerName } : {});
    },
  };
}
