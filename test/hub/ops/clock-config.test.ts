import t from 'tap';
import { loadHubConfig } from '../../../hub/config';

t.test('FLOWBILL_CLOCK and FLOWBILL_CLOCK_CONTROL: the system clock by default; control only on a shifted clock', async (t) => {
  t.match(loadHubConfig({}), { clockStartMs: undefined, clockControl: false });
  t.match(loadHubConfig({ FLOWBILL_CLOCK: 'system', FLOWBILL_CLOCK_CONTROL: 'off' }), { clockStartMs: undefined, clockControl: false });
  t.match(loadHubConfig({ FLOWBILL_CLOCK: '2027-01-10T09:00:00Z' }), { clockStartMs: Date.UTC(2027, 0, 10, 9), clockControl: false });
  t.match(loadHubConfig({ FLOWBILL_CLOCK: '2027-01-10T10:00:00+01:00', FLOWBILL_CLOCK_CONTROL: 'on' }), { clockStartMs: Date.UTC(2027, 0, 10, 9), clockControl: true });
  t.throws(() => loadHubConfig({ FLOWBILL_CLOCK: '2027-01-10 09:00' }), /config FLOWBILL_CLOCK=2027-01-10 09:00: expected system or an ISO 8601 instant with its zone/);
  t.throws(() => loadHubConfig({ FLOWBILL_CLOCK: '2027-02-30T00:00:00Z' }), /FLOWBILL_CLOCK/);
  t.throws(() => loadHubConfig({ FLOWBILL_CLOCK_CONTROL: 'on' }), /config FLOWBILL_CLOCK_CONTROL=on: only with FLOWBILL_CLOCK=<instant>/);
  t.throws(() => loadHubConfig({ FLOWBILL_CLOCK: 'system', FLOWBILL_CLOCK_CONTROL: 'on' }), /FLOWBILL_CLOCK_CONTROL=on/);
  t.throws(() => loadHubConfig({ FLOWBILL_CLOCK: '2027-01-10T09:00:00Z', FLOWBILL_CLOCK_CONTROL: 'yes' }), /config FLOWBILL_CLOCK_CONTROL=yes: expected on or off/);
});
