// @ts-check
// The operator's users and roles, and its read-only MQTT consumers (consumers.js). operator_admin and
// super_admin add users, disable/enable them and reset a password to a one-time password (shown once;
// the user must change it at next login); operator_readonly sees the lists only.
// API: GET /operators/:op/users → {users}; PATCH …/users/:userId {enabled} (hub/identity/user-admin-routes.ts);
//      POST …/users {username,password,role} (identity-routes.ts); POST …/users/:userId/password → {oneTimePassword}
//      (password-routes.ts).
import { h, table, section, errorBox, badge } from '../dom.js';
import { formatUtcDate } from '../format.js';
import { consumersSection } from './consumers.js';

/** @typedef {import('../../common/api/users').OperatorUserView} OperatorUserView */
/** @typedef {import('../../common/api/users').UsersResponse} UsersResponse */
/** @typedef {import('../../common/api/users').PasswordResetResponse} PasswordResetResponse */

const WRITERS = ['super_admin', 'operator_admin'];
// Read-only first: the safer default for a new account.
const ROLE_LABELS = { operator_readonly: 'read-only (NOC)', operator_admin: 'admin (reads and changes everything)' };

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const canWrite = WRITERS.includes(ctx.principal.role);
  const message = h('div', { id: 'users-message' });
  const list = h('div', { id: 'users' });
  ctx.el.append(h('h1', {}, 'Users'), message, section('Users of this operator', list, canWrite ? addForm() : null), consumersSection(ctx, canWrite));
  const ok = (/** @type {string} */ text) => message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, text));
  const fail = (/** @type {unknown} */ err) => message.replaceChildren(errorBox(err, 'users'));

  function addForm() {
    return h('form', { class: 'inline', id: 'new-user', onsubmit: async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      const form = /** @type {HTMLFormElement} */ (e.target);
      const field = (/** @type {string} */ n) => /** @type {HTMLInputElement} */ (form.elements.namedItem(n)).value;
      const body = { username: field('username').trim(), password: field('password'), role: field('role') };
      try {
        await ctx.api(ctx.opPath('/users'), { method: 'POST', body });
        form.reset();
        ok(`${body.username} added as ${body.role.replace('_', ' ')}. Give them the password you chose; they can change it under "Password".`);
      } catch (err) { fail(err); }
      await load();
    } },
    h('label', {}, 'Username', h('input', { name: 'username', required: true, autocomplete: 'off', maxlength: 128 })),
    h('label', {}, 'Initial password', h('input', { name: 'password', type: 'password', required: true, minlength: 4, autocomplete: 'new-password' })),
    h('label', {}, 'Role', h('select', { name: 'role' }, Object.entries(ROLE_LABELS).map(([v, l]) => h('option', { value: v }, l)))),
    h('button', { type: 'submit' }, 'Add user'));
  }

  /** @param {OperatorUserView} u */
  function actions(u) {
    if (u.userId === ctx.principal.userId) return h('span', { class: 'muted' }, 'you');
    return h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', 'data-action': 'reset', onclick: async () => {
        if (!confirm(`Reset the password of ${u.username}? Their sessions end and they must set a new password at next login.`)) return;
        try {
          /** @type {PasswordResetResponse} */
          const res = await ctx.api(ctx.opPath(`/users/${encodeURIComponent(u.userId)}/password`), { method: 'POST' });
          message.replaceChildren(h('div', { class: 'notice success', role: 'status', id: 'one-time-password' },
            h('strong', {}, `One-time password for ${res.user.username}: `), h('code', {}, res.oneTimePassword),
            h('div', {}, 'Shown only this once. They must change it at next login; their open sessions have ended.')));
        } catch (err) { fail(err); }
        await load();
      } }, 'Reset password'),
      h('button', { type: 'button', class: u.enabled ? 'danger' : 'secondary', 'data-action': u.enabled ? 'disable' : 'enable', onclick: async () => {
        if (u.enabled && !confirm(`Disable ${u.username}? They are logged out now and cannot log in until enabled again.`)) return;
        try {
          await ctx.api(ctx.opPath(`/users/${encodeURIComponent(u.userId)}`), { method: 'PATCH', body: { enabled: !u.enabled } });
          ok(`${u.username} ${u.enabled ? 'disabled: their sessions have ended' : 'enabled'}.`);
        } catch (err) { fail(err); }
        await load();
      } }, u.enabled ? 'Disable' : 'Enable'));
  }

  async function load() {
    try {
      /** @type {UsersResponse} */
      const res = await ctx.api(ctx.opPath('/users'));
      if (!ctx.isCurrent()) return;
      list.replaceChildren(table([
        { label: 'Username', value: (/** @type {OperatorUserView} */ u) => h('code', {}, u.username) },
        { label: 'Role', value: (/** @type {OperatorUserView} */ u) => u.role.replace('_', ' ') },
        { label: 'State', value: (/** @type {OperatorUserView} */ u) => h('span', {}, u.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted'),
          u.mustChangePassword ? h('span', {}, ' ', badge('must change password', 'warn')) : null) },
        { label: 'Since', value: (/** @type {OperatorUserView} */ u) => formatUtcDate(u.createdAtMs) },
        canWrite ? { label: '', value: actions } : null,
      ].filter((c) => c !== null), res.users, { id: 'users-table', empty: 'No users yet.', rowAttrs: (/** @type {OperatorUserView} */ u) => ({ 'data-user': u.username }) }));
    } catch (err) {
      if (ctx.isCurrent()) list.replaceChildren(errorBox(err, 'users'));
    }
  }
  await load();
}
