// @ts-check
// Subjects: what the operator bills. IP groups (prefixes and ranges, checked by the hub's one grammar,
// common/ip-prefix.ts, with a preview of overlaps and live addresses matched) and, per exporter, its
// interfaces with names and the selection. Deleting a group or deselecting an interface bills that
// subject's current cycle at once (hub/edges/subject-management.ts): the page says so before it asks.
// API: hub/edges/edge-routes.ts (ip-groups, interface-selection) and hub/edges/subject-routes.ts
// (interfaces, interface-names, ip-groups/preview); shapes in common/api/subjects.ts.
import { h, table, section, badge, errorBox, setChildren } from '../dom.js';
import { formatBps } from '../format.js';

/** @typedef {import('../../common/api/subjects').IpGroupView} IpGroupView */
/** @typedef {import('../../common/api/subjects').IpGroupsResponse} IpGroupsResponse */
/** @typedef {import('../../common/api/subjects').IpGroupPreviewResponse} IpGroupPreviewResponse */
/** @typedef {import('../../common/api/subjects').InterfacesResponse} InterfacesResponse */
/** @typedef {import('../../common/api/subjects').ExporterInterfacesView} ExporterInterfacesView */
/** @typedef {import('../../common/api/subjects').InterfaceView} InterfaceView */

const WRITERS = ['super_admin', 'operator_admin'];

