/**
 * decodeTransient for NetFlow v9 and IPFIX (issue 13): the same records and counters as decode() on
 * a second decoder fed the same datagrams, from reused records whose addresses are copies (the
 * datagram is overwritten right after each call, as the reader thread's ring does), held data
 * released by a later datagram coming out of that later call, and never a previous call's records.
 */
import t from 'tap';
import fc from 'fast-check';
import { silentLogger, type Logger } from '../../../common/logger';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import type { FlowDecoder } from '../../../edge/decode/flow-decoder';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import {
  ip4, ip6, ipfixMessage, ipfixOptionsTemplate, ipfixTemplate, set, u16, u32, u8, v5Packet, v9OptionsTemplate, v9Packet,
  v9Template, varField, type IpfixField,
} from './packet-builder';

const T0 = 1_700_000_000;

/** A record as plain values, addresses as their bytes (a view and a copy compare equal). */
function plain(r: FlowRecord) {
  return { ...r, srcIp: Array.from(r.srcIp), dstIp: Array.from(r.dstIp) };
}

function sameRecords(got: readonly FlowRecord[], expected: readonly FlowRecord[]): string | null {
  const a = JSON.stringify(got.map(plain));
  const b = JSON.stringify(expected.map(plain));
  return a === b ? null : `transient ${a}\n   decode ${b}`;
}

// ---- Templates: the same ids in v9 and IPFIX, IPFIX adding variable-length and enterprise fields.
const T_V4 = 256;
const T_V6 = 257;
const T_MIXED = 258;
const T_VAR = 259;
const T_FRAME = 260;
const T_OPTIONS = 300;
const DATA_TEMPLATES = [T_V4, T_V6, T_MIXED, T_VAR, T_FRAME];
const VARIABLE = 0xffff;

function fieldsOf(version: 9 | 10, id: number): IpfixField[] {
  const v9 = version === 9;
  switch (id) {
    case T_V4: // IPv4, sampler id (rate from options data), relative (v9) / absolute (IPFIX) times
      return [[8, 4], [12, 4], [10, 2], [14, 2], [2, 4], [1, 4], ...(v9 ? [[22, 4], [21, 4]] : [[152, 8], [153, 8]]) as IpfixField[],
        [7, 2], [11, 2], [4, 1], [48, 1]];
    case T_V6: // IPv6, 8-byte counters, a sampling interval in the record itself
      return [[27, 16], [28, 16], [14, 4], [2, 8], [1, 8], [7, 2], [11, 2], [4, 1], [34, 4]];
    case T_MIXED: // both families, the unused one zeroed (some routers); IPFIX: times relative to 160
      return [[8, 4], [12, 4], [27, 16], [28, 16], [1, 4], [2, 4], [22, 4], [21, 4], [4, 1], [252, 4], [253, 4]];
    case T_VAR: // variable-length and enterprise fields skipped by their length (v9: fixed ones)
      return v9 ? [[8, 4], [82, 16], [1, 4], [2, 4], [12, 4]] : [[8, 4], [82, VARIABLE], [1, 4], [2, 4], [1000, VARIABLE, 9], [12, 4]];
    default: // T_FRAME: packet sampling, addresses from a header copy
      return [[10, 4], [312, 2], [315, v9 ? 64 : VARIABLE]];
  }
}

function optionsTemplate(version: 9 | 10): number[] {
  return version === 9
    ? v9OptionsTemplate(T_OPTIONS, [[1, 4]], [[48, 1], [34, 4]])
    : ipfixOptionsTemplate(T_OPTIONS, 1, [[302, 4], [305, 4], [306, 4], [160, 8]]);
}

function templateRecord(version: 9 | 10, id: number): number[] {
  const fields = fieldsOf(version, id);
  return version === 9 ? v9Template(id, fields.map(([f, l]) => [f, l] as [number, number])) : ipfixTemplate(id, fields);
}

// ---- Records: random bytes poured into the template's fields, with shapes that matter made on purpose.
interface RecordSpec {
  raw: number[];
  zeroV4: boolean;
  varLength: number;
  longVar: boolean;
  frame: 0 | 4 | 6;
}

