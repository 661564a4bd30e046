import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runCheck } from './check-command';
import { CliError, createProcessIo, type CliIo } from './cli-io';
import { runProvision } from './provision-command';
import { runSnippets } from './snippets-command';
import type { HubAuth } from './hub-client';

export const USAGE = `flowbill provisioning, for field engineers setting up an edge at a POP

  tsx provisioning/cli.ts provision --hub URL --name EDGE_NAME
        (--user U --password P --operator OPERATOR_ID | --token ENROLLMENT_TOKEN)
        [--out /etc/flowbill/edge.json] [--systemd-dir /etc/systemd/system]
        [--udp-port 2055] [--data-dir /var/lib/flowbill-edge] [--force]
      register the edge, write its config (0600) and systemd unit; re-running keeps a valid config

  tsx provisioning/cli.ts check [--config /etc/flowbill/edge.json] [--hub URL] [--wait-seconds 60] [--client-id ID]
      hub reachable, MQTT login, UDP port free, first exporter packet (stop flowbill-edge first)

  tsx provisioning/cli.ts snippets --edge-ip IP [--port 2055]
      exporter configs for Cisco IOS flexible NetFlow, Juniper inline J-Flow IPFIX, MikroTik traffic-flow
`;

function port(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`--${name}: expected a port 1-65535, got "${raw}"`, 2);
  return n;
}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${name} is required\n\n${USAGE}`, 2);
  return v;
}

/** Runs one command; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'provision': {
        const { values } = parseArgs({ args: rest, strict: true, options: {
          hub: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, operator: { type: 'string' },
          token: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, 'systemd-dir': { type: 'string' },
          'udp-port': { type: 'string' }, 'data-dir': { type: 'string' }, force: { type: 'boolean' },
        } });
        const hubUrl = required(values, 'hub');
        try { new URL(hubUrl); } catch { throw new CliError(`--hub: "${hubUrl}" is not a URL`, 2); }
        let auth: HubAuth;
        if (values.token !== undefined) {
          if (values.user !== undefined) throw new CliError('give either --token or --user/--password/--operator, not both', 2);
          auth = { kind: 'token', token: required(values, 'token') };
        } else {
          auth = { kind: 'operator', username: required(values, 'user'), password: required(values, 'password'), operatorId: required(values, 'operator') };
        }
        const name = required(values, 'name');
        if (name.length > 128 || /[\x00-\x1f\x7f]/.test(name)) throw new CliError('--name: 1-128 printable characters', 2);
        return await runProvision(io, {
          hubUrl, auth, name,
          outFile: values.out ?? '/etc/flowbill/edge.json', systemdDir: values['systemd-dir'] ?? '/etc/systemd/system',
          udpPort: port('udp-port', values['udp-port'], 2055), dataDir: values['data-dir'] ?? '/var/lib/flowbill-edge', force: values.force ?? false,
        });
      }
      case 'check': {
        const { values } = parseArgs({ args: rest, strict: true, options: {
          config: { type: 'string' }, hub: { type: 'string' }, 'wait-seconds': { type: 'string' }, 'client-id': { type: 'string' },
        } });
        const wait = values['wait-seconds'] === undefined ? 60 : Number(values['wait-seconds']);
        if (!Number.isInteger(wait) || wait < 0 || wait > 3600) throw new CliError('--wait-seconds: expected 0-3600', 2);
        return await runCheck(io, { configFile: values.config ?? process.env.FLOWBILL_EDGE_CONFIG ?? '/etc/flowbill/edge.json', waitSeconds: wait, clientId: values['client-id'], hubUrl: values.hub });
      }
      case 'snippets': {
        const { values } = parseArgs({ args: rest, strict: true, options: { 'edge-ip': { type: 'string' }, port: { type: 'string' } } });
        return runSnippets(io, { edgeIp: required(values, 'edge-ip'), udpPort: port('port', values.port, 2055) });
      }
      case undefined: case 'help': case '--help': case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
    }
  } catch (err) {
    if (err instanceof CliError) { io.stderr(`error: ${err.message}`); return err.exitCode; }
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`error: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runCli(process.argv.slice(2), createProcessIo()).then((code) => process.exit(code), (err) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
