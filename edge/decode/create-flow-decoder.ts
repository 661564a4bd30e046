import { createOnceLogger, type Logger } from '../../common/logger';
import { decodeDataSet } from './data-set';
import {
  createDomainState, createExporterState, domainKeyOf, pendingKey,
  type DecodeSession, type DomainState, type ExporterState, type MessageTime, type PendingSet, type TemplateSlot,
} from './decoder-state';
import type { DecoderCounters, ExporterDecodeStats, FlowDecoder } from './flow-decoder';
import { decodeIpfix } from './ipfix';
import { decodeNetflowV5 } from './netflow-v5';
import { decodeNetflowV9 } from './netflow-v9';
import { createInterfaceNameTable } from './interface-names';
import { createRecencyQueue } from './recency-queue';
import { createRecordOutput, finishTransient, type RecordOutput } from './record-output';
import { compileTemplate, MAX_RECORD_LENGTH, sameDefinition, type TemplateField, type TemplatePlan } from './template-plan';

/**
 * Every table the decoder keeps is bounded, because anyone who can send one UDP datagram can make it
 * create state: a spoofed source address is a new exporter, a new v9 source id / IPFIX observation
 * domain a new domain, a template set up to ~8000 new templates. Beyond a cap the least recently used
 * entry goes (counted in tableEvictions): real exporters send every few seconds and stay, spoofed
 * one-offs go first. Worst case with the defaults: ~16 MiB held data + ~128 MiB templates + ~100k
 * domains of a few hundred bytes each + 10k exporters.
 */
export interface FlowDecoderOptions {
  log: Logger;
  /** How long data that came before its template is held, in ms (default 30 s). */
  pendingHoldMs?: number;
  /** At most this many held data sets per exporter; the oldest is dropped (and counted) beyond it. */
  maxPendingPerExporter?: number;
  /** Held data over all exporters, in bytes (default 16 MiB); beyond it held data is dropped (pendingExpired). */
  maxPendingBytes?: number;
  /** Exporters (UDP source addresses) kept (default 10,000); a new one beyond evicts the one silent longest. */
  maxExporters?: number;
  /** expire() forgets an exporter silent this long, with its templates, samplers and held data (default 24 h). */
  exporterIdleMs?: number;
  /** Templates per exporter over all its domains (default 1024); the least recently used/refreshed goes. */
  maxTemplatesPerExporter?: number;
  /** v9 source ids / IPFIX observation domains / v5 engines per exporter (default 256). */
  maxDomainsPerExporter?: number;
  /** Sampler / selector ids remembered per domain from options data (default 1024). */
  maxSamplersPerDomain?: number;
  /** Domains over all exporters (default 100,000). */
  maxDomains?: number;
  /** Estimated heap bytes of compiled templates over all exporters (default 32 MiB: ~38k typical templates). */
  maxTemplateBytes?: number;
  /** Interface names (options data, IE 82/83) kept per exporter (default 1024) and over all (default 8192: they go in the status message). */
  maxInterfaceNamesPerExporter?: number;
  maxInterfaceNames?: number;
}

/** RFC 3954 / RFC 7011: at most (65535 - 4 - 4) / 4 field specifiers fit in one template. */
const MAX_FIELDS = 16_384;

/** Per compiled template besides its per-field arrays: plan, slot, map entry, role table. */
const TEMPLATE_OVERHEAD_BYTES = 512;

function templateSizeBytes(plan: TemplatePlan): number {
  // fieldLengths + offsets (Int32Array each) + the copied wire definition
  return TEMPLATE_OVERHEAD_BYTES + plan.fieldCount * 8 + plan.definition.length;
}

/**
 * The FlowDecoder for NetFlow v5, v9 and IPFIX, dispatching on the version field.
 *
 * decode() is zero-copy: FlowRecord.srcIp/dstIp are subarray views into `datagram`. Its caller must
 * not reuse or overwrite a datagram buffer while the records decoded from it are alive (Node's dgram
 * hands every message a fresh Buffer, so a socket adapter passing `msg` straight through is fine).
 * decodeTransient() copies addresses into records it reuses, so its datagram may be overwritten as
 * soon as it returns (a ring buffer), and its records only live until its next call. Held data sets
 * are copied, so their records never point into a later datagram.
 *
 * All of an exporter's datagrams must go through the same instance: templates, samplers and
 * sequence numbers are kept here per (exporter, version, source id / observation domain).
 */
