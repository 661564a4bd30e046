// ./currencies.js (imported by format.js) is not a file: the hub writes it from common/money.ts
// (web/currencies-module.ts, served by web/serve-web.ts). This declares what it exports. A .d.ts next
// to the import because TypeScript does not allow ambient declarations of relative module names.

/** The date of the ISO 4217 list the table comes from. */
export const ISO_4217_PUBLISHED: string;
/** ISO 4217 code → minor-unit exponent (JPY 0, USD 2, KWD 3), active currencies only. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>>;
