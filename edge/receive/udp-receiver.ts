/**
 * UDP adapter: one dgram socket receives every exporter's datagrams in this process, so template,
 * sampling and sequence state of an exporter is never split (NOTES: node 20 has no SO_REUSEPORT;
 * cluster workers sharing a socket would split one exporter's packets). The receive buffer is
 * sized (SO_RCVBUF) to absorb bursts while the event loop does a checkpoint.
 *
 * With the dual-stack '::' socket, IPv4 exporters appear as "::ffff:a.b.c.d"; the address is
 * normalized to "a.b.c.d" so subject ids do not depend on how the socket was bound.
 */
import dgram from 'node:dgram';
import type { Logger } from '../../common/logger';

export type DatagramHandler = (datagram: Buffer, exporter: string) => void;

export interface UdpReceiverOptions {
  host: string;
  port: number;
  recvBufferBytes: number;
  log: Logger;
  onDatagram: DatagramHandler;
}

export interface UdpReceiver {
  /** Binds; resolves with the bound address (port 0 → ephemeral). */
  start(): Promise<{ address: string; port: number; recvBufferBytes: number }>;
  /**
   * Stops reading, but first drains what the kernel already holds: closing a UDP socket discards
   * its receive buffer, so a clean stop right after a burst would lose datagrams the exporter had
   * sent. The socket is closed once nothing arrived for STOP_QUIET_MS, or after STOP_MAX_DRAIN_MS
   * under steady traffic (then what still arrives is the exporter's, as with any stopped collector).
   */
  stop(): Promise<void>;
  stats(): { datagrams: number; handlerErrors: number };
}

const STOP_QUIET_MS = 25;
const STOP_MAX_DRAIN_MS = 500;

export function normalizeExporterAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function createUdpReceiver(opts: UdpReceiverOptions): UdpReceiver {
  let socket: dgram.Socket | undefined;
  let datagrams = 0;
  let lastDatagramAtMs = 0;
  let handlerErrors = 0;
  // rinfo.address is a fresh string per datagram; exporters are few, and consecutive datagrams
  // mostly come from the same one. Reusing the last normalized string saves the slice and lets the
  // decoder's exporter Map hit a string whose hash is already computed.
  let lastRawAddress = '';
  let lastExporter = '';
  return {
    start() {
      const ipv6 = opts.host.includes(':');
      const s = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: false, recvBufferSize: opts.recvBufferBytes });
      socket = s;
      s.on('message', (msg, rinfo) => {
        datagrams++;
        lastDatagramAtMs = performance.now();
        try {
          const raw = rinfo.address;
          if (raw !== lastRawAddress) {
            lastRawAddress = raw;
            lastExporter = normalizeExporterAddress(raw);
          }
          opts.onDatagram(msg, lastExporter);
        } catch (err) {
          // The decoder never throws on bad input; this is a bug, and one datagram must not stop the rest.
          handlerErrors++;
          if (handlerErrors === 1 || handlerErrors % 10_000 === 0) opts.log.error({ err, handlerErrors }, 'datagram handler threw');
        }
      });
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.bind(opts.port, opts.host, () => {
          s.off('error', reject);
          s.on('error', (err) => opts.log.error({ err }, 'UDP socket error'));
          const a = s.address();
          let recvBufferBytes = 0;
          try { recvBufferBytes = s.getRecvBufferSize(); } catch { /* not supported */ }
          if (recvBufferBytes < opts.recvBufferBytes) {
            // Linux reports twice what it grants; warn only if clearly below the request.
            if (recvBufferBytes * 2 < opts.recvBufferBytes) opts.log.warn({ requested: opts.recvBufferBytes, granted: recvBufferBytes }, 'UDP receive buffer smaller than configured (raise net.core.rmem_max)');
          }
          resolve({ address: a.address, port: a.port, recvBufferBytes });
        });
      });
    },
    async stop() {
      const s = socket;
      if (!s) return;
      const drainUntilMs = performance.now() + STOP_MAX_DRAIN_MS;
      // The event loop delivers what the kernel holds while we wait (an adapter: real time is its job).
      for (;;) {
        await new Promise((r) => setTimeout(r, STOP_QUIET_MS));
        const nowMs = performance.now();
        if (nowMs - lastDatagramAtMs >= STOP_QUIET_MS || nowMs >= drainUntilMs) break;
      }
      socket = undefined;
      return new Promise((resolve) => s.close(() => resolve()));
    },
    stats: () => ({ datagrams, handlerErrors }),
  };
}
