// @ts-check
// Login: POST /api/v1/login {username, password, operatorId?} → {token, principal}; the hub sets the
// HttpOnly session cookie, so the page keeps nothing but the principal in memory.
// Organization (operatorId) is optional: a name held in several organizations needs it only when the
// password matches more than one (ORGANIZATION_REQUIRED). A link with ?org=<operatorId> (customers'
// NetFlow link in the welcome mail) fills it in and keeps the field out of the way.
import { h, errorBox } from '../dom.js';

/** @typedef {import('../../common/api/session').LoginRequest} LoginRequest */
/** @typedef {import('../../common/api/session').LoginResponse} LoginResponse */

/** @param {import('../app.js').PageContext} ctx */
function orgFromUrl(ctx) {
  const fromHash = ctx.query && ctx.query.org;
  return fromHash || new URLSearchParams(location.search).get('org') || '';
}

/** @param {import('../app.js').PageContext} ctx */
export async function render(ctx) {
  const presetOrg = orgFromUrl(ctx);
  const message = h('div', { id: 'login-message' });
  const username = /** @type {HTMLInputElement} */ (h('input', { name: 'username', id: 'username', autocomplete: 'username', required: true, autofocus: true }));
  const password = /** @type {HTMLInputElement} */ (h('input', { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true }));
  const organization = /** @type {HTMLInputElement} */ (h('input', { name: 'organization', id: 'organization', autocomplete: 'organization', value: presetOrg, placeholder: 'only if asked' }));
  const organizationLabel = h('label', { id: 'organization-label' }, 'Organization', organization);
  // Through the CSSOM: the stylesheet's label { display: grid } would win over the hidden attribute.
  const showOrganization = (/** @type {boolean} */ show) => { organizationLabel.style.display = show ? '' : 'none'; };
  showOrganization(presetOrg === '');
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', id: 'login-submit' }, 'Log in'));
  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    try {
      /** @type {LoginRequest} */
      const body = { username: username.value, password: password.value };
      const org = organization.value.trim();
      if (org) body.operatorId = org;
      const res = /** @type {LoginResponse} */ (await ctx.api('/login', { method: 'POST', body }));
      await ctx.setPrincipal(res.principal);
      ctx.navigate('/'); // the shell sends each role to its home page
    } catch (err) {
      message.replaceChildren(errorBox(err));
      if (err && /** @type {{ code?: string }} */ (err).code === 'ORGANIZATION_REQUIRED') {
        showOrganization(true);
        organization.focus();
      } else {
        password.select();
      }
    } finally {
      submit.disabled = false;
    }
  } },
  h('label', {}, 'Username', username),
  h('label', {}, 'Password', password),
  organizationLabel,
  h('div', {}, submit));
  ctx.el.append(h('div', { class: 'card login' }, h('h1', {}, 'Log in to flowbill'), message, form,
    h('p', { class: 'muted' }, 'Operators and their customers use the same page; customers see only their own traffic.')));
  username.focus();
}
