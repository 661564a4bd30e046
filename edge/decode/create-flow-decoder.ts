import { createOnceLogger, type Logger } from '../../common/logger';
import { decodeDataSet } from './data-set';
import {
  createExporterState, type DecodeSession, type DomainState, type ExporterState, type MessageTime, type PendingSet,
} from './decoder-state';
import type { DecoderCounters, ExporterDecodeStats, FlowDecoder } from './flow-decoder';
import type { FlowRecord } from './flow-record';
import { decodeIpfix } from './ipfix';
import { decodeNetflowV5 } from './netflow-v5';
import { decodeNetflowV9 } from './netflow-v9';
import { compileTemplate, sameDefinition, type TemplateField } from './template-plan';

export interface FlowDecoderOptions {
  log: Logger;
  /** How long data that came before its template is held, in ms (default 30 s). */
  pendingHoldMs?: number;
  /** At most this many held data sets per exporter; the oldest is dropped (and counted) beyond it. */
  maxPendingPerExporter?: number;
}

/** RFC 3954 / RFC 7011: at most (65535 - 4 - 4) / 4 field specifiers fit in one template. */
const MAX_FIELDS = 16_384;

/**
 * The FlowDecoder for NetFlow v5, v9 and IPFIX, dispatching on the version field.
 *
 * Zero-copy: FlowRecord.srcIp/dstIp are subarray views into `datagram`. The caller must not reuse or
 * overwrite a datagram buffer while the records decoded from it are alive (Node's dgram hands every
 * message a fresh Buffer, so a socket adapter passing `msg` straight through is fine). Held data sets
 * are copied, so their records never point into a later datagram.
 *
 * All of an exporter's datagrams must go through the same instance: templates, samplers and
 * sequence numbers are kept here per (exporter, version, source id / observation domain).
 */
