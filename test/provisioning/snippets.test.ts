import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../provisioning/cli';
import { createTestIo } from './helpers/test-io';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

// Golden files: a change in a snippet must be a reviewed change of the fixture.
for (const [args, fixture] of [
  [['--edge-ip', '192.0.2.10'], 'snippets-192.0.2.10-2055.txt'],
  [['--edge-ip', '2001:DB8::10', '--port', '9995'], 'snippets-2001-db8--10-9995.txt'],
] as const) {
  t.test(`snippets ${args.join(' ')} match ${fixture}`, async (t) => {
    const io = createTestIo();
    t.equal(await runCli(['snippets', ...args], io), 0);
    t.equal(`${io.out.join('\n')}\n`, await fs.readFile(path.join(fixtures, fixture), 'utf8'));
  });
}

t.test('snippets point every vendor at the edge and keep the billing-relevant timers', async (t) => {
  const io = createTestIo();
  await runCli(['snippets', '--edge-ip', '198.51.100.7', '--port', '4739'], io);
  const text = io.out.join('\n');
  t.match(text, /^ destination 198\.51\.100\.7$/m, 'Cisco exporter');
  t.match(text, /^ transport udp 4739$/m);
  t.match(text, /^ export-protocol netflow-v9$/m);
  t.match(text, /^ template data timeout 60$/m);
  t.match(text, /^ cache timeout active 60$/m);
  t.match(text, /^ ip flow monitor FLOWBILL-V4 input$/m);
  t.match(text, /flow-server 198\.51\.100\.7 port 4739$/m, 'Juniper');
  t.match(text, /inline-jflow source-address/);
  t.match(text, /template-refresh-rate seconds 60$/m);
  t.match(text, /^add dst-address=198\.51\.100\.7 port=4739 version=ipfix/m, 'MikroTik');
  t.match(text, /^set enabled=yes/m);
});

t.test('snippets refuse a bad address or port', async (t) => {
  for (const args of [['--edge-ip', 'pop-fra.example'], ['--edge-ip', '10'], ['--edge-ip', '192.0.2.1', '--port', '0'], []]) {
    const io = createTestIo();
    t.equal(await runCli(['snippets', ...args], io), 2, args.join(' '));
    t.ok(io.errs.length > 0);
  }
});
