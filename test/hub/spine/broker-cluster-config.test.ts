import t from 'tap';
import { loadHubConfig } from '../../../hub/config';

t.test('external broker cluster keys: defaults that work for one hub, bad values fail naming the key', async (t) => {
  const c = loadHubConfig({});
  t.match(c.hubId, /^[A-Za-z0-9_.-]+-\d+$/, 'hub id: hostname-pid');
  t.equal(c.mqttShareGroup, 'flowbill-hubs');
  t.equal(c.mqttSessionExpirySec, 60);
  t.equal(c.mqttDynsec, false);
  const on = loadHubConfig({ FLOWBILL_HUB_ID: 'hub-fra-1', FLOWBILL_MQTT_SHARE_GROUP: 'billing', FLOWBILL_MQTT_URL: 'mqtt://a:b@broker:1883', FLOWBILL_MQTT_DYNSEC: 'on', FLOWBILL_MQTT_SESSION_EXPIRY_SEC: '300' });
  t.same([on.hubId, on.mqttShareGroup, on.mqttDynsec, on.mqttSessionExpirySec], ['hub-fra-1', 'billing', true, 300]);
  t.throws(() => loadHubConfig({ FLOWBILL_HUB_ID: 'hub/1' }), /FLOWBILL_HUB_ID/);
  t.throws(() => loadHubConfig({ FLOWBILL_MQTT_SHARE_GROUP: 'a/+' }), /FLOWBILL_MQTT_SHARE_GROUP/, 'a group with a topic separator or wildcard would change the filter');
  t.throws(() => loadHubConfig({ FLOWBILL_MQTT_DYNSEC: 'yes' }), /FLOWBILL_MQTT_DYNSEC=yes: expected on or off/);
  t.throws(() => loadHubConfig({ FLOWBILL_MQTT_DYNSEC: 'on' }), /only with FLOWBILL_MQTT_URL/);
  t.throws(() => loadHubConfig({ FLOWBILL_MQTT_SESSION_EXPIRY_SEC: '0' }), /FLOWBILL_MQTT_SESSION_EXPIRY_SEC/);
});
