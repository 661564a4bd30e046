import t from 'tap';
import { createSecretBox } from '../../../hub/access/secret-box';
import { keyRingFromHex } from '../../../hub/security/key-ring';
import { renderMergeTemplate } from '../../../hub/access/merge-template';
import { ipEntrySpan, normalizeAddressOrSubnet as normalizeCustomerIp, parseIpEntry, spanContains } from '../../../common/ip-prefix';
import { resolveVisibleSubjects } from '../../../hub/access/customer-scope';
import type { AccessRecord } from '../../../hub/access/access-model';

const KEY = 'ab'.repeat(32);
/** A stored IP group entry as the customer scope reads it: its span, or undefined when unparsable. */
function parseGroupEntry(entry: string) {
  const r = parseIpEntry(entry, { hostBits: 'clear' });
  return r.ok ? ipEntrySpan(r.value) : undefined;
}

t.test('secret box: AES-256-GCM round trip, fresh IV each time, tamper and wrong login detected', async (t) => {
  const box = createSecretBox(keyRingFromHex(KEY));
  const a = box.seal('hunter2-long', 'login/alice');
  const b = box.seal('hunter2-long', 'login/alice');
  t.not(a.ivB64, b.ivB64, 'a random IV per encryption');
  t.not(a.ciphertextB64, b.ciphertextB64);
  t.equal(Buffer.from(a.ivB64, 'base64').length, 12);
  t.equal(Buffer.from(a.tagB64, 'base64').length, 16);
  t.notOk(JSON.stringify(a).includes('hunter2'));
  t.equal(box.open(a, 'login/alice'), 'hunter2-long');
  t.throws(() => box.open(a, 'login/bob'), 'bound to its login');
  const flipped = Buffer.from(a.ciphertextB64, 'base64'); flipped[0] ^= 1;
  t.throws(() => box.open({ ...a, ciphertextB64: flipped.toString('base64') }, 'login/alice'), 'tampering fails the tag');
  t.throws(() => createSecretBox(keyRingFromHex('cd'.repeat(32))).open(a, 'login/alice'), 'another key fails');
  t.throws(() => keyRingFromHex('short'), /64 hex/);
});

t.test('merge template: variables, if/else, nesting, unknowns verbatim, HTML escaping', async (t) => {
  const v = { netflow_enabled: true, netflow_username: 'alice', netflow_password: '', netflow_group: 'a<b>&"c"' };
  t.equal(renderMergeTemplate('{if $netflow_enabled}User {$netflow_username}{/if}.', v), 'User alice.');
  t.equal(renderMergeTemplate('{if $netflow_password}pw {$netflow_password}{else}no pw{/if}', v), 'no pw');
  t.equal(renderMergeTemplate('{if $netflow_enabled}[{if $netflow_password}P{else}-{/if}]{/if}', v), '[-]', 'nested');
  t.equal(renderMergeTemplate('{if $netflow_enabled}x{/if}', { netflow_enabled: false }), '');
  t.equal(renderMergeTemplate('{$netflow_pasword} {$netflow_username}', v), '{$netflow_pasword} alice', 'unknown variable left verbatim');
  t.equal(renderMergeTemplate('{if $nope}x{else}y{/if}', v), 'y', 'unknown variable is false in {if}');
  t.equal(renderMergeTemplate('<b>{$netflow_group}</b>', v, { html: true }), '<b>a&lt;b&gt;&amp;&quot;c&quot;</b>');
  t.equal(renderMergeTemplate('{$netflow_group}', v), 'a<b>&"c"', 'text mode does not escape');
  t.equal(renderMergeTemplate('{ not a tag } {$} {if}', v), '{ not a tag } {$} {if}');
  for (const bad of ['{if $a}x', 'x{/if}', '{else}', '{if $a}{else}{else}{/if}']) {
    t.throws(() => renderMergeTemplate(bad, v), { code: 'VALIDATION_FAILED' }, bad);
  }
});

