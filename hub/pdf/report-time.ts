/**
 * Dates on printed reports (bill PDFs): "1 Nov 2026 00:00 UTC", in the operator's time zone when
 * the hub knows one, else UTC, and always with the zone named, so a reader in another zone is not
 * misled. A NOC reads 24-hour times; month names are spelled out in English (ICU's en-GB writes
 * "Sept" on some Node builds), so the same instant prints the same on every hub.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The zone reports use when none is configured. */
export const REPORT_DEFAULT_ZONE = 'UTC';

interface Parts { year: number; month: number; day: number; hour: number; minute: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(sec: number, timeZone: string): Parts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(sec * 1000)).map((x) => [x.type, x.value]));
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour) % 24, minute: Number(p.minute) };
}

/** Throws RangeError for a zone the runtime does not know (check config with it at start). */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** How the zone is named after a time: "UTC", or the IANA name ("Europe/Budapest"). */
export function zoneName(timeZone: string): string {
  return timeZone === 'Etc/UTC' || timeZone === 'UTC' ? 'UTC' : timeZone;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "1 Nov 2026" (no zone: for labels where the zone is named once nearby). */
export function reportDay(sec: number, timeZone = REPORT_DEFAULT_ZONE): string {
  const p = partsIn(sec, timeZone);
  return `${p.day} ${MONTHS[p.month - 1]} ${p.year}`;
}

/** "06:00" in the zone. */
export function reportClock(sec: number, timeZone = REPORT_DEFAULT_ZONE): string {
  const p = partsIn(sec, timeZone);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** "1 Nov 2026 00:00 UTC": a date and time with its zone. */
export function reportDateTime(sec: number, timeZone = REPORT_DEFAULT_ZONE): string {
  return `${reportDay(sec, timeZone)} ${reportClock(sec, timeZone)} ${zoneName(timeZone)}`;
}

/** "1 Nov 2026 00:00 to 1 Dec 2026 00:00 UTC": a span with its zone named once. */
export function reportSpan(startSec: number, endSec: number, timeZone = REPORT_DEFAULT_ZONE): string {
  return `${reportDay(startSec, timeZone)} ${reportClock(startSec, timeZone)} to ${reportDay(endSec, timeZone)} ${reportClock(endSec, timeZone)} ${zoneName(timeZone)}`;
}

/** Seconds east of UTC of the zone at that instant (for aligning chart ticks to local midnights and hours). */
export function zoneOffsetSec(sec: number, timeZone = REPORT_DEFAULT_ZONE): number {
  const p = partsIn(sec, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) / 1000;
  return asUtc - Math.floor(sec / 60) * 60;
}
