import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderSystemdUnit } from '../../provisioning/systemd-unit';

const base = { edgeName: 'pop-fra-1', configPath: '/etc/flowbill/edge.json', repoDir: '/opt/flowbill', nodePath: '/usr/bin/node', dataDir: '/var/lib/flowbill-edge', udpPort: 2055 };

t.test('specifiers and spaces are escaped; low ports get exactly one capability', async (t) => {
  const unit = renderSystemdUnit({ ...base, edgeName: 'POP 100% up', repoDir: '/opt/flow bill', udpPort: 514 });
  t.match(unit, /^Description=flowbill edge agent POP 100%% up /m);
  t.match(unit, /^ExecStart=\/usr\/bin\/node --import tsx "\/opt\/flow bill\/edge\/main\.ts"$/m);
  t.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
  t.match(renderSystemdUnit(base), /^CapabilityBoundingSet=$/m);
  t.match(renderSystemdUnit({ ...base, dataDir: '/srv/flowbill' }), /^ReadWritePaths=\/srv\/flowbill$/m);
  t.throws(() => renderSystemdUnit({ ...base, edgeName: 'a\nExecStartPre=/bin/evil' }), /control character/);
});

let hasAnalyze = false;
try { execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' }); hasAnalyze = true; } catch { /* not installed */ }

t.test('systemd-analyze verify finds no unknown keys', { skip: hasAnalyze ? false : 'systemd-analyze not installed' }, async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'flowbill-edge.service');
  fs.writeFileSync(file, renderSystemdUnit({ ...base, nodePath: process.execPath, repoDir: path.resolve('.') }));
  let output = '';
  try {
    output = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    output = String((err as { stderr?: string }).stderr ?? err);
  }
  t.notMatch(output, /Unknown (key|section)|Failed to parse|Invalid/, output);
});
