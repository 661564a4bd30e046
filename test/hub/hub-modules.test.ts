/**
 * Issue 10: one composition root. createHubModules builds the modules in dependency order and names
 * the ports each implements; createHub wires those very objects (no lookup on the modules).
 */
import t from 'tap';
import { createManualClock } from '../../common/clock';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { silentLogger } from '../../common/logger';
import { loadHubConfig } from '../../hub/config';
import { createHub } from '../../hub/create-hub';
import { createHubModules } from '../../hub/hub-modules';

t.test('modules in dependency order, each port from the module implementing it, wired as given', async (t) => {
  const config = loadHubConfig({}, { httpPort: 0, mqttPort: 0, adminPassword: 'admin-pw', jobsEnabled: false, dataDir: '/nonexistent' });
  let composed: ReturnType<typeof createHubModules> | undefined;
  const hub = createHub({
    config, kv: createMemoryKvStore(), clock: createManualClock(Date.UTC(2026, 10, 3, 12)), log: silentLogger,
    modules: (ctx) => (composed = createHubModules(ctx)),
  });
  const c = composed!;
  t.same(c.modules.map((m) => m.name), ['mail', 'commerce', 'billing', 'access'], 'mail first (the others send through it), access last (it bills through billing)');
  t.same([c.modules[0], c.modules[1], c.modules[2], c.modules[3]], [c.mail, c.commerce, c.billing, c.access], 'by name, the same objects');
  t.equal(c.collectionPolicy, c.commerce.collectionPolicy);
  t.equal(c.customerLoginVerifier, c.access.customerLoginVerifier);
  t.equal(hub.services.policy, c.collectionPolicy, 'ingest consults commerce\'s policy itself, not a lookup');
});
