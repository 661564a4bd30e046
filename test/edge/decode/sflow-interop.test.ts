/**
 * Real agents' sFlow captures (Akvorado's test data: Arista/Juniper-style flow samples, expanded
 * samples, QinQ, VXLAN, ICMP, discarded/local/multiple output interfaces) through the sFlow decoder:
 * no decode errors, and per capture the flow samples, sampling rates, frame lengths and interfaces
 * agree with Wireshark's sFlow dissector (tshark -d udp.port==6343,sflow), run here when installed.
 * Without tshark the numbers below, read with tshark 4.x by hand, are asserted instead.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createSflowDecoder } from '../../../edge/decode/sflow/create-sflow-decoder';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import { captureWarnings } from '../../helpers/capture-logger';
import { readPcapUdp } from '../../helpers/pcap-reader';

const DIR = '/work/shared/interop/akvorado-sflow';
const SFLOW_PORT = 6343;

interface Expected {
  /** Per flow sample, in order: sampling rate, frame length, input and output ifIndex as FlowRecord has them (0 = none). */
  samples: Array<[rate: number, frameLength: number, inputIf: number, outputIf: number]>;
  agent: string;
}

// tshark -r FILE -d udp.port==6343,sflow -T fields -e sflow.flow_sample.sampling_rate -e sflow_245.header.frame_length
//   -e sflow.flow_sample.input_interface -e sflow.flow_sample.output_interface -e sflow_245.agent
// (expanded samples' interfaces read from -V: "Input interface value" / "Output interface value").
// 0x3fffffff (unknown/local), 0x4000xxxx (discarded) and 0x8000xxxx (multiple) are 0 in a FlowRecord.
const BY_HAND: Record<string, Expected> = {
  'data-1140.pcap': { agent: '172.16.0.3', samples: [[1024, 1518, 27, 28], [1024, 439, 49001, 25], [1024, 1518, 27, 28], [1024, 64, 28, 49001], [1024, 1518, 27, 28]] },
  'data-discard-interface.pcap': { agent: '172.16.0.3', samples: [[1024, 1518, 27, 0]] },
  'data-encap-vxlan.pcap': { agent: '127.0.0.1', samples: [[1, 172, 0, 0]] },
  'data-icmpv4.pcap': { agent: '127.0.0.1', samples: [[1, 102, 0, 0]] },
  'data-icmpv6.pcap': { agent: '127.0.0.1', samples: [[1, 90, 0, 0]] },
  'data-local-interface.pcap': { agent: '172.16.0.3', samples: [[1024, 1518, 27, 0]] },
  'data-multiple-interfaces.pcap': { agent: '172.16.0.3', samples: [[1024, 1518, 27, 0]] },
  'data-qinq.pcap': { agent: '172.17.128.58', samples: [[4096, 106, 369098852, 369098851]] },
  'data-sflow-expanded-sample.pcap': { agent: '49.49.49.49', samples: [[1000, 126, 29001, 1285816721]] },
  'data-sflow-ipv4-data.pcap': { agent: '49.49.49.49', samples: [[256, 1390, 0, 182]] },
  'data-sflow-raw-ipv4.pcap': { agent: '172.19.64.116', samples: [[1, 50, 0, 2], [1, 50, 0, 2]] },
};

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: ['ignore', 'pipe', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

/** Compact interface word → what FlowRecord carries (format 0 and a known index, else 0). */
function ifOf(word: string): number {
  const v = Number(word);
  return v >>> 30 === 0 && (v & 0x3fffffff) !== 0x3fffffff ? v : 0;
}

/** tshark's view of one capture: per flow sample [rate, frame length, in, out] (compact samples' interfaces only). */
function tsharkSamples(file: string): { rates: number[]; frameLengths: number[]; inputs: number[]; outputs: number[] } {
  const out = execFileSync('tshark', [
    '-r', file, '-d', `udp.port==${SFLOW_PORT},sflow`, '-Y', 'sflow', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,',
    '-e', 'sflow.flow_sample.sampling_rate', '-e', 'sflow_245.header.frame_length',
    '-e', 'sflow.flow_sample.input_interface', '-e', 'sflow.flow_sample.output_interface',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const res = { rates: [] as number[], frameLengths: [] as number[], inputs: [] as number[], outputs: [] as number[] };
  const list = (s: string | undefined) => (s ? s.split(',').filter((x) => x !== '') : []);
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const [rates, lengths, inputs, outputs] = line.split('|');
    res.rates.push(...list(rates).map(Number));
    res.frameLengths.push(...list(lengths).map(Number));
    res.inputs.push(...list(inputs).map(ifOf));
    res.outputs.push(...list(outputs).map(ifOf));
  }
  return res;
}

const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.pcap')).sort() : [];
const tshark = hasTshark();

t.test('akvorado sFlow captures', { skip: files.length === 0 ? `${DIR} not present` : false }, async (t) => {
  t.same(files, Object.keys(BY_HAND).sort(), 'every capture has its expected numbers');
  for (const file of files) {
    t.test(file, async (t) => {
      const { log, warnings } = captureWarnings();
      const d = createSflowDecoder({ log });
      const records: FlowRecord[] = [];
      const datagrams = readPcapUdp(path.join(DIR, file)).filter((u) => u.dstPort === SFLOW_PORT);
      t.ok(datagrams.length > 0);
      for (const u of datagrams) records.push(...d.decode(u.payload, u.src, 1_700_000_000_000));
      t.equal(d.counters().decodeErrors, 0, 'no decode errors');
      t.same(warnings, [], 'nothing logged');
      const expected = BY_HAND[file];
      t.same(records.map((r) => [r.samplingRate, r.bytes / r.samplingRate, r.inputIf, r.outputIf]), expected.samples, 'rate, frame length, interfaces per sample');
      t.same(records.map((r) => r.packets), expected.samples.map((s) => s[0]), 'packets = rate');
      t.ok(records.every((r) => r.exporter === expected.agent), 'exporter = agent address');
      t.equal(d.counters().flowsDecoded, expected.samples.length);

      if (!tshark) return;
      const ts = tsharkSamples(path.join(DIR, file));
      t.same(records.map((r) => r.samplingRate), ts.rates, 'sampling rates as tshark reads them');
      t.same(records.map((r) => r.bytes / r.samplingRate), ts.frameLengths, 'frame lengths as tshark reads them');
      // tshark gives the compact samples' input/output words only (expanded ones as other fields).
      if (ts.inputs.length === records.length) {
        t.same(records.map((r) => r.inputIf), ts.inputs, 'input ifIndex as tshark reads it');
        t.same(records.map((r) => r.outputIf), ts.outputs, 'output ifIndex as tshark reads it');
      }
    });
  }
});

t.test('tshark cross-check', { skip: tshark ? false : 'tshark not installed: the hand-read numbers above were asserted' }, async (t) => {
  t.pass('ran');
});
