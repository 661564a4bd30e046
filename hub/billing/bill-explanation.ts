import type { Bill, BillSamples, SlotAccounting } from './bill';
import { coveragePercent, spanSlots } from './bill';
import { currencyExponent, formatMinor, formatMoney } from '../../common/money';
import { SLOT_SEC, takenRank } from './percentile';
import { bytesPerSlotToBps, formatBps } from './rates';
import { REPORT_DEFAULT_ZONE, reportSpan } from '../pdf/report-time';

/** A figure of the slot accounting, or null where an old bill did not record it and it cannot be derived. */
export type SlotFigures = { [K in keyof SlotAccounting]: number | null };

/**
 * What a bill shows about how its amount came about (issue 12: a disputed bill explains itself), for
 * the API, the web page, the PDF and the summary CSV.
 */
export interface BillExplanation {
  /** 'stored': the bill carries its slot accounting; 'derived': an older bill, figures taken from its other fields and stored samples. */
  source: 'stored' | 'derived';
  slots: SlotFigures;
  /** True when only part of the cycle is billed (billedSlots < cycleSlots). */
  prorated: boolean;
  /** The computation in plain words, one step per entry, with this bill's figures. */
  steps: string[];
}

export const NOT_RECORDED = 'not recorded';

/**
 * Pure: the explanation of a bill. Bills stored before the slot accounting existed get it from their
 * older fields (n, subjectReportedSlots, coverageSlots, rankedSamples, charge.billedSlots…) and, where
 * a field is missing too, from the samples kept behind the bill; what neither holds stays null.
 */
export function explainBill(bill: Bill, samples?: BillSamples, timeZone = REPORT_DEFAULT_ZONE): BillExplanation {
  const slots = bill.slots ? { ...bill.slots } : deriveSlots(bill, samples);
  return {
    source: bill.slots ? 'stored' : 'derived',
    slots,
    prorated: slots.billedSlots !== null && slots.cycleSlots !== null && slots.billedSlots < slots.cycleSlots,
    steps: explanationSteps(bill, slots, timeZone),
  };
}

function deriveSlots(bill: Partial<Bill>, samples?: BillSamples): SlotFigures {
  const known = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const span = known(bill.n) ?? (samples ? samples.bytesIn.length : null);
  let present = known(bill.subjectReportedSlots);
  if (present === null && samples) {
    present = 0;
    for (let i = 0; i < samples.reported.length; i++) present += samples.reported[i]!;
  }
  const ranked = known(bill.rankedSamples) ?? (span === null ? null : bill.method === 'merge' ? 2 * span : span);
  const dropped = known(bill.discardedSamples) ?? (ranked === null ? null : Math.floor(ranked / 20));
  const cycle = known(bill.charge?.cycleSlots) ??
    (typeof bill.cycleStartSec === 'number' && typeof bill.cycleEndSec === 'number' ? spanSlots({ startSec: bill.cycleStartSec, endSec: bill.cycleEndSec }).n : null);
  return {
    spanSlots: span,
    presentSlots: present,
    zeroFilledSlots: span !== null && present !== null ? span - present : null,
    coveragePercent: span !== null && present !== null ? coveragePercent(present, span) : null,
    edgeReportedSlots: known(bill.coverageSlots),
    rankedSamples: ranked,
    droppedSamples: dropped,
    takenRank: ranked !== null && dropped !== null ? takenRank({ n: ranked, discarded: dropped }) : null,
    billedSlots: known(bill.charge?.billedSlots) ?? span,
    cycleSlots: cycle,
  };
}

// ---- the steps in plain words ------------------------------------------------------------------

const fig = (v: number | null) => (v === null ? NOT_RECORDED : String(v));
const plural = (count: number | null, one: string, many: string) => `${fig(count)} ${count === 1 ? one : many}`;

/**
 * "2 slots … counted as zero" in words a customer reads; every figure is this bill's. Times as the
 * reader's reports print them ("1 Nov 2026 00:00 to 1 Dec 2026 00:00 UTC"): in timeZone (the PDF's
 * operator zone, the web page's viewer zone), the zone named.
 */
