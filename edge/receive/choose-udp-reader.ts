/**
 * Which UDP reader the edge uses (config udpReader / FLOWBILL_EDGE_UDP_READER): 'native' (the C
 * addon, native-udp-reader.ts), 'node' (dgram, udp-receiver.ts), or 'auto': native when it is
 * built and usable here, else node with one info line saying why. 'native' when it cannot be used
 * is a start-up error: the operator asked for it.
 */
import { isIP } from 'node:net';
import type { Logger } from '../../common/logger';
import { loadNativeUdpReader, nativeUdpReaderUnavailable, createNativeUdpReceiver, type NativeUdpReader } from './native-udp-reader';
import { createUdpReceiver, type UdpReceiver, type UdpReceiverOptions } from './udp-receiver';

export type UdpReaderMode = 'auto' | 'native' | 'node';

let explained = false;

/** The native reader when the mode and this machine allow it; undefined = use Node's dgram. */
export function chooseNativeUdpReader(mode: UdpReaderMode, host: string, log: Logger): NativeUdpReader | undefined {
  if (mode === 'node') return undefined;
  // The addon binds numeric addresses only; dgram resolves names.
  const why = isIP(host) === 0 ? `udpHost ${JSON.stringify(host)} is not a numeric address` : undefined;
  const reader = why === undefined ? loadNativeUdpReader() : undefined;
  if (reader !== undefined) return reader;
  const reason = why ?? nativeUdpReaderUnavailable() ?? 'unknown';
  if (mode === 'native') throw new Error(`config udpReader=native: ${reason}`);
  if (!explained) {
    explained = true;
    log.info({ reason }, `reading UDP with Node's dgram: ${reason}`);
  }
  return undefined;
}

/**
 * A UdpReceiver of the configured kind for the single-thread edge (FLOWBILL_EDGE_THREADS=1);
 * native drains its ring on this thread. Here 'auto' means node: the native reader is used on one
 * thread only when asked for ('native'), because the single-thread kill -9 recovery test
 * (test/edge/kill-9-recovery.test.ts, THREADS=1) failed 2 of 3 runs with it on a loaded box and the
 * cause is not found yet; the threaded edge (the default) uses native for 'auto'.
 */
export function createConfiguredUdpReceiver(mode: UdpReaderMode, opts: UdpReceiverOptions & { ringBytes: number }): UdpReceiver {
  const reader = chooseNativeUdpReader(mode === 'auto' ? 'node' : mode, opts.host, opts.log);
  if (reader === undefined) return createUdpReceiver(opts);
  return createNativeUdpReceiver({ reader, host: opts.host, port: opts.port, recvBufferBytes: opts.recvBufferBytes, ringBytes: opts.ringBytes, log: opts.log, onDatagram: opts.onDatagram });
}
