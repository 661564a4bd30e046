import dgram from 'node:dgram';
import fsp from 'node:fs/promises';
import mqtt from 'mqtt';
import type { CliIo } from '../../../provisioning/cli-io';

/** Real fs (in a tap testdir), real sockets, captured output. */
export function createTestIo(overrides: Partial<CliIo> = {}): CliIo & { out: string[]; errs: string[]; onLine?: (line: string) => void } {
  const out: string[] = [];
  const errs: string[] = [];
  const io: CliIo & { out: string[]; errs: string[]; onLine?: (line: string) => void } = {
    fetch: globalThis.fetch,
    fs: fsp,
    mqttConnect: (url, opts) => mqtt.connect(url, opts),
    createUdpSocket: (type) => dgram.createSocket({ type, ipv6Only: false }),
    stdout: (line) => { out.push(line); io.onLine?.(line); },
    stderr: (line) => { errs.push(line); },
    repoDir: '/opt/flowbill',
    nodePath: '/usr/bin/node',
    out,
    errs,
    ...overrides,
  };
  return io;
}

export { freeUdpPort } from '../../helpers/free-ports';