export function explanationSteps(bill: Bill, s: SlotFigures, timeZone = REPORT_DEFAULT_ZONE): string[] {
  const c = bill.charge.currency;
  const money = (minor: number | bigint) => formatMoney(Number(minor), c);
  const t = bill.tariff;
  const steps: string[] = [];

  // The period as billed: the slots counted, first slot's start to last slot's end (a span that starts or
  // ends inside a slot includes that slot, period-slots.ts), so the times and the slot count agree.
  const billed = spanSlots({ startSec: bill.spanStartSec, endSec: bill.spanEndSec });
  steps.push(`The billed period, ${reportSpan(billed.firstSlotSec, billed.firstSlotSec + billed.n * SLOT_SEC, timeZone)}, has ${plural(s.spanSlots, 'five-minute slot', 'five-minute slots')}.`);

  if (s.presentSlots !== null && s.presentSlots === s.spanSlots) {
    steps.push(`Traffic of this subject was reported for every slot (coverage 100 %); no slot had to be filled in.`);
  } else {
    steps.push(
      `Traffic of this subject was reported for ${fig(s.presentSlots)} of them (coverage ${s.coveragePercent === null ? NOT_RECORDED : `${s.coveragePercent.toFixed(2)} %`}). ` +
      `The other ${plural(s.zeroFilledSlots, 'slot', 'slots')} had no report and count as zero traffic.`,
    );
  }
  if (s.edgeReportedSlots !== null && s.spanSlots !== null) {
    steps.push(`For comparison: the operator's collectors sent data, for any customer, in ${s.edgeReportedSlots} of the ${s.spanSlots} slots.`);
  }

  const bytes = `${Math.round(bill.p95Bytes)} bytes in five minutes`;
  const merge = bill.method === 'merge';
  const ranking = merge
    ? `In and out are ranked together: ${fig(s.rankedSamples)} samples (${fig(s.spanSlots)} in and ${fig(s.spanSlots)} out), sorted from highest to lowest.`
    : `In and out are ranked separately: ${fig(s.rankedSamples)} samples each, sorted from highest to lowest.`;
  const each = merge ? '' : ' of each';
  const taken = s.droppedSamples === 0
    ? `With fewer than 20 samples none is set aside, so the highest one is the 95th percentile`
    : `${s.droppedSamples === 1 ? 'The highest sample' : `The ${fig(s.droppedSamples)} highest samples`}${each} (5 %: ${fig(s.rankedSamples)} ÷ 20, rounded down) ${s.droppedSamples === 1 ? 'is' : 'are'} set aside; ` +
      `the next one, number ${fig(s.takenRank)} from the top, is the 95th percentile`;
  steps.push(merge
    ? `${ranking} ${taken}: ${formatBps(bill.p95Bps)} (${bytes}).`
    : `${ranking} ${taken} of that direction: in ${formatBps(bill.p95InBps ?? 0)}, out ${formatBps(bill.p95OutBps ?? 0)}. The higher one is billed: ${formatBps(bill.p95Bps)} (${bytes}).`);

  // Blocks from the exact byte count (bits in the slot vs the speed × 300 s), as pricing.ts counts them.
  const excessBits = BigInt(Math.round(bill.p95Bytes)) * 8n - BigInt(t.baseSpeedBps) * BigInt(SLOT_SEC);
  const stepBits = BigInt(t.additionalSpeedBps) * BigInt(SLOT_SEC);
  const blocks = bill.charge.additionalBlocks;
  const cycleAmount = bill.charge.cycleAmountMinor;
  steps.push(`The plan includes ${formatBps(t.baseSpeedBps)} for ${money(t.baseCostMinor)} per billing cycle; each further ${formatBps(t.additionalSpeedBps)}, or part of it, costs ${money(t.additionalCostMinor)}.`);
  if (excessBits <= 0n) {
    steps.push(`${formatBps(bill.p95Bps)} is not above the included ${formatBps(t.baseSpeedBps)}, so a full cycle costs the base price: ${money(cycleAmount)}.`);
  } else {
    steps.push(
      `${formatBps(bill.p95Bps)} is ${formatBps(bytesPerSlotToBps(Math.round(bill.p95Bytes)) - t.baseSpeedBps)} above the included speed: ` +
      `${decimal(excessBits, stepBits, 3)} steps of ${formatBps(t.additionalSpeedBps)}, rounded up to ${blocks} (a started step counts in full). ` +
      `A full cycle costs ${money(t.baseCostMinor)} + ${blocks} × ${money(t.additionalCostMinor)} = ${money(cycleAmount)}.`,
    );
  }

  const amount = money(bill.charge.amountMinor);
  if (s.billedSlots === null || s.cycleSlots === null) {
    steps.push(`The share of the cycle billed was ${NOT_RECORDED}; the amount is ${amount}.`);
  } else if (s.billedSlots >= s.cycleSlots) {
    steps.push(`The subject was in the plan for the whole billing cycle (${s.cycleSlots} slots), so the amount is the full cycle's: ${amount}.`);
  } else {
    const exp = currencyExponent(c);
    steps.push(
      `The subject was in the plan for ${s.billedSlots} of the ${s.cycleSlots} five-minute slots of the billing cycle (${reportSpan(bill.cycleStartSec, bill.cycleEndSec, timeZone)}), so it pays that share: ` +
      `${money(cycleAmount)} × ${s.billedSlots} ÷ ${s.cycleSlots} = ${decimal(BigInt(cycleAmount) * BigInt(s.billedSlots), BigInt(s.cycleSlots) * 10n ** BigInt(exp), exp + 4)} ${c}, ` +
      `rounded to the nearest ${formatMinor(1, c)} ${c} (a half rounds up): ${amount}.`,
    );
  }
  return steps;
}

/** num/den as a decimal cut after `places` digits, with "…" when the cut dropped something. */
function decimal(num: bigint, den: bigint, places: number): string {
  const scale = 10n ** BigInt(places);
  const scaled = (num * scale) / den;
  const exact = (num * scale) % den === 0n;
  let whole = String(scaled / scale);
  let frac = String(scaled % scale).padStart(places, '0');
  if (exact) frac = frac.replace(/0+$/, '');
  if (whole === '') whole = '0';
  return `${whole}${frac ? `.${frac}` : ''}${exact ? '' : '…'}`;
}