export function createFlowDecoder(opts: FlowDecoderOptions): FlowDecoder {
  const log = opts.log;
  // The once-logger's rate limit runs on the input's time (receivedAtMs / expire's nowMs): no clock here.
  let nowMs = 0;
  const once = createOnceLogger(log, 10_000, { nowMs: () => nowMs });
  // Table-level lines (evictions, the held-data byte limit) have a fixed handful of keys, so they
  // need no rate limit, and must not be crowded out by a flood of per-exporter lines that has one.
  const onceTable = createOnceLogger(log, 100, { maxLinesPerWindow: Infinity });
  const pendingHoldMs = opts.pendingHoldMs ?? 30_000;
  const maxPending = opts.maxPendingPerExporter ?? 512;
  const maxPendingBytes = opts.maxPendingBytes ?? 16 * 1024 * 1024;
  const maxExporters = Math.max(1, opts.maxExporters ?? 10_000);
  const exporterIdleMs = opts.exporterIdleMs ?? 86_400_000;
  const maxTemplatesPerExporter = Math.max(1, opts.maxTemplatesPerExporter ?? 1024);
  const maxDomainsPerExporter = Math.max(1, opts.maxDomainsPerExporter ?? 256);
  const maxSamplers = Math.max(1, opts.maxSamplersPerDomain ?? 1024);
  const maxDomains = Math.max(1, opts.maxDomains ?? 100_000);
  const maxTemplateBytes = opts.maxTemplateBytes ?? 32 * 1024 * 1024;

  const exporters = new Map<string, ExporterState>();
  const exporterOrder = createRecencyQueue<ExporterState>();
  const domainOrder = createRecencyQueue<DomainState>(); // over all exporters
  const templateOrder = createRecencyQueue<TemplateSlot>(); // over all exporters
  let templateBytes = 0;
  let pendingBytes = 0;
  const counters: DecoderCounters = {
    packetsReceived: 0, flowsDecoded: 0, decodeErrors: 0, templateMisses: 0, pendingExpired: 0, sequenceGaps: 0,
    tableEvictions: 0,
  };

  function evicted(kind: string, detail: Record<string, unknown>): void {
    counters.tableEvictions++;
    onceTable.warnOnce(`table-eviction|${kind}`, { kind, ...detail },
      `flow decoder table full or idle: evicting the least recently used entry (${kind})`);
  }

  const interfaceNames = createInterfaceNameTable({
    maxPerExporter: Math.max(1, opts.maxInterfaceNamesPerExporter ?? 1024),
    maxTotal: Math.max(1, opts.maxInterfaceNames ?? 8192),
    refused: (detail) => evicted('interface-name', detail),
  });

  function dropTemplate(slot: TemplateSlot): void {
    const domain = slot.domain;
    if (domain.templates.get(slot.plan.templateId) === slot) domain.templates.delete(slot.plan.templateId);
    domain.exporter.templateOrder.delete(slot);
    templateOrder.delete(slot);
    templateBytes -= slot.sizeBytes;
  }

  /** Forget a domain and its templates and samplers. Its held data stays until it expires. */
  function dropDomain(domain: DomainState): void {
    for (const slot of domain.templates.values()) dropTemplate(slot);
    const exporter = domain.exporter;
    if (exporter.domains.get(domain.key) === domain) exporter.domains.delete(domain.key);
    exporter.domainOrder.delete(domain);
    domainOrder.delete(domain);
  }

  function dropExporter(exporter: ExporterState): void {
    for (const domain of exporter.domains.values()) dropDomain(domain);
    counters.pendingExpired += exporter.pending.length;
    pendingBytes -= exporter.pendingBytes;
    exporter.pending.length = 0;
    exporter.pendingCounts.clear();
    exporter.pendingBytes = 0;
    exporters.delete(exporter.address);
    exporterOrder.delete(exporter);
    interfaceNames.forget(exporter.address);
  }

  function forgetHeld(exporter: ExporterState, held: PendingSet): void {
    pendingBytes -= held.body.length;
    exporter.pendingBytes -= held.body.length;
    const n = exporter.pendingCounts.get(held.key);
    if (n !== undefined) {
      if (n <= 1) exporter.pendingCounts.delete(held.key);
      else exporter.pendingCounts.set(held.key, n - 1);
    }
  }

  function releasePending(exporter: ExporterState, domain: DomainState, templateId: number, out: RecordOutput): void {
    const pending = exporter.pending;
    if (pending.length === 0) return;
    // A count per (domain, template) so that a template refresh with nothing held for it costs one
    // lookup, not a scan of up to maxPendingPerExporter held sets (a set of 8000 refreshes would be 4M).
    const key = pendingKey(domain.key, templateId);
    if (!exporter.pendingCounts.has(key)) return;
    const slot = domain.templates.get(templateId);
    if (slot === undefined) return;
    exporter.pendingCounts.delete(key);
    let kept = 0;
    for (let i = 0; i < pending.length; i++) {
      const held = pending[i];
      if (held.key === key) {
        pendingBytes -= held.body.length;
        exporter.pendingBytes -= held.body.length;
        const body = held.body;
        const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
        decodeDataSet(session, exporter, domain, slot.plan, body, view, 0, body.length, held.time, out);
      } else {
        pending[kept++] = held;
      }
    }
    pending.length = kept;
  }

  function addTemplate(exporter: ExporterState, domain: DomainState, plan: TemplatePlan): void {
    while (exporter.templateOrder.size >= maxTemplatesPerExporter) {
      const old = exporter.templateOrder.evict();
      if (old === undefined) break;
      dropTemplate(old);
      evicted('template', { exporter: exporter.address, maxTemplatesPerExporter });
    }
    const sizeBytes = templateSizeBytes(plan);
    while (templateBytes + sizeBytes > maxTemplateBytes) {
      const old = templateOrder.evict();
      if (old === undefined) break;
      dropTemplate(old);
      evicted('template-memory', { exporter: old.domain.exporter.address, maxTemplateBytes });
    }
    const slot: TemplateSlot = { plan, domain, sizeBytes, lastUse: session.tick };
    domain.templates.set(plan.templateId, slot);
    exporter.templateOrder.add(slot);
    templateOrder.add(slot);
    templateBytes += sizeBytes;
  }

  const session: DecodeSession = {
    counters,
    tick: 0,
    scratchOffsets: new Int32Array(MAX_FIELDS),
    scratchLengths: new Int32Array(MAX_FIELDS),
    fail(exporter, kind, detail) {
      counters.decodeErrors++;
      once.warnOnce(`${exporter}|${kind}`, { exporter, kind, ...detail }, `flow decode error: ${kind}`);
    },
    domainOf(exporter, version, domainId) {
      const key = domainKeyOf(version, domainId);
      let domain = exporter.domains.get(key);
      if (domain !== undefined) {
        domain.lastUse = session.tick;
        return domain;
      }
      // New domain: the caps are paid here, once per domain, never per datagram.
      while (exporter.domainOrder.size >= maxDomainsPerExporter) {
        const old = exporter.domainOrder.evict();
        if (old === undefined) break;
        dropDomain(old);
        evicted('domain', { exporter: exporter.address, maxDomainsPerExporter });
      }
      while (domainOrder.size >= maxDomains) {
        const old = domainOrder.evict();
        if (old === undefined) break;
        dropDomain(old);
        evicted('domain-total', { exporter: old.exporter.address, maxDomains });
      }
      domain = createDomainState(exporter, version, domainId, session.tick);
      exporter.domains.set(key, domain);
      exporter.domainOrder.add(domain);
      domainOrder.add(domain);
      return domain;
    },
    setSampler(domain, samplerId, rate) {
      const samplers = domain.samplers;
      if (samplers.size >= maxSamplers && !samplers.has(samplerId)) {
        // Oldest announced first (Map order): sampler tables are announced, not used, per record.
        for (const id of samplers.keys()) {
          samplers.delete(id);
          break;
        }
        evicted('sampler', { exporter: domain.exporter.address, maxSamplersPerDomain: maxSamplers });
      }
      samplers.set(samplerId, rate);
    },
    setInterfaceName(exporter, ifIndex, entry) {
      interfaceNames.set(exporter.address, ifIndex, entry);
    },
    storeTemplate(exporter, domain, templateId, fields: TemplateField[], isOptions, definition, out) {
      const existing = domain.templates.get(templateId);
      // Routers resend templates every few seconds: an identical refresh keeps the compiled plan
      // (and counts as a use for the LRU); a different one (router restart, reconfiguration) replaces it.
      if (existing !== undefined && existing.plan.isOptions === isOptions && sameDefinition(existing.plan, definition)) {
        existing.lastUse = session.tick;
      } else {
        if (fields.length > MAX_FIELDS) {
          session.fail(exporter.address, 'bad-template', { templateId, reason: 'too many fields', fieldCount: fields.length });
          return;
        }
        const plan = compileTemplate(templateId, fields, isOptions, definition.slice());
        if (plan.recordLength === 0) {
          session.fail(exporter.address, 'bad-template', { templateId, reason: 'zero record length' });
          return;
        }
        if (plan.recordLength > MAX_RECORD_LENGTH) {
          // No set can carry such a record: caching the template would only cost memory.
          session.fail(exporter.address, 'bad-template', { templateId, reason: 'record longer than any set', recordLength: plan.recordLength });
          return;
        }
        if (plan.badRoleFields > 0) {
          // Counted once per template (not per record): the fields are skipped by their length.
          session.fail(exporter.address, 'bad-field-length', {
            templateId, fields: plan.badRoleFields, fieldId: plan.firstBadRoleField?.id, length: plan.firstBadRoleField?.length,
          });
        }
        if (existing !== undefined) dropTemplate(existing);
        addTemplate(exporter, domain, plan);
      }
      releasePending(exporter, domain, templateId, out);
    },
    withdrawTemplate(_exporter, domain, templateId) {
      const slot = domain.templates.get(templateId);
      if (slot !== undefined) dropTemplate(slot);
    },
    hold(exporter, domain, templateId, bytes, start, end, time: MessageTime, receivedAtMs) {
      once.warnOnce(`${exporter.address}|template-miss`,
        { exporter: exporter.address, observationDomain: domain.observationDomain, templateId },
        'flow data before its template: holding it until the template arrives');
      const size = end - start;
      if (maxPending <= 0 || size > maxPendingBytes) {
        counters.pendingExpired++;
        return;
      }
      const pending = exporter.pending;
      if (pending.length >= maxPending) {
        forgetHeld(exporter, pending.shift()!);
        counters.pendingExpired++;
        once.warnOnce(`${exporter.address}|pending-overflow`, { exporter: exporter.address, maxPending },
          'too much flow data waiting for templates: dropping the oldest');
      }
      // Over all exporters by bytes (10k exporters x 512 sets x 64 KB would be 320 GB): this
      // exporter's oldest make room first; if it holds too little, the new set is not held.
      while (pendingBytes + size > maxPendingBytes && pending.length > 0) {
        forgetHeld(exporter, pending.shift()!);
        counters.pendingExpired++;
      }
      if (pendingBytes + size > maxPendingBytes) {
        counters.pendingExpired++;
        onceTable.warnOnce('pending-bytes-full', { exporter: exporter.address, maxPendingBytes },
          'held flow data is at its byte limit: not holding more until some expires');
        return;
      }
      const key = pendingKey(domain.key, templateId);
      // The version decoders rewrite their MessageTime for every datagram: the held set keeps a copy.
      const heldTime: MessageTime = { exportMs: time.exportMs, uptimeMs: time.uptimeMs };
      const held: PendingSet = { domainKey: domain.key, key, templateId, body: bytes.slice(start, end), time: heldTime, receivedAtMs };
      pending.push(held);
      pendingBytes += size;
      exporter.pendingBytes += size;
      exporter.pendingCounts.set(key, (exporter.pendingCounts.get(key) ?? 0) + 1);
    },
  };

  function exporterFor(address: string): ExporterState {
    let exporter = exporters.get(address);
    if (exporter !== undefined) return exporter;
    // A spoofed source address is a new exporter: beyond the cap the one silent longest goes.
    while (exporters.size >= maxExporters) {
      const old = exporterOrder.evict();
      if (old === undefined) break;
      dropExporter(old);
      evicted('exporter', { exporter: old.address, maxExporters });
    }
    exporter = createExporterState(address, session.tick);
    exporters.set(address, exporter);
    exporterOrder.add(exporter);
    return exporter;
  }

  // decodeTransient's output: the returned array and the records in it are reused on every call.
  const transient = createRecordOutput(true);

  /** Decodes one datagram into `out` (from out.count, which the caller resets), updating counters and state. */
  function decodeInto(input: Uint8Array, exporterAddress: string, receivedAtMs: number, out: RecordOutput): void {
      counters.packetsReceived++;
      session.tick = counters.packetsReceived;
      nowMs = receivedAtMs;
      // A plain Uint8Array view of a Buffer: Buffer#subarray builds a FastBuffer (two per record in
      // the profile, ~15% of ingest), and Buffer#slice is a view where we mean a copy (held sets).
      const datagram = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      if (datagram.length < 4) {
        session.fail(exporterAddress, 'truncated-header', { length: datagram.length });
        return;
      }
      const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
      const version = view.getUint16(0);
      if (version !== 5 && version !== 9 && version !== 10) {
        session.fail(exporterAddress, 'unknown-version', { version });
        return;
      }
      const exporter = exporterFor(exporterAddress);
      exporter.lastUse = session.tick;
      exporter.packets++;
      exporter.lastSeenMs = receivedAtMs;
      exporter.version = version;

      try {
        if (version === 5) decodeNetflowV5(session, exporter, datagram, view, out);
        else if (version === 9) decodeNetflowV9(session, exporter, datagram, view, receivedAtMs, out);
        else decodeIpfix(session, exporter, datagram, view, receivedAtMs, out);
      } catch (err) {
        // Every read is bounds-checked above; this is the last line that keeps "never throws" true
        // if one was missed. The records committed so far are still returned (a record is committed
        // only once it is complete, so out.count never covers a half-filled or previous call's one).
        session.fail(exporterAddress, 'internal', { version, error: String(err) });
      }

      const records = out.records;
      const count = out.count;
      let bytes = 0;
      for (let i = 0; i < count; i++) bytes += records[i].bytes;
      exporter.flows += count;
      exporter.bytes += bytes;
      counters.flowsDecoded += count;
  }

  return {
    decode(input, exporterAddress, receivedAtMs) {
      const out = createRecordOutput(false);
      decodeInto(input, exporterAddress, receivedAtMs, out);
      return out.records; // written by index from 0: exactly out.count records
    },

    decodeTransient(input, exporterAddress, receivedAtMs) {
      transient.count = 0; // the array keeps its length (and backing store) until finishTransient trims it
      decodeInto(input, exporterAddress, receivedAtMs, transient);
      return finishTransient(transient);
    },

    expire(now) {
      nowMs = now;
      for (const exporter of exporters.values()) {
        if (now - exporter.lastSeenMs > exporterIdleMs) {
          // Deleting the current entry while iterating a Map is safe: iteration goes on with the next.
          dropExporter(exporter);
          evicted('idle-exporter', { exporter: exporter.address, exporterIdleMs });
          continue;
        }
        const pending = exporter.pending;
        if (pending.length === 0) continue;
        let kept = 0;
        for (let i = 0; i < pending.length; i++) {
          const held = pending[i];
          if (now - held.receivedAtMs > pendingHoldMs) {
            counters.pendingExpired++;
            forgetHeld(exporter, held);
          } else {
            pending[kept++] = held;
          }
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
        // Every rate the decoder applies is finite and >= 1; the status message must never carry NaN.
        const samplingRate = e.samplingRate >= 1 && e.samplingRate < Infinity ? e.samplingRate : 1;
        stats.push({
          address: e.address, netflowVersion: e.version, packets: e.packets, flows: e.flows, bytes: e.bytes,
          sequenceGaps: e.sequenceGaps, lastSeenMs: e.lastSeenMs, templates, samplingRate,
          interfaceNames: interfaceNames.of(e.address),
        });
      }
      return stats;
    },
  };
}
