import { hubError } from '../errors';
import type { Tariff } from './bill-plan';
import { divideCeil, divideHalfUp, formatMoney } from '../../common/money';
import { SLOT_SEC } from './percentile';
import { formatBps } from './rates';

export interface Charge {
  /** Additional-speed blocks (or parts of one) by which the 95th exceeds the base speed. */
  additionalBlocks: number;
  /** base + blocks × additional, for a whole cycle. */
  cycleAmountMinor: number;
  /** Slots of the cycle this bill covers / slots in the cycle (a subject associated for part of it). */
  billedSlots: number;
  cycleSlots: number;
  /** cycleAmountMinor × billedSlots / cycleSlots before rounding, as a decimal string (exact to 6 places). */
  unroundedAmountMinor: string;
  /** Rounded half up, once. */
  amountMinor: number;
  currency: string;
  /** The rule in words, with this bill's figures, printed on the bill. */
  rule: string;
}

/**
 * Amount = base cost + additional cost × ceil((p95 − base speed) / additional speed), blocks only
 * when the 95th is above the base speed; prorated by the share of the cycle's 5-minute slots the
 * subject was in the plan, rounded half up once. The 95th arrives as bytes per 5-minute slot and is
 * compared exactly: p95 bps > base bps  ⇔  bytes×8 > baseBps×300.
 */
export function priceBill(tariff: Tariff, billedBytesPerSlot: number, billedSlots: number, cycleSlots: number): Charge {
  const bits = BigInt(Math.round(billedBytesPerSlot)) * 8n;
  const baseBitsPerSlot = BigInt(tariff.baseSpeedBps) * BigInt(SLOT_SEC);
  const blockBitsPerSlot = BigInt(tariff.additionalSpeedBps) * BigInt(SLOT_SEC);
  const excess = bits - baseBitsPerSlot;
  const blocks = excess > 0n ? divideCeil(excess, blockBitsPerSlot) : 0n;
  const cycleAmount = BigInt(tariff.baseCostMinor) + blocks * BigInt(tariff.additionalCostMinor);
  // Amounts are JSON numbers: past 2^53 they would be stored rounded, a wrong bill nobody notices.
  if (cycleAmount > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw hubError('AMOUNT_OUT_OF_RANGE', `the cycle amount ${cycleAmount} ${tariff.currency} minor units is beyond what a bill can hold exactly`, { blocks: String(blocks) });
  }
  const num = cycleAmount * BigInt(billedSlots);
  const den = BigInt(Math.max(1, cycleSlots));
  const amount = billedSlots === cycleSlots ? cycleAmount : divideHalfUp(num, den);
  const micro = divideHalfUp(num * 1_000_000n, den);
  const unrounded = `${micro / 1_000_000n}.${String(micro % 1_000_000n).padStart(6, '0')}`;
  const c = tariff.currency;
  const p95Bps = (Number(bits) / SLOT_SEC);
  const rule =
    `Base ${formatMoney(tariff.baseCostMinor, c)} covers ${formatBps(tariff.baseSpeedBps)}; ` +
    `each additional ${formatBps(tariff.additionalSpeedBps)} or part of it above that costs ${formatMoney(tariff.additionalCostMinor, c)}. ` +
    `95th percentile ${formatBps(p95Bps)} → ${blocks} additional block(s): ` +
    `${formatMoney(tariff.baseCostMinor, c)} + ${blocks} × ${formatMoney(tariff.additionalCostMinor, c)} = ${formatMoney(Number(cycleAmount), c)} per cycle` +
    (billedSlots === cycleSlots ? '.' : `; × ${billedSlots}/${cycleSlots} slots of the cycle in the plan = ${formatMoney(Number(amount), c)} (rounded half up once).`);
  return {
    additionalBlocks: Number(blocks),
    cycleAmountMinor: Number(cycleAmount),
    billedSlots, cycleSlots,
    unroundedAmountMinor: unrounded,
    amountMinor: Number(amount),
    currency: c,
    rule,
  };
}
