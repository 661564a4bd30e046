/**
 * Structure-aware fuzzer for NetFlow v5 / v9 / IPFIX datagrams (issue 8: hostile input must not stop
 * the edge). Deterministic: every choice comes from one seeded sfc32 PRNG, so a seed and a count
 * name a run exactly, and a finding is replayed by running the same seed again.
 *
 * Seeds of the mutations:
 *  - the real routers' captures in ../shared/interop (read at run time, never copied into the repo,
 *    silently absent when the folder is missing), replayed per capture in order under one exporter
 *    so templates meet their data, with the header times moved to "now" half of the time so the
 *    flows pass the edge's time bounds and reach the aggregator;
 *  - generated v5 / v9 / IPFIX datagrams: templates with random field types and lengths (0, 1, 3, 9,
 *    16, 65535, …), enterprise fields, options templates carrying the sampling fields 34/50/305/306
 *    (and sampler ids 48/302), data records matching the template with extreme values (2^62, 2^64-1,
 *    0, all-ones), timestamps 0 / 2^62 / now, random header times, source ids / observation domains
 *    / template ids, withdrawals, lying header counts and set lengths.
 * Mutations on top: bit flips, interesting bytes / u16 / u32, set-length lies (walking the sets),
 * truncation, byte insertion and deletion, chunk duplication, splices of two datagrams.
 *
 * Spoofing: every datagram carries an exporter address drawn from a pool (RFC 5737 / 6598 / 2001:db8
 * ranges in-process, or 127.x.y.z that a real sender binds to).
 *
 * LEGIT_PREFIX: no datagram the fuzzer emits contains the bytes 198.18.77 anywhere (scrubbed last),
 * so an IP group on 198.18.77.0/24 sees ONLY the valid traffic a test sends after the fuzz, and its
 * totals can be compared to the byte. (Every decoder reads an IPv4 address, plain, IPv4-mapped or in a
 * copied packet header, as 4 consecutive bytes, so no scrubbed datagram can name that /24.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPcapUdp } from '../helpers/pcap-reader';

/** The /24 reserved for valid traffic after the fuzz. */
export const LEGIT_PREFIX = '198.18.77.0/24';
const LEGIT_BYTES = [198, 18, 77];

// ---------------------------------------------------------------- PRNG

/** sfc32 (PractRand's small fast chaotic generator): 128-bit state, good enough and 4 lines. */
export interface Rng {
  u32(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Uint8Array;
}

export function createRng(seed: number): Rng {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) u32(); // mix the seed in
  const rng: Rng = {
    u32,
    int: (n) => (n <= 0 ? 0 : Math.floor((u32() / 4294967296) * n)),
    range: (lo, hi) => lo + rng.int(hi - lo + 1),
    chance: (p) => u32() / 4294967296 < p,
    pick: (xs) => xs[rng.int(xs.length)],
    bytes(n) {
      const out = new Uint8Array(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) { const v = u32(); out[i] = v; out[i + 1] = v >>> 8; out[i + 2] = v >>> 16; out[i + 3] = v >>> 24; }
      for (; i < n; i++) out[i] = u32();
      return out;
    },
  };
  return rng;
}

// ---------------------------------------------------------------- byte writer

