/**
 * Converting sysUptime-relative flow times to absolute Unix milliseconds.
 *
 * sysUptime is a 32-bit millisecond counter: it wraps after 2^32 ms (49.7 days). A flow's
 * first/last switched value is compared with the header's uptime as a *signed* 32-bit difference,
 * so a flow that started just before the wrap (first = 0xFFFFFF00) in a packet sent just after it
 * (uptime = 0x00000100) is 512 ms old, not 49.7 days in the future. A value slightly after the
 * header's uptime (some exporters stamp last switched after building the header) comes out as a
 * small negative age, which is also right.
 */
export function uptimeToUnixMs(headerUnixMs: number, headerUptimeMs: number, flowUptimeMs: number): number {
  const ageMs = (headerUptimeMs - flowUptimeMs) | 0; // signed 32-bit difference: RFC 3954 uptime wraps
  return headerUnixMs - ageMs;
}

const UPTIME_WRAP_MS = 4_294_967_296;

/**
 * IPFIX flowStart/EndSysUpTime (21/22) are relative to systemInitTimeMilliseconds (160), not to a
 * header uptime. After 49.7 days the 32-bit uptime wraps while the init time stays put, so add as
 * many wraps as bring the result to at most a minute after the message's export time.
 */
export function initRelativeToUnixMs(systemInitMs: number, flowUptimeMs: number, exportMs: number): number {
  const base = systemInitMs + flowUptimeMs;
  const wraps = Math.floor((exportMs + 60_000 - base) / UPTIME_WRAP_MS);
  return wraps > 0 ? base + wraps * UPTIME_WRAP_MS : base;
}