const recordArb: fc.Arbitrary<RecordSpec> = fc.record({
  raw: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 32, maxLength: 32 }),
  zeroV4: fc.boolean(),
  varLength: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 250, max: 300 })),
  longVar: fc.boolean(),
  frame: fc.constantFrom(0 as const, 4 as const, 6 as const),
});

function frameBytes(spec: RecordSpec): number[] {
  const r = spec.raw;
  const mac = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  if (spec.frame === 4) {
    return [...mac, ...u16(0x0800), 0x45, 0, ...u16(40 + r[0]), 0, 0, 0, 0, 64, 6, 0, 0,
      ...r.slice(0, 4), ...r.slice(4, 8), ...u16(r[8] * 256 + r[9]), ...u16(443), ...u32(0)];
  }
  if (spec.frame === 6) {
    return [...mac, ...u16(0x86dd), 0x60, 0, 0, 0, ...u16(20 + r[0]), 17, 64, ...r.slice(0, 16), ...r.slice(16, 32),
      ...u16(r[8] * 256 + r[9]), ...u16(53), ...u32(0)];
  }
  return r.slice(0, 20);
}

function recordBytes(version: 9 | 10, id: number, spec: RecordSpec): number[] {
  const out: number[] = [];
  let k = 0;
  for (const [field, length] of fieldsOf(version, id)) {
    if (field === 315) {
      const frame = frameBytes(spec);
      if (length === VARIABLE) out.push(...varField(frame, spec.longVar));
      else out.push(...frame.slice(0, length), ...Array(Math.max(0, length - frame.length)).fill(0));
    } else if (length === VARIABLE) {
      out.push(...varField(Array(spec.varLength).fill(0x41), spec.longVar));
    } else {
      for (let i = 0; i < length; i++) out.push(spec.raw[k++ % spec.raw.length]);
    }
  }
  if (id === T_MIXED && spec.zeroV4) out.fill(0, 0, 8);
  return out;
}

function optionsRecord(version: 9 | 10, spec: RecordSpec): number[] {
  const r = spec.raw;
  // Sampler ids 0..3, so that data records' sampler ids (field 48) find them now and then.
  return version === 9
    ? [...u32(1), ...u8(r[0] & 3), ...u32(r[1] % 4 === 0 ? 0 : r[1])]
    : [...u32(r[0] & 3), ...u32(r[1] & 7), ...u32(r[2] & 15), ...u32(0), ...u32(T0 - 100_000 + r[3])];
}

// ---- Datagrams
type SetSpec =
  | { kind: 'templates'; ids: number[] }
  | { kind: 'options-template' }
  | { kind: 'data'; id: number; records: RecordSpec[]; pad: boolean }
  | { kind: 'options'; records: RecordSpec[] }
  | { kind: 'withdraw'; id: number };

interface DatagramSpec {
  version: 5 | 9 | 10;
  exporter: number;
  domain: number;
  sequence: number;
  sets: SetSpec[];
  /** Cut the datagram to this many bytes (a truncated one), when given. */
  cut: number | null;
}