class Writer {
  private buf = new Uint8Array(256);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): this { this.ensure(1); this.buf[this.length++] = v & 0xff; return this; }
  u16(v: number): this { this.ensure(2); this.buf[this.length++] = (v >>> 8) & 0xff; this.buf[this.length++] = v & 0xff; return this; }
  u32(v: number): this { this.u16((v >>> 16) & 0xffff); return this.u16(v & 0xffff); }
  /** Big-endian of a non-negative integer (a bigint for values above 2^53) into n bytes, truncated to its low bytes. */
  uint(v: bigint | number, n: number): this {
    this.ensure(n);
    if (typeof v === 'number') {
      // A safe integer: low bytes by division (no BigInt on the hot path).
      let x = v;
      for (let i = n - 1; i >= 0; i--) { this.buf[this.length + i] = x % 256; x = Math.floor(x / 256); }
    } else {
      for (let i = n - 1; i >= 0; i--) this.buf[this.length + i] = Number((v >> BigInt(8 * (n - 1 - i))) & 0xffn);
    }
    this.length += n;
    return this;
  }
  raw(b: ArrayLike<number>): this { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  setU16(at: number, v: number): void { this.buf[at] = (v >>> 8) & 0xff; this.buf[at + 1] = v & 0xff; }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

// ---------------------------------------------------------------- generated datagrams

const INTERESTING_LENGTHS = [0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 255, 65535];
/** Field types the decoder gives meaning to, plus neighbours and garbage. */
const KNOWN_TYPES = [1, 2, 4, 7, 8, 10, 11, 12, 14, 21, 22, 23, 24, 27, 28, 34, 48, 50, 85, 86, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 252, 253, 302, 305, 306, 309, 310, 312, 315];
const NATURAL_LENGTH: Record<number, number> = {
  1: 8, 2: 8, 4: 1, 7: 2, 8: 4, 10: 4, 11: 2, 12: 4, 14: 4, 21: 4, 22: 4, 23: 8, 24: 8, 27: 16, 28: 16, 34: 4, 48: 1, 50: 4,
  85: 8, 86: 8, 150: 4, 151: 4, 152: 8, 153: 8, 154: 8, 155: 8, 156: 8, 157: 8, 158: 4, 159: 4, 160: 8, 252: 4, 253: 4,
  302: 4, 305: 4, 306: 4, 309: 4, 310: 4, 312: 2, 315: 65535,
};
const SAMPLING_FIELDS = [34, 50, 305, 306, 48, 302, 309, 310];

interface FieldSpec { type: number; length: number; enterprise?: number }

function randomField(rng: Rng, ipfix: boolean): FieldSpec {
  const r = rng.u32() % 10;
  let type: number;
  if (r < 6) type = rng.pick(KNOWN_TYPES);
  else if (r < 8) type = rng.int(400);
  else type = rng.int(ipfix ? 0x8000 : 0x10000);
  let length: number;
  const l = rng.u32() % 10;
  if (l < 5) length = NATURAL_LENGTH[type] ?? rng.pick([1, 2, 4, 8]);
  else if (l < 8) length = rng.pick(INTERESTING_LENGTHS);
  else length = rng.int(40);
  if (!ipfix && length === 65535 && rng.chance(0.7)) length = rng.pick([4, 8]); // v9 has no variable length
  const spec: FieldSpec = { type, length };
  if (ipfix && rng.chance(0.12)) spec.enterprise = rng.pick([0, 9, 2636, 29305, 0xffffffff, rng.u32()]);
  return spec;
}

const ALL_ONES = new Uint8Array(64).fill(0xff);
const TWO_62 = 1n << 62n;
const TWO_63 = 1n << 63n;
const TWO_53_PLUS_1 = (1n << 53n) + 1n;

/** A value for one field of a data record; extreme values are the point. */
function fieldValue(rng: Rng, f: FieldSpec, nowMs: number, w: Writer, ipfix: boolean): void {
  let length = f.length;
  if (length === 65535 && ipfix) {
    // RFC 7011 §7: variable length, 1 byte or 255 + 2 bytes; sometimes a lying length.
    length = rng.pick([0, 1, 3, 14, 34, 64, 128, 300, rng.int(1500)]);
    if (length < 255 && rng.chance(0.8)) w.u8(length);
    else w.u8(255).u16(rng.chance(0.9) ? length : rng.pick([0xffff, length + 7, 0]));
    if (f.type === 315 && length >= 34) { w.raw(ipv4Header(rng)); length -= 20; }
    w.raw(rng.bytes(length));
    return;
  }
  if (length === 0) return;
  if (length > 64) { w.raw(rng.bytes(Math.min(length, 2048))); return; }
  const nowSec = Math.floor(nowMs / 1000);
  const choice = rng.u32() % 16;
  let v: bigint | number;
  switch (choice) {
    case 0: v = 0; break;
    case 1: w.raw(ALL_ONES.subarray(0, length)); return; // 2^64-1 for 8 bytes
    case 2: v = TWO_62; break;
    case 3: v = TWO_63; break;
    case 4: v = 0xffffffff; break;
    case 5: v = 1; break;
    case 6: v = nowSec; break;
    case 7: v = nowMs; break;
    case 8: v = (BigInt(nowSec) + 2_208_988_800n) << 32n; break; // NTP format (RFC 7011 §6.1.9)
    case 9: v = nowMs * 1000; break;
    case 10: v = rng.int(100_000); break;
    case 11: v = TWO_53_PLUS_1; break;
    default: {
      if ((f.type === 8 || f.type === 12) && length === 4) { w.raw(ipv4(rng)); return; }
      if ((f.type === 27 || f.type === 28) && length === 16) { w.raw(rng.bytes(16)); return; }
      if (SAMPLING_FIELDS.includes(f.type)) { v = rng.pick([0, 1, 2, 100, 1000, 2048, 65535, 0x7fffffff, rng.u32()]); break; }
      if (f.type === 1 || f.type === 2 || f.type === 85 || f.type === 86) { v = rng.int(1_000_000); break; }
      w.raw(rng.bytes(length));
      return;
    }
  }
  w.uint(v, length);
}

function ipv4(rng: Rng): Uint8Array {
  return Uint8Array.of(rng.pick([10, 192, 203, 100, 172, 1, 0, 255, 127, 224]), rng.int(256), rng.int(256), rng.int(256));
}

function ipv4Header(rng: Rng): Uint8Array {
  const w = new Writer();
  w.u8(rng.chance(0.9) ? 0x45 : rng.u32()).u8(0).u16(rng.pick([40, 1500, 0, 65535, rng.int(65536)])).u32(0).u8(64).u8(rng.pick([6, 17, 1, 58, 0]))
    .u16(0).raw(ipv4(rng)).raw(ipv4(rng));
  return w.done();
}

export interface GenContext {
  rng: Rng;
  nowMs: number;
}

/** Header times: mostly near now (so flows reach the aggregator), sometimes 0 / the far future / random. */
function headerSecs(ctx: GenContext): number {
  const nowSec = Math.floor(ctx.nowMs / 1000);
  const r = ctx.rng.u32() % 10;
  if (r < 6) return nowSec - ctx.rng.int(120);
  if (r === 6) return 0;
  if (r === 7) return 0xffffffff;
  if (r === 8) return nowSec - ctx.rng.int(200_000);
  return ctx.rng.u32();
}

function uptimeMs(ctx: GenContext): number {
  return ctx.rng.pick([0, 1, 0xffffffff, 86_400_000, 4_294_000_000, ctx.rng.u32(), ctx.rng.int(3_600_000)]);
}

export function generateV5(ctx: GenContext): Uint8Array {
  const { rng } = ctx;
  const n = rng.chance(0.1) ? rng.pick([0, 31, 100, 0xffff]) : rng.range(1, 30);
  const records = Math.min(n, rng.chance(0.15) ? rng.int(31) : n, 60);
  const w = new Writer();
  const up = uptimeMs(ctx);
  w.u16(5).u16(n).u32(up).u32(headerSecs(ctx)).u32(rng.u32() % 1_000_000_000).u32(rng.u32())
    .u8(rng.int(3)).u8(rng.int(256)).u16(rng.pick([0, 0, 0, 1, 100, 0x3fff, 0x4000 | 1000, 0x8000 | 64, 0xffff, rng.int(65536)]));
  for (let i = 0; i < records; i++) {
    w.raw(ipv4(rng)).raw(ipv4(rng)).raw(ipv4(rng)).u16(rng.pick([0, 1, 2, 65535, rng.int(65536)])).u16(rng.pick([0, 1, 3, rng.int(65536)]))
      .u32(rng.pick([0, 1, 0xffffffff, rng.int(1000)])).u32(rng.pick([0, 64, 1500, 0xffffffff, rng.u32()]))
      .u32(rng.pick([0, up, (up - rng.int(60_000)) >>> 0, rng.u32()])).u32(rng.pick([0, up, (up - rng.int(1000)) >>> 0, rng.u32(), 0xffffffff]))
      .u16(rng.int(65536)).u16(rng.int(65536)).u8(0).u8(rng.int(256)).u8(rng.pick([6, 17, 1, rng.int(256)])).u8(0)
      .u16(rng.int(65536)).u16(rng.int(65536)).u8(rng.int(33)).u8(rng.int(33)).u16(0);
  }
  return w.done();
}

interface TemplateDef { id: number; fields: FieldSpec[]; scopeCount: number; options: boolean }

function randomTemplate(ctx: GenContext, ipfix: boolean, options: boolean): TemplateDef {
  const { rng } = ctx;
  const id = rng.chance(0.85) ? rng.range(256, 300) : rng.pick([0, 1, 2, 3, 255, 65535, rng.int(65536)]);
  const count = rng.chance(0.05) ? rng.pick([0, 200, 2000]) : rng.range(1, 18);
  const fields: FieldSpec[] = [];
  let scopeCount = 0;
  if (options) {
    scopeCount = rng.chance(0.9) ? rng.range(1, 2) : rng.pick([0, 5]);
    for (let i = 0; i < scopeCount; i++) fields.push({ type: ipfix ? rng.pick([144, 149, 10, 302, rng.int(400)]) : rng.pick([1, 2, 3, 4, 5, rng.int(10)]), length: rng.pick([4, 2, 1, 8, 0, 65535]) });
    const n = rng.range(1, 5);
    for (let i = 0; i < n; i++) {
      const type = rng.pick(SAMPLING_FIELDS);
      fields.push({ type, length: rng.chance(0.8) ? (NATURAL_LENGTH[type] ?? 4) : rng.pick(INTERESTING_LENGTHS) });
    }
  } else {
    for (let i = 0; i < count; i++) fields.push(randomField(rng, ipfix));
    // Often a template that decodes into a countable flow: addresses, counters, times.
    if (rng.chance(0.6)) {
      fields.push({ type: 8, length: 4 }, { type: 12, length: 4 }, { type: 10, length: rng.pick([2, 4]) }, { type: 14, length: rng.pick([2, 4]) },
        { type: 1, length: rng.pick([4, 8, 3, 16]) }, { type: 2, length: rng.pick([4, 8]) });
      if (ipfix && rng.chance(0.5)) fields.push({ type: 152, length: 8 }, { type: 153, length: 8 });
      else fields.push({ type: 22, length: 4 }, { type: 21, length: 4 });
      if (rng.chance(0.3)) fields.push({ type: rng.pick([34, 48, 302]), length: rng.pick([1, 2, 4]) });
    }
  }
  return { id, fields, scopeCount, options };
}

function writeTemplate(w: Writer, t: TemplateDef, ipfix: boolean, rng: Rng): void {
  const specs = (fs: FieldSpec[]) => {
    for (const f of fs) {
      if (ipfix && f.enterprise !== undefined) w.u16(f.type | 0x8000).u16(f.length).u32(f.enterprise);
      else w.u16(f.type).u16(f.length);
    }
  };
  if (!t.options) {
    w.u16(t.id).u16(rng.chance(0.05) ? rng.int(65536) : t.fields.length);
    specs(t.fields);
  } else if (ipfix) {
    w.u16(t.id).u16(t.fields.length).u16(rng.chance(0.05) ? rng.int(65536) : t.scopeCount);
    specs(t.fields);
  } else {
    // RFC 3954 §6.1: scope and option lengths in bytes.
    w.u16(t.id).u16(t.scopeCount * 4).u16((t.fields.length - t.scopeCount) * 4);
    specs(t.fields);
  }
}

/** One set/flowset with a header whose length usually tells the truth, and padding sometimes. */
function writeSet(w: Writer, id: number, body: (w: Writer) => void, rng: Rng): void {
  const start = w.length;
  w.u16(id).u16(0);
  body(w);
  if (rng.chance(0.3)) while ((w.length - start) % 4 !== 0) w.u8(0);
  const len = w.length - start;
  const r = rng.u32() % 20;
  w.setU16(start + 2, r === 0 ? 0 : r === 1 ? 0xffff : r === 2 ? len + rng.range(1, 64) : r === 3 ? Math.max(0, len - rng.range(1, 8)) : r === 4 ? rng.int(4) : len);
}

function flowTemplateSetId(ipfix: boolean, options: boolean): number {
  return ipfix ? (options ? 3 : 2) : (options ? 1 : 0);
}

/** v9 (RFC 3954) or IPFIX (RFC 7011) message: template and/or options template sets, data sets using them. */
export function generateTemplated(ctx: GenContext, ipfix: boolean): Uint8Array {
  const { rng } = ctx;
  const w = new Writer();
  const templates: TemplateDef[] = [];
  const nTemplates = rng.range(0, 3);
  for (let i = 0; i < nTemplates; i++) templates.push(randomTemplate(ctx, ipfix, rng.chance(0.3)));
  if (ipfix) w.u16(10).u16(0).u32(headerSecs(ctx)).u32(rng.u32()).u32(rng.pick([0, 1, 2, rng.u32()]));
  else w.u16(9).u16(0).u32(uptimeMs(ctx)).u32(headerSecs(ctx)).u32(rng.u32()).u32(rng.pick([0, 1, 2, rng.u32()]));
  let records = 0;
  // Template sets (sometimes several templates in one set, sometimes a withdrawal: field count 0).
  for (const t of templates) {
    writeSet(w, flowTemplateSetId(ipfix, t.options), (w) => {
      writeTemplate(w, t, ipfix, rng);
      records++;
      if (ipfix && rng.chance(0.05)) { w.u16(t.id).u16(0); records++; } // RFC 7011 §8.1 withdrawal
    }, rng);
  }
  if (ipfix && rng.chance(0.03)) writeSet(w, rng.pick([2, 3]), (w) => { w.u16(rng.chance(0.5) ? 2 : 3).u16(0); }, rng); // withdraw all
  // Data sets, for our templates or random ids (data before its template is held by the decoder).
  const nData = rng.range(0, 3);
  const maxBytes = rng.chance(0.9) ? 1400 : 9000; // an MTU, sometimes a jumbo frame
  for (let i = 0; i < nData && w.length < maxBytes; i++) {
    const t = templates.length > 0 && rng.chance(0.85) ? rng.pick(templates) : undefined;
    const id = t ? t.id : rng.pick([256, 257, 300, 4, 65535, rng.int(65536)]);
    writeSet(w, id, (w) => {
      const n = rng.chance(0.1) ? rng.pick([0, 60, 300]) : rng.range(1, 8);
      for (let r = 0; r < n && w.length < maxBytes; r++) {
        if (t) for (const f of t.fields) fieldValue(rng, f, ctx.nowMs, w, ipfix);
        else w.raw(rng.bytes(rng.int(64)));
        records++;
      }
    }, rng);
  }
  if (rng.chance(0.05)) writeSet(w, rng.pick([4, 100, 255]), (w) => { w.raw(rng.bytes(rng.int(32))); }, rng); // reserved set ids
  const out = w.done();
  // Header count (v9: records) / length (IPFIX: message bytes): usually right, sometimes a lie.
  const lie = rng.chance(0.15);
  const v = ipfix ? (lie ? rng.pick([0, 16, 0xffff, out.length + 4, Math.max(0, out.length - 4)]) : out.length) : (lie ? rng.pick([0, 0xffff, records + 1, 1]) : records);
  out[2] = (v >>> 8) & 0xff;
  out[3] = v & 0xff;
  return out;
}

// ---------------------------------------------------------------- mutations

const INTERESTING_U8 = [0, 1, 0x7f, 0x80, 0xff, 4, 16];
const INTERESTING_U16 = [0, 1, 2, 3, 4, 255, 256, 0x7fff, 0x8000, 0xffff, 5, 9, 10];

/** Offsets of the set headers after a v9 (20-byte) or IPFIX (16-byte) header, walking by set length. */
function setOffsets(d: Uint8Array): number[] {
  if (d.length < 4) return [];
  const version = (d[0] << 8) | d[1];
  let o = version === 9 ? 20 : version === 10 ? 16 : -1;
  const out: number[] = [];
  while (o >= 0 && o + 4 <= d.length && out.length < 64) {
    out.push(o);
    const len = (d[o + 2] << 8) | d[o + 3];
    if (len < 4) break;
    o += len;
  }
  return out;
}

export function mutate(rng: Rng, input: Uint8Array, other: () => Uint8Array): Uint8Array {
  let d: Uint8Array = input.slice();
  const n = rng.chance(0.5) ? 1 : rng.range(2, 6);
  for (let k = 0; k < n; k++) {
    const op = rng.int(14);
    const at = d.length > 0 ? rng.int(d.length) : 0;
    switch (op) {
      case 0: case 1: { // bit flips
        if (d.length === 0) break;
        const flips = rng.range(1, 8);
        for (let i = 0; i < flips; i++) d[rng.int(d.length)] ^= 1 << rng.int(8);
        break;
      }
      case 2: if (d.length) d[at] = rng.pick(INTERESTING_U8); break;
      case 3: if (at + 1 < d.length) { const v = rng.pick(INTERESTING_U16); d[at] = v >>> 8; d[at + 1] = v & 0xff; } break;
      case 4: if (at + 3 < d.length) { const v = rng.pick([0, 0xffffffff, 0x80000000, 0x7fffffff, rng.u32()]); d[at] = v >>> 24; d[at + 1] = (v >>> 16) & 0xff; d[at + 2] = (v >>> 8) & 0xff; d[at + 3] = v & 0xff; } break;
      case 5: case 6: { // set length that lies
        const sets = setOffsets(d);
        if (sets.length === 0) break;
        const o = rng.pick(sets);
        const len = (d[o + 2] << 8) | d[o + 3];
        const v = rng.pick([0, 1, 3, 4, 5, 0xffff, len + 1, len - 1, len + 4, len - 4, len * 2, rng.int(65536)]) & 0xffff;
        d[o + 2] = v >>> 8; d[o + 3] = v & 0xff;
        break;
      }
      case 7: { // a set id or template field count/length that lies
        const sets = setOffsets(d);
        if (sets.length === 0) break;
        const o = rng.pick(sets) + rng.pick([0, 4, 6, 8, 10]);
        if (o + 1 < d.length) { const v = rng.pick([0, 1, 2, 3, 255, 256, 0xffff, 0x8000, rng.int(65536)]); d[o] = v >>> 8; d[o + 1] = v & 0xff; }
        break;
      }
      case 8: d = d.slice(0, rng.chance(0.3) ? rng.int(Math.min(d.length, 24) + 1) : at); break; // truncate
      case 9: { // insert bytes
        const ins = rng.bytes(rng.pick([1, 2, 4, rng.range(1, 64)]));
        const out = new Uint8Array(d.length + ins.length);
        out.set(d.subarray(0, at)); out.set(ins, at); out.set(d.subarray(at), at + ins.length);
        d = out;
        break;
      }
      case 10: { // delete bytes
        const len = Math.min(d.length - at, rng.pick([1, 2, 4, rng.range(1, 64)]));
        const out = new Uint8Array(d.length - len);
        out.set(d.subarray(0, at)); out.set(d.subarray(at + len), at);
        d = out;
        break;
      }
      case 11: { // splice: head of this, tail of another
        const o = other();
        const cut = rng.int(o.length + 1);
        const out = new Uint8Array(at + (o.length - cut));
        out.set(d.subarray(0, at)); out.set(o.subarray(cut), at);
        d = out;
        break;
      }
      case 12: { // duplicate a chunk (a set repeated, a record repeated)
        const len = Math.min(d.length - at, rng.range(1, 256));
        const out = new Uint8Array(d.length + len);
        out.set(d.subarray(0, at + len)); out.set(d.subarray(at, at + len), at + len); out.set(d.subarray(at + len), at + 2 * len);
        d = out;
        break;
      }
      default: { // random tail (oversize datagram up to ~9000 bytes, jumbo)
        if (rng.chance(0.5)) {
          const extra = rng.bytes(rng.pick([1, 16, 1000, 8000]));
          const out = new Uint8Array(Math.min(65_507, d.length + extra.length));
          out.set(d.subarray(0, Math.min(d.length, out.length))); out.set(extra.subarray(0, out.length - Math.min(d.length, out.length)), Math.min(d.length, out.length));
          d = out;
        }
      }
    }
  }
  return d;
}

/** Moves the header's export time to about now (v5, v9, IPFIX), so replayed flows pass the time bounds. */
function retime(d: Uint8Array, nowMs: number, rng: Rng): void {
  if (d.length < 16) return;
  const version = (d[0] << 8) | d[1];
  const secs = Math.floor(nowMs / 1000) - rng.int(30);
  const put32 = (o: number, v: number) => { d[o] = v >>> 24; d[o + 1] = (v >>> 16) & 0xff; d[o + 2] = (v >>> 8) & 0xff; d[o + 3] = v & 0xff; };
  if (version === 5 || version === 9) put32(8, secs);
  else if (version === 10) put32(4, secs);
}

function scrubLegit(d: Uint8Array): void {
  for (let i = 0; i + 2 < d.length; i++) {
    if (d[i] === LEGIT_BYTES[0] && d[i + 1] === LEGIT_BYTES[1] && d[i + 2] === LEGIT_BYTES[2]) d[i + 2] ^= 0x01;
  }
}

// ---------------------------------------------------------------- corpus and fuzzer

export interface CorpusCapture { name: string; datagrams: Uint8Array[] }

/** ../shared/interop next to the repository (test/fuzz/ → ../../../shared/interop). */
export function defaultInteropDir(repoRoot: string): string {
  return join(repoRoot, '..', 'shared', 'interop');
}

/** Every capture under `dir` (recursively), or [] when the folder is absent. Nothing is copied. */
export function loadInteropCorpus(dir: string): CorpusCapture[] {
  if (!existsSync(dir)) return [];
  const out: CorpusCapture[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.pcap')) {
        try {
          const datagrams = readPcapUdp(p).map((x) => new Uint8Array(x.payload));
          if (datagrams.length > 0) out.push({ name: p.slice(dir.length + 1), datagrams });
        } catch { /* a capture the reader does not support is skipped */ }
      }
    }
  };
  walk(dir);
  return out;
}