t.test('customer IP: addresses and routed subnets normalized; host bits refused', async (t) => {
  t.match(normalizeCustomerIp('203.0.113.0/28'), { ok: true, text: '203.0.113.0/28' });
  t.match(normalizeCustomerIp(' 198.51.100.7 '), { ok: true, text: '198.51.100.7' });
  t.match(normalizeCustomerIp('2001:DB8:1:0::/48'), { ok: true, text: '2001:db8:1::/48' });
  t.match(normalizeCustomerIp('::ffff:192.0.2.1'), { ok: true, text: '192.0.2.1' });
  t.match(normalizeCustomerIp('203.0.113.5/28'), { ok: false, error: /host bits.*203\.0\.113\.0\/28/ });
  for (const bad of ['10', '0x0a.0.0.1', '300.1.1.1', '10.0.0.0/33', '10.0.0.0/', 'example.com', '']) t.match(normalizeCustomerIp(bad), { ok: false }, bad);
  const subnet = normalizeCustomerIp('192.0.2.0/24');
  if (!subnet.ok) throw new Error('unreachable');
  t.ok(spanContains(subnet.span, parseGroupEntry('192.0.2.10-192.0.2.20')!));
  t.ok(spanContains(subnet.span, parseGroupEntry('192.0.2.128/25')!));
  t.notOk(spanContains(subnet.span, parseGroupEntry('192.0.2.0/23')!));
  t.notOk(spanContains(subnet.span, parseGroupEntry('2001:db8::/64')!));
  t.equal(parseGroupEntry('192.0.2.20-192.0.2.10'), undefined);
});

t.test('visible subjects: union of enabled records; subnet sees only groups inside it', async (t) => {
  const base = { operatorId: 'isp1', clientId: 'c1', username: 'alice', notes: '', showPasswordInClientArea: false, createdAtMs: 0, updatedAtMs: 0 };
  const records: AccessRecord[] = [
    { ...base, recordId: 'r1', serviceId: 's1', enabled: true, group: { kind: 'ip_group', value: 'alice-vps' } },
    { ...base, recordId: 'r2', serviceId: 's2', enabled: true, group: { kind: 'interface', value: '10.0.0.1/7' } },
    { ...base, recordId: 'r3', serviceId: 's3', enabled: true, group: { kind: 'customer_label', value: 'ACME' } },
    { ...base, recordId: 'r4', serviceId: 's4', enabled: true, group: { kind: 'billing_group', value: 'bg1' } },
    { ...base, recordId: 'r5', serviceId: 's5', enabled: true, ipAddress: '203.0.113.0/28' },
    { ...base, recordId: 'r6', serviceId: 's6', enabled: false, group: { kind: 'ip_group', value: 'disabled-one' } },
  ];
  const visible = resolveVisibleSubjects(records, {
    subjects: [
      { subjectId: 'if:10.0.0.2/3', kind: 'interface', label: 'ACME', firstSeenSec: 0, lastSeenSec: 0 },
      { subjectId: 'if:10.0.0.2/4', kind: 'interface', label: 'ACME Ltd', firstSeenSec: 0, lastSeenSec: 0 },
    ],
    ipGroups: [
      { name: 'inside', prefixes: ['203.0.113.0/29', '203.0.113.9-203.0.113.10'] },
      { name: 'wider', prefixes: ['203.0.113.0/24'] },
      { name: 'straddles', prefixes: ['203.0.113.0/29', '198.51.100.0/29'] },
      { name: 'empty', prefixes: [] },
      { name: 'junk', prefixes: ['not-an-ip'] },
    ],
    billingGroups: new Map([['bg1', ['ipg:bg-a', 'if:10.9.9.9/1']]]),
  });
  t.same([...visible].sort(), ['if:10.0.0.1/7', 'if:10.0.0.2/3', 'if:10.9.9.9/1', 'ipg:alice-vps', 'ipg:bg-a', 'ipg:inside']);
});