const setArb: fc.Arbitrary<SetSpec> = fc.oneof(
  fc.record({ kind: fc.constant('templates' as const), ids: fc.subarray(DATA_TEMPLATES, { minLength: 1 }) }),
  fc.record({ kind: fc.constant('options-template' as const) }),
  fc.record({
    kind: fc.constant('data' as const), id: fc.constantFrom(...DATA_TEMPLATES),
    records: fc.array(recordArb, { minLength: 1, maxLength: 8 }), pad: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('data' as const), id: fc.constantFrom(...DATA_TEMPLATES), records: fc.array(recordArb, { minLength: 20, maxLength: 30 }), pad: fc.constant(false) }),
  fc.record({ kind: fc.constant('options' as const), records: fc.array(recordArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('withdraw' as const), id: fc.constantFrom(...DATA_TEMPLATES) }),
);

const datagramArb: fc.Arbitrary<DatagramSpec> = fc.record({
  version: fc.constantFrom(9 as const, 10 as const, 9 as const, 10 as const, 5 as const),
  exporter: fc.integer({ min: 0, max: 1 }),
  domain: fc.integer({ min: 0, max: 1 }),
  sequence: fc.integer({ min: 0, max: 5 }),
  sets: fc.array(setArb, { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.integer({ min: 0, max: 900 }), { freq: 5 }),
});

function encodeSet(version: 9 | 10, s: SetSpec): number[] {
  switch (s.kind) {
    case 'templates': return set(version === 9 ? 0 : 2, s.ids.flatMap((id) => templateRecord(version, id)));
    case 'options-template': return set(version === 9 ? 1 : 3, optionsTemplate(version), version === 9);
    case 'data': return set(s.id, s.records.flatMap((r) => recordBytes(version, s.id, r)), s.pad);
    case 'options': return set(T_OPTIONS, s.records.flatMap((r) => optionsRecord(version, r)), version === 9);
    case 'withdraw': return version === 10 ? set(2, [...u16(s.id), ...u16(0)]) : set(0, templateRecord(9, s.id));
  }
}

function encode(d: DatagramSpec, index: number): Uint8Array {
  let bytes: Uint8Array;
  if (d.version === 5) {
    const flows = d.sets.flatMap((s) => (s.kind === 'data' ? s.records : [])).slice(0, 30).map((r) => ({
      src: r.raw.slice(0, 4).join('.'), dst: r.raw.slice(4, 8).join('.'), packets: r.raw[8], bytes: r.raw[9] * 100,
      srcPort: r.raw[10], dstPort: r.raw[11], protocol: r.raw[12],
    }));
    bytes = v5Packet({ uptimeMs: 100_000 + index, unixSecs: T0 + index, sequence: d.sequence, sampling: d.domain ? 0x4000 | 10 : 0 }, flows);
  } else if (d.version === 9) {
    bytes = v9Packet({ uptimeMs: 3_600_000 + index * 1000, unixSecs: T0 + index, sequence: d.sequence, sourceId: d.domain },
      ...d.sets.map((s) => encodeSet(9, s)));
  } else {
    bytes = ipfixMessage({ exportSecs: T0 + index, sequence: d.sequence, domain: d.domain }, ...d.sets.map((s) => encodeSet(10, s)));
  }
  return d.cut === null ? bytes : bytes.slice(0, Math.min(d.cut, bytes.length));
}

const EXPORTERS = ['192.0.2.1', '2001:db8::9'];

/**
 * Feeds the same datagrams to `reference` (decode) and `transient` (decodeTransient), overwriting
 * each datagram right after the transient call. Throws with a description at the first difference.
 */
function checkSequence(specs: DatagramSpec[], reference: FlowDecoder, transient: FlowDecoder): void {
  const byPosition: FlowRecord[] = []; // the record object the transient decoder used at each position
  const results = new Set<readonly FlowRecord[]>(); // arrays returned: one per length at most
  specs.forEach((spec, i) => {
    const datagram = encode(spec, i);
    const exporter = EXPORTERS[spec.exporter];
    const nowMs = (T0 + i) * 1000;
    const expected = reference.decode(datagram.slice(), exporter, nowMs);
    const got = transient.decodeTransient!(datagram, exporter, nowMs);
    datagram.fill(0xee); // the reader's ring overwrites the datagram as soon as the call returns
    const diff = sameRecords(got, expected);
    if (diff !== null) throw new Error(`datagram ${i}: records differ\n${diff}`);
    const a = JSON.stringify(reference.counters());
    const b = JSON.stringify(transient.counters());
    if (a !== b) throw new Error(`datagram ${i}: counters differ: transient ${b}, decode ${a}`);
    got.forEach((r, at) => {
      if (byPosition[at] === undefined) byPosition[at] = r;
      else if (byPosition[at] !== r) throw new Error(`datagram ${i}: record ${at} is a new object, not the reused one`);
    });
    results.add(got);
    const lengths = new Set([...results].map((r) => r.length)).size;
    // finishTransient: the longest-so-far array, or one kept array per shorter length; never a new one.
    if (results.size !== lengths) throw new Error(`datagram ${i}: ${results.size} result arrays for ${lengths} lengths`);
    if (i % 5 === 4) { reference.expire(nowMs); transient.expire(nowMs); }
  });
  const a = JSON.stringify(reference.exporters());
  const b = JSON.stringify(transient.exporters());
  if (a !== b) throw new Error(`exporters() differ: transient ${b}, decode ${a}`);
}

t.test('property: decodeTransient equals decode on random v9/IPFIX (and v5) sequences, from reused records', async (t) => {
  let runs = 0;
  let records = 0;
  fc.assert(fc.property(fc.array(datagramArb, { minLength: 1, maxLength: 14 }), (specs) => {
    runs++;
    const reference = createFlowDecoder({ log: silentLogger, pendingHoldMs: 4000 });
    const transient = createFlowDecoder({ log: silentLogger, pendingHoldMs: 4000 });
    checkSequence(specs, reference, transient);
    records += transient.counters().flowsDecoded;
  }), { numRuns: 300 });
  t.equal(runs, 300);
  t.ok(records > 1000, `the sequences decoded records (${records})`);
});

t.test('v9: IPv4 and IPv6 records are copies in reused records, a smaller datagram returns only its own', async (t) => {
  const reference = createFlowDecoder({ log: silentLogger });
  const transient = createFlowDecoder({ log: silentLogger });
  const h = (sequence: number) => ({ uptimeMs: 3_600_000, unixSecs: T0, sequence, sourceId: 7 });
  const v4 = (n: number) => [...ip4('10.0.0.' + n), ...ip4('192.0.2.' + n), ...u16(3), ...u16(4), ...u32(2), ...u32(100 * n),
    ...u32(3_500_000), ...u32(3_599_000), ...u16(1000 + n), ...u16(443), 6, 0];
  const v6 = (n: number) => [...ip6('2001:db8::' + n), ...ip6('2001:db8:1::' + n), ...u32(9), ...u32(0), ...u32(1), ...u32(0), ...u32(64 * n),
    ...u16(53), ...u16(5000 + n), 17, ...u32(0)];
  const big = v9Packet(h(0),
    set(0, [...templateRecord(9, T_V4), ...templateRecord(9, T_V6)]),
    set(T_V4, [1, 2, 3].flatMap(v4)), set(T_V6, [4, 5].flatMap(v6)));
  const small = v9Packet(h(1), set(T_V6, v6(6)));

  const first = transient.decodeTransient!(big, '192.0.2.1', 1);
  const firstRecords = [...first];
  big.fill(0);
  t.same(first.map(plain), reference.decode(v9Packet(h(0),
    set(0, [...templateRecord(9, T_V4), ...templateRecord(9, T_V6)]),
    set(T_V4, [1, 2, 3].flatMap(v4)), set(T_V6, [4, 5].flatMap(v6))), '192.0.2.1', 1).map(plain),
  'the records hold their addresses after the datagram is overwritten');
  t.same(first.map((r) => r.srcIp.length), [4, 4, 4, 16, 16]);

  const second = transient.decodeTransient!(small, '192.0.2.1', 2);
  t.equal(second.length, 1, 'only the smaller datagram\'s record');
  t.equal(second[0], firstRecords[0], 'the same record object');
  t.same(second.map(plain), reference.decode(v9Packet(h(1), set(T_V6, v6(6))), '192.0.2.1', 2).map(plain));
  t.same(Array.from(second[0].srcIp), ip6('2001:db8::6'));
  t.same(transient.counters(), reference.counters());
});

t.test('IPFIX: held data released by a later datagram comes out of that call, as copies', async (t) => {
  const reference = createFlowDecoder({ log: silentLogger });
  const transient = createFlowDecoder({ log: silentLogger });
  const h = (sequence: number) => ({ exportSecs: T0, sequence, domain: 1 });
  const spec = (n: number): RecordSpec => ({ raw: Array.from({ length: 32 }, (_, i) => (i * 7 + n) & 0xff), zeroV4: false, varLength: n, longVar: n === 2, frame: 4 });
  const data = () => ipfixMessage(h(0), set(T_VAR, [1, 2, 3].flatMap((n) => recordBytes(10, T_VAR, spec(n)))),
    set(T_FRAME, recordBytes(10, T_FRAME, { ...spec(4), frame: 6 })));
  const filler = () => v5Packet({ uptimeMs: 1, unixSecs: T0, sequence: 0 }, Array.from({ length: 10 }, (_, i) => ({ src: '10.1.1.' + i, dst: '10.2.2.2', packets: 1, bytes: 1 })));
  const templates = () => ipfixMessage(h(4), set(2, [...templateRecord(10, T_VAR), ...templateRecord(10, T_FRAME)]));

  t.same(reference.decode(data(), '192.0.2.5', 1), []);
  t.equal(transient.decodeTransient!(data(), '192.0.2.5', 1).length, 0, 'held: nothing yet');
  reference.decode(filler(), '192.0.2.6', 2);
  t.equal(transient.decodeTransient!(filler(), '192.0.2.6', 2).length, 10, 'another exporter\'s records in between');
  const expected = reference.decode(templates(), '192.0.2.5', 3);
  const dg = templates();
  const got = transient.decodeTransient!(dg, '192.0.2.5', 3);
  dg.fill(0xff);
  t.equal(got.length, 4, 'the held records come out of the call that brought the template');
  t.same(got.map(plain), expected.map(plain));
  t.same(got.map((r) => r.exporter), ['192.0.2.5', '192.0.2.5', '192.0.2.5', '192.0.2.5']);
  t.same(got.map((r) => r.srcIp.length), [4, 4, 4, 16], 'the sampled packet\'s IPv6 addresses, copied too');
  t.same(transient.counters(), reference.counters());
});

t.test('a decode that throws half-way returns this call\'s complete records, never the previous call\'s', async (t) => {
  // A logger that throws on one kind of warning stands in for a decoder bug: the throw comes from
  // inside a data set, after some records of the datagram are done.
  const throwing: Logger = {
    ...silentLogger,
    warn(obj: object | string, msg?: string) { if (msg?.includes('truncated-record')) throw new Error('logger bug'); },
    child() { return throwing; },
  };
  const reference = createFlowDecoder({ log: throwing });
  const transient = createFlowDecoder({ log: throwing });
  const spec = (n: number): RecordSpec => ({ raw: Array.from({ length: 32 }, (_, i) => (i + n) & 0xff), zeroV4: false, varLength: 3, longVar: false, frame: 0 });
  const template = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 0 },
    set(2, templateRecord(10, T_VAR)), set(T_VAR, [0, 1, 2, 3, 4, 5, 6, 7].flatMap((n) => recordBytes(10, T_VAR, spec(n)))));
  // Two whole records, then one whose variable-length field claims more bytes than the set holds.
  const whole = [1, 2].flatMap((n) => recordBytes(10, T_VAR, spec(n)));
  const broken = ipfixMessage({ exportSecs: T0, sequence: 8, domain: 0 }, set(T_VAR, [...whole, ...ip4('10.0.0.1'), 200, ...Array(24).fill(1)]));

  t.equal(transient.decodeTransient!(template, '192.0.2.7', 1).length, 8);
  reference.decode(template, '192.0.2.7', 1);
  const expected = reference.decode(broken, '192.0.2.7', 2);
  const got = transient.decodeTransient!(broken, '192.0.2.7', 2);
  t.equal(expected.length, 2, 'decode: the two records before the throw');
  t.same(got.map(plain), expected.map(plain), 'decodeTransient: the same two, not eight');
  t.same(transient.counters(), reference.counters());
  t.equal(transient.counters().decodeErrors, 2, 'the truncated record and the internal error');
});

