/** fast-check arbitraries for subject ids as the edge makes them (common/subject-id.ts): ASCII only. */
import fc from 'fast-check';

const NAME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-';
const groupNameArb = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 64 });
const ifIndexArb = fc.integer({ min: 0, max: 70_000 });
const ipv4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
// A few shapes of IPv6 text: "::" compressions, groups of 1 to 4 hex digits.
const ipv6Arb = fc.array(fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16)), { minLength: 1, maxLength: 8 })
  .map((g) => (g.length === 8 ? g.join(':') : `2001:db8::${g.slice(0, 6).join(':')}`));
export const subjectIdArb = fc.oneof(
  fc.tuple(ipv4Arb, ifIndexArb).map(([a, i]) => `if:${a}/${i}`),
  fc.tuple(ipv6Arb, ifIndexArb).map(([a, i]) => `if:${a}/${i}`),
  groupNameArb.map((n) => `ipg:${n}`),
);
