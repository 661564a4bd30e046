/**
 * The price book: subscription tiers by active customer count, their monthly fees, and the NetFlow
 * add-on's share of the fee. Held by super_admin (GET/PUT /api/v1/price-book); fees are integer
 * minor units of the book's one currency.
 */
import { isCurrency } from '../../common/money';
import { hubError } from '../errors';

export interface Tier {
  tierId: string;
  name: string;
  /** Inclusive upper bound of active customers; null = no limit (the last tier). */
  maxCustomers: number | null;
  /** Fee for one whole billing period (calendar month), in minor units of the book's currency. */
  monthlyFeeMinor: number;
  /** May this tier run the NetFlow Traffic Analysis add-on? */
  netflowEligible: boolean;
}

export interface PriceBook {
  currency: string;
  /** Ascending by maxCustomers; each tier starts where the previous one ends (+1). */
  tiers: Tier[];
  /** The add-on costs this percentage of the subscription fee in force (issue 3: 50). */
  addonPercentOfFee: number;
  /** Customers beyond the tier's limit: 'upgrade' moves to the tier that fits, 'refuse' rejects the count. */
  overLimit: 'upgrade' | 'refuse';
  /** Trial length in days (issue 3: 15), once per operator. */
  trialDays: number;
  /** Days the data of a stopped collection is kept before it is purged (issue 3: 30). */
  retentionDays: number;
}

/**
 * Defaults (the issue names the tiers, not the fees): Small up to 500 customers (not eligible for
 * NetFlow), Mid 501-2,000, Large 2,001+; USD 99 / 299 / 799 a month; add-on 50% of the fee.
 */
export const DEFAULT_PRICE_BOOK: Readonly<PriceBook> = Object.freeze({
  currency: 'USD',
  tiers: [
    { tierId: 'small', name: 'Small', maxCustomers: 500, monthlyFeeMinor: 9_900, netflowEligible: false },
    { tierId: 'mid', name: 'Mid', maxCustomers: 2_000, monthlyFeeMinor: 29_900, netflowEligible: true },
    { tierId: 'large', name: 'Large', maxCustomers: null, monthlyFeeMinor: 79_900, netflowEligible: true },
  ],
  addonPercentOfFee: 50,
  overLimit: 'upgrade',
  trialDays: 15,
  retentionDays: 30,
});

const MAX_FEE_MINOR = 1e12;

function fail(field: string, expected: string): never {
  throw hubError('VALIDATION_FAILED', `price book ${field}: expected ${expected}`);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Validate an untrusted price book (API body); returns a clean copy or throws VALIDATION_FAILED naming the field. */
export function validatePriceBook(input: unknown): PriceBook {
  if (typeof input !== 'object' || input === null) fail('body', 'an object');
  const b = input as Record<string, unknown>;
  if (!isCurrency(b.currency)) fail('currency', 'an active ISO 4217 currency code such as USD, EUR, JPY or KWD');
  if (!Array.isArray(b.tiers) || b.tiers.length === 0) fail('tiers', 'a non-empty array');
  const tiers: Tier[] = [];
  const ids = new Set<string>();
  b.tiers.forEach((raw: unknown, i: number) => {
    const t = (raw ?? {}) as Record<string, unknown>;
    const last = i === (b.tiers as unknown[]).length - 1;
    if (typeof t.tierId !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(t.tierId)) fail(`tiers[${i}].tierId`, '1-32 of [a-z0-9_-]');
    if (ids.has(t.tierId)) fail(`tiers[${i}].tierId`, 'unique ids');
    ids.add(t.tierId);
    if (typeof t.name !== 'string' || t.name.length === 0 || t.name.length > 64) fail(`tiers[${i}].name`, 'a name of 1-64 characters');
    if (last ? t.maxCustomers !== null && t.maxCustomers !== undefined : !isInt(t.maxCustomers, 0, 1e9)) fail(`tiers[${i}].maxCustomers`, last ? 'null (the last tier has no limit)' : 'an integer 0..1e9');
    const prev = tiers[i - 1];
    if (!last && prev && (t.maxCustomers as number) <= (prev.maxCustomers as number)) fail(`tiers[${i}].maxCustomers`, 'ascending limits');
    if (!isInt(t.monthlyFeeMinor, 0, MAX_FEE_MINOR)) fail(`tiers[${i}].monthlyFeeMinor`, 'an integer number of minor units');
    if (typeof t.netflowEligible !== 'boolean') fail(`tiers[${i}].netflowEligible`, 'true or false');
    tiers.push({ tierId: t.tierId, name: t.name, maxCustomers: last ? null : (t.maxCustomers as number), monthlyFeeMinor: t.monthlyFeeMinor as number, netflowEligible: t.netflowEligible });
  });
  const addonPercentOfFee = b.addonPercentOfFee ?? DEFAULT_PRICE_BOOK.addonPercentOfFee;
  if (!isInt(addonPercentOfFee, 0, 1000)) fail('addonPercentOfFee', 'an integer percentage 0..1000');
  const overLimit = b.overLimit ?? DEFAULT_PRICE_BOOK.overLimit;
  if (overLimit !== 'upgrade' && overLimit !== 'refuse') fail('overLimit', '"upgrade" or "refuse"');
  const trialDays = b.trialDays ?? DEFAULT_PRICE_BOOK.trialDays;
  if (!isInt(trialDays, 1, 365)) fail('trialDays', 'an integer 1..365');
  const retentionDays = b.retentionDays ?? DEFAULT_PRICE_BOOK.retentionDays;
  if (!isInt(retentionDays, 0, 3650)) fail('retentionDays', 'an integer 0..3650');
  return { currency: b.currency, tiers, addonPercentOfFee, overLimit, trialDays, retentionDays };
}

export function findTier(book: PriceBook, tierId: string): Tier | undefined {
  return book.tiers.find((t) => t.tierId === tierId);
}

/** The smallest tier whose limit holds this many active customers. */
export function fitTier(book: PriceBook, activeCustomers: number): Tier {
  return book.tiers.find((t) => t.maxCustomers === null || activeCustomers <= t.maxCustomers) ?? book.tiers[book.tiers.length - 1];
}

export function tierRank(book: PriceBook, tierId: string): number {
  return book.tiers.findIndex((t) => t.tierId === tierId);
}

/** Does `count` fit under the tier's limit? */
export function tierHolds(tier: Tier, activeCustomers: number): boolean {
  return tier.maxCustomers === null || activeCustomers <= tier.maxCustomers;
}
