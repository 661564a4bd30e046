/**
 * Decoder throughput on one core: realistic v5 (30 records/packet), v9 and IPFIX datagrams
 * (~1400 bytes, Cisco-like templates), each decoded for ~3 s. Prints plain lines:
 *   decode v5: N records/s (M packets/s)
 * Rates are per second of this process's CPU time (user + system), so a busy shared machine skews
 * them less than wall time would; the wall-time rate follows in brackets.
 * Each version runs through decode() and then decodeTransient() (the ingest path); each line also
 * counts young-generation GCs, which per-record allocation drives.
 * Run: npx tsx bench/decode-bench.ts [seconds]
 */
import { silentLogger } from '../common/logger';
import { createFlowDecoder } from '../edge/decode/create-flow-decoder';
import { GCProfiler } from 'node:v8';

const SECONDS = Number(process.argv[2] ?? 3);
const UNIX_SECS = 1_700_000_000;
const POOL = 64; // distinct datagrams, cycled

function v5Datagram(seq: number, salt: number): Buffer {
  const b = Buffer.alloc(24 + 30 * 48);
  b.writeUInt16BE(5, 0); b.writeUInt16BE(30, 2); b.writeUInt32BE(3_600_000, 4); b.writeUInt32BE(UNIX_SECS, 8);
  b.writeUInt32BE(seq, 16); b.writeUInt16BE(0x4000 | 100, 22);
  for (let r = 0; r < 30; r++) {
    const p = 24 + r * 48;
    b.writeUInt32BE(0x0a000000 + salt * 30 + r, p); b.writeUInt32BE(0xc0000200 + r, p + 4);
    b.writeUInt16BE(1 + (r % 8), p + 12); b.writeUInt16BE(9, p + 14);
    b.writeUInt32BE(10 + r, p + 16); b.writeUInt32BE(15_000 + r * 100, p + 20);
    b.writeUInt32BE(3_500_000, p + 24); b.writeUInt32BE(3_599_000, p + 28);
    b.writeUInt16BE(40_000 + r, p + 32); b.writeUInt16BE(443, p + 34); b[p + 38] = 6;
  }
  return b;
}

// v9 / IPFIX template: src/dst v4, in/out if (4), packets, bytes, first/last, ports, proto, tos,
// tcp flags, src/dst AS (4), masks, next hop: 47 bytes per record, 29 records per datagram.
const FIELDS: Array<[number, number]> = [
  [8, 4], [12, 4], [10, 4], [14, 4], [2, 4], [1, 4], [22, 4], [21, 4], [7, 2], [11, 2], [4, 1], [5, 1],
  [6, 1], [16, 2], [17, 2], [9, 1], [13, 1], [15, 4],
];
const V9_RECORD = FIELDS.reduce((s, [, l]) => s + l, 0);
const IPFIX_FIELDS: Array<[number, number]> = FIELDS.map(([id, l]) =>
  id === 1 || id === 2 ? [id, 8] : id === 22 ? [152, 8] : id === 21 ? [153, 8] : [id, l]);
const IPFIX_RECORD = IPFIX_FIELDS.reduce((s, [, l]) => s + l, 0);

function writeRecord(b: Buffer, p: number, fields: Array<[number, number]>, r: number, salt: number): number {
  for (const [id, len] of fields) {
    let v = 0;
    if (id === 8) v = 0x0a000000 + salt * 64 + r; else if (id === 12) v = 0xc0000200 + r;
    else if (id === 1) v = 12_000 + r; else if (id === 2) v = 9; else if (id === 7) v = 40_000 + r; else if (id === 11) v = 443;
    else if (id === 4) v = 6; else if (id === 22) v = 3_500_000; else if (id === 21) v = 3_599_000;
    else if (id === 152) v = UNIX_SECS * 1000 - 60_000; else if (id === 153) v = UNIX_SECS * 1000 - 1000; else if (id === 10) v = 3;
    if (len === 8) { b.writeUInt32BE(Math.floor(v / 2 ** 32), p); b.writeUInt32BE(v >>> 0, p + 4); }
    else if (len === 4) b.writeUInt32BE(v >>> 0, p); else if (len === 2) b.writeUInt16BE(v & 0xffff, p); else b[p] = v & 0xff;
    p += len;
  }
  return p;
}