t.test('held v9 data keeps the header times of the datagram that carried it, not the releasing one\'s', async (t) => {
  // The version decoders rewrite one MessageTime per datagram: a held set must keep its own copy.
  const record = [...ip4('10.0.0.1'), ...ip4('192.0.2.1'), ...u16(1), ...u16(2), ...u32(1), ...u32(100),
    ...u32(3_500_000), ...u32(3_599_000), ...u16(1000), ...u16(443), 6, 0];
  const early = () => v9Packet({ uptimeMs: 3_600_000, unixSecs: T0, sequence: 0, sourceId: 3 }, set(T_V4, record));
  const later = () => v9Packet({ uptimeMs: 9_000_000, unixSecs: T0 + 5000, sequence: 1, sourceId: 3 }, set(0, templateRecord(9, T_V4)));
  for (const transient of [false, true]) {
    const d = createFlowDecoder({ log: silentLogger });
    const decode = (dg: Uint8Array, now: number) => (transient ? d.decodeTransient!(dg, '192.0.2.9', now) : d.decode(dg, '192.0.2.9', now));
    t.equal(decode(early(), 1).length, 0);
    const [r] = decode(later(), 2);
    t.same([r.startMs, r.endMs], [T0 * 1000 - 100_000, T0 * 1000 - 1000], transient ? 'decodeTransient' : 'decode');
  }
});