export function createFlowDecoder(opts: FlowDecoderOptions): FlowDecoder {
  const log = opts.log;
  const once = createOnceLogger(log);
  const pendingHoldMs = opts.pendingHoldMs ?? 30_000;
  const maxPending = opts.maxPendingPerExporter ?? 512;
  const exporters = new Map<string, ExporterState>();
  const counters: DecoderCounters = {
    packetsReceived: 0, flowsDecoded: 0, decodeErrors: 0, templateMisses: 0, pendingExpired: 0, sequenceGaps: 0,
  };

  function releasePending(exporter: ExporterState, domain: DomainState, templateId: number, out: FlowRecord[]): void {
    const pending = exporter.pending;
    if (pending.length === 0) return;
    const plan = domain.templates.get(templateId);
    if (plan === undefined) return;
    let kept = 0;
    for (let i = 0; i < pending.length; i++) {
      const held = pending[i];
      if (held.domainKey === domain.key && held.templateId === templateId) {
        const body = held.body;
        const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
        decodeDataSet(session, exporter, domain, plan, body, view, 0, body.length, held.time, out);
      } else {
        pending[kept++] = held;
      }
    }
    pending.length = kept;
  }

  const session: DecodeSession = {
    counters,
    scratchOffsets: new Int32Array(MAX_FIELDS),
    scratchLengths: new Int32Array(MAX_FIELDS),
    fail(exporter, kind, detail) {
      counters.decodeErrors++;
      once.warnOnce(`${exporter}|${kind}`, { exporter, kind, ...detail }, `flow decode error: ${kind}`);
    },
    storeTemplate(exporter, domain, templateId, fields: TemplateField[], isOptions, definition, out) {
      const existing = domain.templates.get(templateId);
      // Routers resend templates every few seconds: an identical refresh keeps the compiled plan;
      // a different one (router restart, reconfiguration) replaces it.
      if (existing === undefined || existing.isOptions !== isOptions || !sameDefinition(existing, definition)) {
        const plan = compileTemplate(templateId, fields, isOptions, definition.slice());
        if (plan.recordLength === 0) {
          session.fail(exporter.address, 'bad-template', { templateId, reason: 'zero record length' });
          return;
        }
        domain.templates.set(templateId, plan);
      }
      releasePending(exporter, domain, templateId, out);
    },
    withdrawTemplate(_exporter, domain, templateId) {
      domain.templates.delete(templateId);
    },
    hold(exporter, domain, templateId, bytes, start, end, time: MessageTime, receivedAtMs) {
      once.warnOnce(`${exporter.address}|template-miss`,
        { exporter: exporter.address, observationDomain: domain.observationDomain, templateId },
        'flow data before its template: holding it until the template arrives');
      if (maxPending <= 0) {
        counters.pendingExpired++;
        return;
      }
      if (exporter.pending.length >= maxPending) {
        exporter.pending.shift();
        counters.pendingExpired++;
        once.warnOnce(`${exporter.address}|pending-overflow`, { exporter: exporter.address, maxPending },
          'too much flow data waiting for templates: dropping the oldest');
      }
      const held: PendingSet = { domainKey: domain.key, templateId, body: bytes.slice(start, end), time, receivedAtMs };
      exporter.pending.push(held);
    },
  };

  // decodeTransient's arena: the returned array and the v5 records in it are reused on every call.
  const transientOut: FlowRecord[] = [];
  const transientPool: FlowRecord[] = [];

  function decodeInto(input: Uint8Array, exporterAddress: string, receivedAtMs: number, out: FlowRecord[], pool: FlowRecord[] | undefined): FlowRecord[] {
      counters.packetsReceived++;
      // A plain Uint8Array view of a Buffer: Buffer#subarray builds a FastBuffer (two per record in
      // the profile, ~15% of ingest), and Buffer#slice is a view where we mean a copy (held sets).
      const datagram = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      if (datagram.length < 4) {
        session.fail(exporterAddress, 'truncated-header', { length: datagram.length });
        return out;
      }
      const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
      const version = view.getUint16(0);
      if (version !== 5 && version !== 9 && version !== 10) {
        session.fail(exporterAddress, 'unknown-version', { version });
        return out;
      }
      let exporter = exporters.get(exporterAddress);
      if (exporter === undefined) {
        exporter = createExporterState(exporterAddress);
        exporters.set(exporterAddress, exporter);
      }
      exporter.packets++;
      exporter.lastSeenMs = receivedAtMs;
      exporter.version = version;

      try {
        if (version === 5) decodeNetflowV5(session, exporter, datagram, view, out, pool);
        else if (version === 9) decodeNetflowV9(session, exporter, datagram, view, receivedAtMs, out);
        else decodeIpfix(session, exporter, datagram, view, receivedAtMs, out);
      } catch (err) {
        // Every read is bounds-checked above; this is the last line that keeps "never throws" true
        // if one was missed. The records decoded so far are still returned.
        session.fail(exporterAddress, 'internal', { version, error: String(err) });
      }

      let bytes = 0;
      for (let i = 0; i < out.length; i++) bytes += out[i].bytes;
      exporter.flows += out.length;
      exporter.bytes += bytes;
      counters.flowsDecoded += out.length;
      return out;
  }

  return {
    decode(input, exporterAddress, receivedAtMs) {
      return decodeInto(input, exporterAddress, receivedAtMs, [], undefined);
    },

    decodeTransient(input, exporterAddress, receivedAtMs) {
      transientOut.length = 0;
      return decodeInto(input, exporterAddress, receivedAtMs, transientOut, transientPool);
    },

    expire(nowMs) {
      for (const exporter of exporters.values()) {
        const pending = exporter.pending;
        if (pending.length === 0) continue;
        let kept = 0;
        for (let i = 0; i < pending.length; i++) {
          const held = pending[i];
          if (nowMs - held.receivedAtMs > pendingHoldMs) counters.pendingExpired++;
          else pending[kept++] = held;
        }
        pending.length = kept;
      }
    },

    counters() {
      return { ...counters };
    },

    exporters(): ExporterDecodeStats[] {
      const stats: ExporterDecodeStats[] = [];
      for (const e of exporters.values()) {
        let templates = 0;
        for (const domain of e.domains.values()) templates += domain.templates.size;
        stats.push({
          address: e.address, netflowVersion: e.version, packets: e.packets, flows: e.flows, bytes: e.bytes,
          sequenceGaps: e.sequenceGaps, lastSeenMs: e.lastSeenMs, templates, samplingRate: e.samplingRate,
        });
      }
      return stats;
    },
  };
}