function templateSet(setId: number, fields: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(8 + fields.length * 4);
  b.writeUInt16BE(setId, 0); b.writeUInt16BE(b.length, 2); b.writeUInt16BE(256, 4); b.writeUInt16BE(fields.length, 6);
  fields.forEach(([id, l], i) => { b.writeUInt16BE(id, 8 + i * 4); b.writeUInt16BE(l, 10 + i * 4); });
  return b;
}

function dataSet(fields: Array<[number, number]>, recordLength: number, salt: number): Buffer {
  const records = Math.floor((1400 - 24) / recordLength);
  const b = Buffer.alloc(4 + records * recordLength);
  b.writeUInt16BE(256, 0); b.writeUInt16BE(b.length, 2);
  let p = 4;
  for (let r = 0; r < records; r++) p = writeRecord(b, p, fields, r, salt);
  return b;
}

function v9Datagram(seq: number, sets: Buffer[]): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(9, 0); h.writeUInt16BE(sets.length, 2); h.writeUInt32BE(3_600_000, 4); h.writeUInt32BE(UNIX_SECS, 8);
  h.writeUInt32BE(seq, 12); h.writeUInt32BE(1, 16);
  return Buffer.concat([h, ...sets]);
}

function ipfixDatagram(seq: number, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const h = Buffer.alloc(16);
  h.writeUInt16BE(10, 0); h.writeUInt16BE(16 + body.length, 2); h.writeUInt32BE(UNIX_SECS, 4);
  h.writeUInt32BE(seq, 8); h.writeUInt32BE(1, 12);
  return Buffer.concat([h, body]);
}

function run(name: string, setup: Buffer | undefined, make: (i: number) => Buffer, transient = false): void {
  const decoder = createFlowDecoder({ log: silentLogger });
  // decodeTransient is the edge's ingest path (edge/flow-front.ts): reused records, no per-record objects.
  const decode = transient ? decoder.decodeTransient!.bind(decoder) : decoder.decode.bind(decoder);
  if (setup) decoder.decode(setup, '192.0.2.1', 0);
  const pool = Array.from({ length: POOL }, (_, i) => make(i));
  let records = 0;
  let packets = 0;
  let sink = 0;
  // Young-generation collections while the line runs: per-record garbage shows up here.
  const gcProfiler = new GCProfiler();
  gcProfiler.start();
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  for (;;) {
    for (let i = 0; i < 256; i++) {
      const out = decode(pool[(packets + i) % POOL], '192.0.2.1', 0);
      records += out.length;
      sink += out[0].bytes;
    }
    packets += 256;
    if (process.hrtime.bigint() >= deadline) break;
  }
  const wallSec = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const elapsedSec = (cpu.user + cpu.system) / 1e6;
  if (decoder.counters().decodeErrors !== 0 || sink === 0) throw new Error(`${name}: decode errors`);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const gc = (gcProfiler.stop()?.statistics ?? []).filter((e) => e.gcType === 'Scavenge').length;
  console.log(`decode ${name}${transient ? ' transient' : ''}: ${fmt(records / elapsedSec)} records/s (${fmt(packets / elapsedSec)} packets/s) [wall: ${fmt(records / wallSec)} records/s] [young-generation GCs: ${fmt(gc)}]`);
}

const v5Pool = (i: number) => v5Datagram(i * 30, i);
for (const transient of [false, true]) {
  run('v5', undefined, v5Pool, transient);
  run('v9', v9Datagram(0, [templateSet(0, FIELDS)]), (i) => v9Datagram(i, [dataSet(FIELDS, V9_RECORD, i)]), transient);
  run('ipfix', ipfixDatagram(0, [templateSet(2, IPFIX_FIELDS)]), (i) => ipfixDatagram(i, [dataSet(IPFIX_FIELDS, IPFIX_RECORD, i)]), transient);
}
