import { Duplex } from 'node:stream';
import type net from 'node:net';
import { createFrameScanner, type FrameProblem } from './mqtt-frame-scanner';

/** setTimeout/clearTimeout, injectable so tests need not sleep (the MQTT.js `{set, clear}` idea). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const realTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export interface ConnectionLimits {
  /** Largest remaining length of any packet before authentication succeeded (the CONNECT). */
  maxConnectBytes: number;
  /** A socket that has not authenticated within this time is closed. */
  connectTimeoutMs: number;
}

export interface GuardedConnection {
  /** What aedes reads from and writes to (aedes' `handle(conn)` takes any duplex stream). */
  conn: Duplex;
  remoteAddress: string;
  /** Authentication succeeded: stop the connect timer; later packets may be up to maxPacketBytes. */
  authenticated(maxPacketBytes: number): void;
}

/**
 * Sits between a TCP socket and aedes and enforces what aedes 1.x cannot: a maximum packet size
 * (checked on each fixed header as bytes arrive, so an announced 200 MB packet is refused from
 * its first bytes instead of being buffered) and a deadline for authenticating. On a violation
 * the socket is destroyed and onViolation is told why; nothing of the offending packet reaches aedes.
 * Inbound backpressure is kept: when aedes stops reading, the socket is paused.
 */
export function guardConnection(socket: net.Socket, limits: ConnectionLimits, timers: Timers, onViolation: (why: FrameProblem | { kind: 'connect-timeout' }, authenticated: boolean) => void): GuardedConnection {
  let authenticatedLimit: number | undefined;
  const scanner = createFrameScanner(() => authenticatedLimit ?? limits.maxConnectBytes);
  const remoteAddress = socket.remoteAddress ?? 'unknown';
  let timer: unknown = timers.setTimeout(() => {
    timer = undefined;
    onViolation({ kind: 'connect-timeout' }, false);
    conn.destroy();
  }, limits.connectTimeoutMs);
  const stopTimer = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };

  const conn = new Duplex({
    allowHalfOpen: false,
    read() { socket.resume(); },
    write(chunk: Buffer, _enc, cb) {
      if (socket.destroyed) return cb();
      if (socket.write(chunk)) cb();
      else socket.once('drain', () => cb());
    },
    final(cb) { socket.end(); cb(); },
    destroy(err, cb) {
      stopTimer();
      socket.destroy();
      cb(err);
    },
  });

  socket.on('data', (chunk: Buffer) => {
    if (conn.destroyed) return;
    const problem = scanner.feed(chunk);
    if (problem) {
      onViolation(problem, authenticatedLimit !== undefined);
      conn.destroy();
      return;
    }
    if (!conn.push(chunk)) socket.pause();
  });
  socket.on('end', () => conn.push(null));
  socket.on('error', (err) => conn.destroy(err));
  socket.on('close', () => { if (!conn.destroyed) conn.destroy(); });

  return {
    conn,
    remoteAddress,
    authenticated(maxPacketBytes) {
      stopTimer();
      authenticatedLimit = maxPacketBytes;
    },
  };
}
