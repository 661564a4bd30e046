// Login: POST /api/v1/login {username, password} → {token, principal}; the hub sets the HttpOnly
// session cookie, so the page keeps nothing but the principal in memory.
import { h, errorBox } from '../dom.js';

export async function render(ctx) {
  const message = h('div', { id: 'login-message' });
  const username = h('input', { name: 'username', id: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', id: 'login-submit' }, 'Log in');
  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    try {
      const res = await ctx.api('/login', { method: 'POST', body: { username: username.value, password: password.value } });
      await ctx.setPrincipal(res.principal);
      ctx.navigate('/'); // the shell sends each role to its home page
    } catch (err) {
      message.replaceChildren(errorBox(err));
      password.select();
    } finally {
      submit.disabled = false;
    }
  } },
  h('label', {}, 'Username', username),
  h('label', {}, 'Password', password),
  h('div', {}, submit));
  ctx.el.append(h('div', { class: 'card login' }, h('h1', {}, 'Log in to flowbill'), message, form,
    h('p', { class: 'muted' }, 'Operators and their customers use the same page; customers see only their own traffic.')));
  username.focus();
}
