import dgram from 'node:dgram';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * Everything the provisioning CLI does to the outside world goes through this object, so every
 * command runs in tests against a fake hub, a temp dir, an embedded broker and captured output.
 */
export interface CliIo {
  fetch: typeof fetch;
  fs: {
    readFile(file: string, encoding: 'utf8'): Promise<string>;
    writeFile(file: string, data: string, opts: { mode: number }): Promise<void>;
    rename(from: string, to: string): Promise<void>;
    chmod(file: string, mode: number): Promise<void>;
    mkdir(dir: string, opts: { recursive: true }): Promise<unknown>;
  };
  mqttConnect(url: string, opts: IClientOptions): MqttClient;
  createUdpSocket(type: 'udp4' | 'udp6'): dgram.Socket;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Absolute path of the flowbill checkout the systemd unit runs from. */
  repoDir: string;
  /** Absolute path of the node binary for ExecStart. */
  nodePath: string;
}

export function createProcessIo(): CliIo {
  return {
    fetch: globalThis.fetch,
    fs: fsp,
    mqttConnect: (url, opts) => mqtt.connect(url, opts),
    createUdpSocket: (type) => dgram.createSocket({ type, ipv6Only: false }),
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    repoDir: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
    nodePath: process.execPath,
  };
}

/** A usage or operational error with the exit code the CLI ends with; its message is meant for a person. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Write a file that holds secrets: a fresh 0600 temp file renamed over the target, so no reader sees half a file. */
export async function writeSecretFile(io: CliIo, file: string, data: string): Promise<void> {
  await io.fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await io.fs.writeFile(tmp, data, { mode: 0o600 });
  await io.fs.chmod(tmp, 0o600); // the mode of writeFile is filtered by the umask
  await io.fs.rename(tmp, file);
}