/** "192.0.2.0/24, 198.51.100.7-198.51.100.9" or one per line → entries as typed. */
function entriesOf(/** @type {string} */ text) {
  return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

/** @param {any} ctx the router's page context (web/app.js) */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'subjects-message' });
  const groupsBox = h('div', { id: 'ip-groups' });
  const interfacesBox = h('div', { id: 'interfaces' });

  /** @param {Node} node */
  const say = (node) => { message.replaceChildren(node); };
  const done = (/** @type {string} */ text) => say(h('div', { class: 'notice success', role: 'status' }, text));

  // ---- IP groups ---------------------------------------------------------------------------------
  /** @type {IpGroupView[]} */
  let groups = [];
  /** The group being edited (PUT), or null for a new one (POST). */
  /** @type {string | null} */
  let editing = null;
  const nameInput = /** @type {HTMLInputElement} */ (h('input', { id: 'ipg-name', name: 'name', maxlength: '64', autocomplete: 'off', required: true }));
  const prefixesInput = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'ipg-prefixes', name: 'prefixes', rows: '4', spellcheck: 'false',
    placeholder: '192.0.2.0/24\n2001:db8::/48\n198.51.100.10-198.51.100.20' }));
  const fieldError = h('div', { id: 'ipg-prefixes-error', class: 'field-error', role: 'alert' });
  const preview = h('div', { id: 'ipg-preview' });
  const formTitle = h('h3', { id: 'ipg-form-title' }, 'Add an IP group');

  function groupForm() {
    const form = h('form', { id: 'ipg-form', class: 'subjects-form', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); void save(); } },
      formTitle,
      h('label', { for: 'ipg-name' }, 'Name (1-64 of A-Z a-z 0-9 _ . -)'), nameInput,
      h('label', { for: 'ipg-prefixes' }, 'Prefixes and ranges, one per line'), prefixesInput, fieldError,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', id: 'ipg-preview-button', onclick: () => void runPreview() }, 'Preview'),
        h('button', { type: 'submit', id: 'ipg-save' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', id: 'ipg-cancel', onclick: () => resetForm() }, 'Cancel')),
      preview);
    return form;
  }

  function resetForm() {
    editing = null;
    nameInput.value = '';
    nameInput.disabled = false;
    prefixesInput.value = '';
    formTitle.textContent = 'Add an IP group';
    fieldError.replaceChildren();
    preview.replaceChildren();
  }

  function edit(/** @type {IpGroupView} */ g) {
    editing = g.name;
    nameInput.value = g.name;
    nameInput.disabled = true; // the name is the subject id: renaming would be a new subject
    prefixesInput.value = g.prefixes.join('\n');
    formTitle.textContent = `Edit ${g.name}`;
    fieldError.replaceChildren();
    preview.replaceChildren();
    prefixesInput.focus();
  }

  /** @returns {Promise<IpGroupPreviewResponse | undefined>} */
  async function runPreview() {
    fieldError.replaceChildren();
    /** @type {IpGroupPreviewResponse} */
    let res;
    try {
      res = await ctx.api(ctx.opPath('/ip-groups/preview'), { method: 'POST', body: { name: editing ?? nameInput.value.trim(), prefixes: entriesOf(prefixesInput.value) } });
    } catch (err) { fieldError.replaceChildren(errorBox(err, 'the IP group preview')); return undefined; }
    const bad = res.entries.filter((e) => e.error !== undefined);
    if (res.entries.length === 0) fieldError.replaceChildren('Enter at least one prefix or range.');
    else if (bad.length) fieldError.replaceChildren(h('ul', {}, bad.map((e) => h('li', {}, e.error ?? ''))));
    setChildren(preview,
      h('h4', {}, 'Preview'),
      res.overlaps.length
        ? h('div', { class: 'notice warn', id: 'ipg-overlaps' }, h('strong', {}, 'Overlaps: '), 'these addresses would be counted in more than one group.',
          h('ul', {}, res.overlaps.map((o) => h('li', {}, `${o.entry} overlaps ${o.groupEntry} of ${o.group === (editing ?? nameInput.value.trim()) ? 'this group' : o.group}`))))
        : h('p', { class: 'muted', id: 'ipg-overlaps' }, 'No overlap with other groups.'),
      res.addressesLookedAt === 0
        ? h('p', { class: 'muted', id: 'ipg-matched' }, 'No live flows right now to match against.')
        : table([
          { label: 'Live address matched', value: (r) => r.address },
          { label: 'Rate now', value: (r) => formatBps(r.bitsPerSec), num: true },
          { label: 'In groups today', value: (r) => r.currentGroups.join(', ') || 'none' },
        ], res.matchedAddresses, { id: 'ipg-matched', empty: `None of the ${res.addressesLookedAt} addresses in live flows falls in these entries.` }));
    return res;
  }

  async function save() {
    const name = editing ?? nameInput.value.trim();
    const checked = await runPreview();
    if (!checked || !checked.valid) return;
    const prefixes = checked.entries.map((e) => e.canonical);
    try {
      if (editing) await ctx.api(ctx.opPath(`/ip-groups/${encodeURIComponent(name)}`), { method: 'PUT', body: { prefixes } });
      else await ctx.api(ctx.opPath('/ip-groups'), { method: 'POST', body: { name, prefixes } });
    } catch (err) { fieldError.replaceChildren(errorBox(err, 'IP groups')); return; }
    done(`IP group ${name} saved; the edges are told now.`);
    resetForm();
    await loadGroups();
  }

  async function remove(/** @type {IpGroupView} */ g) {
    if (!confirm(`Delete IP group ${g.name}? Its current cycle is billed now, up to this moment, and its traffic stops being collected.`)) return;
    try {
      await ctx.api(ctx.opPath(`/ip-groups/${encodeURIComponent(g.name)}`), { method: 'DELETE' });
      done(`IP group ${g.name} deleted; its current cycle was handed to billing.`);
    } catch (err) { say(errorBox(err, 'IP groups')); }
    if (editing === g.name) resetForm();
    await loadGroups();
  }

  async function loadGroups() {
    try {
      /** @type {IpGroupsResponse} */
      const res = await ctx.api(ctx.opPath('/ip-groups'));
      groups = res.ipGroups.slice().sort((a, b) => a.name.localeCompare(b.name));
    } catch (err) { groupsBox.replaceChildren(errorBox(err, 'IP groups')); return; }
    if (!ctx.isCurrent()) return;
    groupsBox.replaceChildren(table([
      { label: 'Group', value: (g) => h('strong', {}, g.name) },
      { label: 'Prefixes and ranges', value: (g) => h('span', { class: 'prefix-list' }, g.prefixes.join(', ')) },
      ...(canWrite ? [{ label: 'Actions', value: (/** @type {IpGroupView} */ g) => h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', 'data-edit': g.name, onclick: () => edit(g) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', 'data-delete': g.name, onclick: () => void remove(g) }, 'Delete')) }] : []),
    ], groups, { id: 'ip-groups-table', empty: 'No IP groups yet.' }));
  }

  // ---- Interfaces ---------------------------------------------------------------------------------
  /** @type {InterfacesResponse | null} */
  let interfaces = null;

  async function saveSelection(/** @type {boolean} */ allInterfaces, /** @type {{exporter: string, ifIndex: number}[]} */ list, /** @type {string[]} */ dropped) {
    if (dropped.length && !confirm(`Stop billing ${dropped.join(', ')}? The current cycle of each is billed now, up to this moment.`)) return false;
    try {
      const res = await ctx.api(ctx.opPath('/interface-selection'), { method: 'PUT', body: { allInterfaces, interfaces: list } });
      done(res.unmanagedSubjectIds.length ? `Selection saved; billed now: ${res.unmanagedSubjectIds.join(', ')}.` : 'Selection saved; the edges are told now.');
    } catch (err) { say(errorBox(err, 'the interface selection')); }
    await loadInterfaces();
    return true;
  }

  const labelOf = (/** @type {string} */ exporter, /** @type {InterfaceView} */ i) => `${exporter} ifIndex ${i.ifIndex}${i.name ? ` (${i.name})` : ''}`;

  function selectionControls(/** @type {InterfacesResponse} */ res) {
    const all = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'if-all', checked: res.allInterfaces, disabled: !canWrite }));
    all.addEventListener('change', async () => {
      // "All" → a list: start from every interface shown, so nothing stops being billed by this click.
      const every = res.exporters.flatMap((x) => x.interfaces.map((i) => ({ exporter: x.address, ifIndex: i.ifIndex })));
      const ok = await saveSelection(all.checked, all.checked ? [] : every, []);
      if (!ok) all.checked = !all.checked;
    });
    return h('label', { class: 'checkbox-line' }, all, ' Bill every interface of every exporter (new ones too)');
  }

  function interfaceRow(/** @type {InterfacesResponse} */ res, /** @type {ExporterInterfacesView} */ x, /** @type {InterfaceView} */ i) {
    const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', class: 'if-select', 'data-if': `${x.address}/${i.ifIndex}`,
      'aria-label': `Bill ${labelOf(x.address, i)}`, checked: i.selected, disabled: !canWrite || res.allInterfaces }));
    box.addEventListener('change', async () => {
      const now = res.exporters.flatMap((e) => e.interfaces.filter((f) => f.selected).map((f) => ({ exporter: e.address, ifIndex: f.ifIndex })))
        .filter((r) => !(r.exporter === x.address && r.ifIndex === i.ifIndex));
      if (box.checked) now.push({ exporter: x.address, ifIndex: i.ifIndex });
      const ok = await saveSelection(false, now, box.checked ? [] : [labelOf(x.address, i)]);
      if (!ok) box.checked = !box.checked;
    });
    return box;
  }

  function nameCell(/** @type {ExporterInterfacesView} */ x, /** @type {InterfaceView} */ i) {
    const shown = h('span', { class: 'if-name', 'data-if-name': `${x.address}/${i.ifIndex}` }, i.name || 'unnamed');
    if (!canWrite) return shown;
    const input = /** @type {HTMLInputElement} */ (h('input', { class: 'if-name-input', maxlength: '64', value: i.operatorName,
      placeholder: i.exporterName || i.exporterDescription || 'name', 'aria-label': `Name of ${x.address} ifIndex ${i.ifIndex}`, 'data-if-name-input': `${x.address}/${i.ifIndex}` }));
    const err = h('span', { class: 'field-error' });
    const form = h('form', { class: 'inline-form', onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      try {
        await ctx.api(ctx.opPath('/interface-names'), { method: 'PUT', body: { exporter: x.address, ifIndex: i.ifIndex, name: input.value } });
      } catch (e2) { err.replaceChildren(errorBox(e2, 'interface names')); return; }
      done(`Name of ${x.address} ifIndex ${i.ifIndex} saved.`);
      await loadInterfaces();
    } }, input, h('button', { type: 'submit', class: 'secondary' }, 'Save'), err);
    return h('div', { class: 'if-name-cell' }, shown, form);
  }

  async function loadInterfaces() {
    try {
      interfaces = /** @type {InterfacesResponse} */ (await ctx.api(ctx.opPath('/interfaces')));
    } catch (err) { interfacesBox.replaceChildren(errorBox(err, 'interfaces')); return; }
    if (!ctx.isCurrent()) return;
    const res = interfaces;
    setChildren(interfacesBox,
      selectionControls(res),
      res.exporters.length === 0 ? h('p', { class: 'empty' }, 'No exporter reported yet: point a router at an edge and its interfaces show here.') : null,
      res.exporters.map((x) => h('div', { class: 'exporter-block', 'data-exporter': x.address },
        h('h3', {}, x.address, ' ', x.protocol ? badge(x.protocol, 'muted') : null, x.edgeNames.length ? h('span', { class: 'muted' }, ` via ${x.edgeNames.join(', ')}`) : badge('not reported now', 'warn')),
        table([
          { label: 'Billed', value: (i) => interfaceRow(res, x, i) },
          { label: 'ifIndex', value: (i) => String(i.ifIndex), num: true },
          { label: 'Name', value: (i) => nameCell(x, i) },
          { label: 'From the exporter', value: (i) => [i.exporterName, i.exporterDescription].filter(Boolean).join(' · ') || 'no name sent' },
          { label: 'Traffic', value: (i) => (i.hasTraffic ? badge('yes', 'ok') : badge('none stored', 'muted')) },
        ], x.interfaces, { empty: 'No interface seen yet.' }))));
  }

  ctx.el.append(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Subjects'), canWrite ? null : badge('read-only', 'muted')),
    h('p', { class: 'muted' }, 'Billing subjects: IP groups and the interfaces of each exporter. Removing one bills its current cycle now.'),
    message,
    section('IP groups', groupsBox, canWrite ? groupForm() : null),
    section('Interfaces', interfacesBox),
  );
  await Promise.all([loadGroups(), loadInterfaces()]);
}