export interface FuzzDatagram {
  bytes: Uint8Array;
  exporter: string;
  /** How it was made, for reports: "gen-v5", "gen-ipfix+mut", "corpus:<file>#i", … */
  origin: string;
}

export interface DatagramFuzzerOptions {
  seed: number;
  /** The receiver's clock: generated header times are relative to it. */
  nowMs: () => number;
  corpus?: CorpusCapture[];
  /** Spoofed exporter addresses to draw from; default: 2,000 mixed IPv4/IPv6 documentation addresses. */
  exporters?: readonly string[];
}

export function defaultExporterPool(count = 2000): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 5 === 4) out.push(`2001:db8:${(i >> 8).toString(16)}::${(i & 0xff).toString(16)}`);
    else out.push(`100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 0xff}.${i & 0xff}`);
  }
  return out;
}

export function createDatagramFuzzer(opts: DatagramFuzzerOptions) {
  const rng = createRng(opts.seed);
  const corpus = opts.corpus ?? [];
  const exporters = opts.exporters ?? defaultExporterPool();
  let replay: { capture: CorpusCapture; index: number; exporter: string; retime: boolean; mutateP: number } | undefined;

  const genAny = (nowMs: number): Uint8Array => {
    const ctx = { rng, nowMs };
    const r = rng.int(10);
    return r < 2 ? generateV5(ctx) : r < 6 ? generateTemplated(ctx, false) : generateTemplated(ctx, true);
  };
  const corpusAny = (): Uint8Array => {
    const c = rng.pick(corpus);
    return c.datagrams[rng.int(c.datagrams.length)];
  };
  const other = (nowMs: number) => () => (corpus.length > 0 && rng.chance(0.5) ? corpusAny() : genAny(nowMs));

  function next(): FuzzDatagram {
    const nowMs = opts.nowMs();
    let bytes: Uint8Array;
    let origin: string;
    let exporter = rng.pick(exporters);
    const r = rng.int(100);
    if (replay || (corpus.length > 0 && r < 25)) {
      // A capture replayed in order under one exporter (templates, then data), lightly mutated.
      if (!replay) {
        const capture = rng.pick(corpus);
        replay = { capture, index: 0, exporter, retime: rng.chance(0.5), mutateP: rng.pick([0, 0.05, 0.3, 1]) };
      }
      const { capture, index } = replay;
      bytes = capture.datagrams[index].slice();
      exporter = replay.exporter;
      origin = `corpus:${capture.name}#${index}`;
      if (replay.retime) retime(bytes, nowMs, rng);
      if (rng.chance(replay.mutateP)) { bytes = mutate(rng, bytes, other(nowMs)); origin += '+mut'; }
      replay.index++;
      if (replay.index >= capture.datagrams.length || replay.index >= 200 || rng.chance(0.02)) replay = undefined;
    } else if (corpus.length > 0 && r < 45) {
      bytes = mutate(rng, corpusAny(), other(nowMs));
      retime(bytes, nowMs, rng);
      origin = 'corpus+mut';
    } else {
      const version = rng.int(10);
      const ctx = { rng, nowMs };
      bytes = version < 2 ? generateV5(ctx) : version < 6 ? generateTemplated(ctx, false) : generateTemplated(ctx, true);
      origin = version < 2 ? 'gen-v5' : version < 6 ? 'gen-v9' : 'gen-ipfix';
      if (rng.chance(0.4)) { bytes = mutate(rng, bytes, other(nowMs)); origin += '+mut'; }
    }
    scrubLegit(bytes);
    return { bytes, exporter, origin };
  }

  return { next, rng };
}
