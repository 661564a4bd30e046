// @ts-check
// Change password: POST /api/v1/me/password {currentPassword, newPassword} → {ok, endedSessions}
// (hub/identity/password-routes.ts). Operator users and super_admins only: customers' passwords are
// their operator's access records. When the hub says a change is required (a generated one-time
// password, or a reset by the operator's admin) the shell shows this page and nothing else
// (ctx.mustChangePassword); after the change it goes on to the role's home page.
import { h, errorBox } from '../dom.js';

/** @typedef {import('../../common/api/session').PasswordChangeRequest} PasswordChangeRequest */
/** @typedef {import('../../common/api/session').PasswordChangeResponse} PasswordChangeResponse */

/** The hub's rule (hub/identity/password-policy.ts), checked here too so the form can say it first. */
const MIN_CHARS = 12;

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const forced = !!ctx.mustChangePassword;
  const message = h('div', { id: 'password-message' });
  /**
   * @param {string} id
   * @param {string} label
   * @param {string} autocomplete
   * @param {import('../dom.js').Attrs} [extra]
   */
  const field = (id, label, autocomplete, extra = {}) => {
    const input = h('input', { id, name: id, type: 'password', autocomplete, required: true, ...extra });
    return { input, label: h('label', {}, label, input) };
  };
  const current = field('current-password', forced ? 'One-time password' : 'Current password', 'current-password', { autofocus: true });
  const next = field('new-password', `New password (at least ${MIN_CHARS} characters)`, 'new-password');
  const again = field('new-password-again', 'New password again', 'new-password');
  const submit = h('button', { type: 'submit', id: 'password-submit' }, forced ? 'Set my password' : 'Change password');

  const form = h('form', { class: 'stack', id: 'password-form', onsubmit: async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const problem = next.input.value.length < MIN_CHARS ? `The new password needs at least ${MIN_CHARS} characters.`
      : next.input.value !== again.input.value ? 'The two new passwords differ.'
      : next.input.value === current.input.value ? 'The new password must differ from the current one.'
      : null;
    if (problem) {
      message.replaceChildren(h('div', { class: 'notice error', role: 'alert' }, problem));
      return;
    }
    submit.disabled = true;
    try {
      /** @type {PasswordChangeRequest} */
      const body = { currentPassword: current.input.value, newPassword: next.input.value };
      /** @type {PasswordChangeResponse} */
      const res = await ctx.api('/me/password', { method: 'POST', body });
      form.reset();
      const ended = res.endedSessions ? ` ${res.endedSessions === 1 ? 'One other session was' : `${res.endedSessions} other sessions were`} logged out.` : '';
      if (forced) {
        await ctx.passwordChanged(); // the shell lifts the lock and opens the role's home page
      } else {
        message.replaceChildren(h('div', { class: 'notice success', role: 'status' }, `Password changed.${ended}`));
      }
    } catch (err) {
      message.replaceChildren(errorBox(err, 'password changes'));
      current.input.select();
    } finally {
      submit.disabled = false;
    }
  } }, current.label, next.label, again.label, h('div', {}, submit));

  const intro = forced
    ? h('p', {}, 'Your password was generated for one use (at the hub\'s first start, or by a reset). ',
      'Choose your own to continue; until then the hub answers nothing else.')
    : h('p', { class: 'muted' }, 'Your other sessions (other browsers, API tokens) are logged out when the password changes.');
  ctx.el.append(h('div', { class: forced ? 'card login' : 'card' },
    h('h1', {}, forced ? 'Choose your password' : 'Change password'), intro, message, form));
  current.input.focus();
}
