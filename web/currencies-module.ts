import { CURRENCY_EXPONENTS, ISO_4217_PUBLISHED } from '../common/money';

/**
 * The source of /currencies.js, the ES module web/format.js imports: the hub's own ISO 4217 table
 * (common/money.ts) written out as JavaScript. There is no such file in web/: the web router answers
 * with this text, so the pages format money with exactly the exponents the running hub bills with,
 * and a currency-codes upgrade reaches both at the same time (no copy to regenerate, none to drift).
 */
export function currenciesModuleSource(): string {
  return [
    `// ISO 4217 minor-unit exponents (list published ${ISO_4217_PUBLISHED}), written by the hub from common/money.ts.`,
    `export const ISO_4217_PUBLISHED = ${JSON.stringify(ISO_4217_PUBLISHED)};`,
    `export const CURRENCY_EXPONENTS = Object.freeze(${JSON.stringify(CURRENCY_EXPONENTS)});`,
    '',
  ].join('\n');
}
