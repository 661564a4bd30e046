// @ts-check
// App shell: who is logged in, navigation by role, a tiny hash router that loads one module per page.
// Pages export render(ctx) and may register cleanups (timers, charts) with ctx.onCleanup.
import { api, ApiError } from './api.js';
import { h, errorBox, loading } from './dom.js';

/** @typedef {import('../common/api/session').PrincipalView} PrincipalView */
/** @typedef {import('../common/api/session').OperatorView} OperatorView */
/** @typedef {import('../common/api/session').MeResponse} MeResponse */
/** @typedef {import('../common/api/session').OperatorsResponse} OperatorsResponse */
/** @typedef {import('../common/api/session').Role} Role */

/**
 * A route of the hash router.
 * @typedef {object} Route
 * @property {string} pattern "/reports/:billId": ":name" captures a segment into ctx.params
 * @property {string} page module web/pages/<page>.js
 * @property {Role[] | null} roles who may open it; null: anyone (the login page)
 * @property {string} [nav] label in the navigation; none: reached by links only
 * @property {boolean} [needsOperator] works on one operator (tenant): super_admin picks it in the header
 */

/**
 * What a page's render(ctx) gets. Pages type their parameter with
 * `@param {import('../app.js').PageContext} ctx` (from web/pages/).
 * @typedef {object} PageContext
 * @property {HTMLElement} el the page's container (#view), empty when render starts
 * @property {Record<string, string>} params the route's ":name" segments, decoded
 * @property {Record<string, string>} query the hash's ?a=b part
 * @property {PrincipalView} principal who is logged in (null only on the login page)
 * @property {string} operatorId the operator (tenant) the page works on ('' where the route does not need one)
 * @property {(path: string, options?: import('./api.js').ApiOptions) => Promise<any>} api api.js's api(),
 *   plus the switch to the change-password page on 403 PASSWORD_CHANGE_REQUIRED; annotate the result
 *   with the route's shape from common/api
 * @property {boolean} mustChangePassword the hub answers nothing but the password change until it is done
 * @property {() => Promise<void>} passwordChanged the forced change is done: lift the lock, go home
 * @property {(path: string) => void} navigate go to "#<path>"
 * @property {(principal: PrincipalView | null, mustChangePassword?: boolean) => Promise<void>} setPrincipal
 * @property {() => Promise<void>} refreshOperators super_admin's operator list changed: refresh the header
 * @property {(rest: string) => string} opPath "/operators/<id>/rest" for tenant-scoped API routes
 * @property {(fn: () => void) => void} onCleanup run fn when the user leaves the page (timers, charts)
 * @property {() => boolean} isCurrent false once the user has moved to another page: stop touching the DOM
 */

/** @type {Role[]} */
const OPERATOR_ROLES = ['super_admin', 'operator_admin', 'operator_readonly'];
/** @type {Role[]} */
const ADMINS = ['super_admin'];

/**
 * Routes: pattern (":name" captures a segment), page module, roles that may open it, nav label.
 * needsOperator: the page works on one operator (tenant); super_admin picks it in the header.
 * @type {Route[]}
 */
const ROUTES = [
  { pattern: '/login', page: 'login', roles: null },
  { pattern: '/change-password', page: 'change-password', roles: OPERATOR_ROLES },
  { pattern: '/dashboard', page: 'dashboard', roles: OPERATOR_ROLES, nav: 'Dashboard', needsOperator: true },
  { pattern: '/sources', page: 'sources', roles: OPERATOR_ROLES, nav: 'Sources', needsOperator: true },
  { pattern: '/subjects', page: 'subjects', roles: OPERATOR_ROLES, nav: 'Subjects', needsOperator: true },
  { pattern: '/live', page: 'live', roles: OPERATOR_ROLES, nav: 'Live flows', needsOperator: true },
  { pattern: '/reports', page: 'reports', roles: OPERATOR_ROLES, nav: 'Reports', needsOperator: true },
  { pattern: '/reports/:billId', page: 'bill', roles: OPERATOR_ROLES, needsOperator: true },
  { pattern: '/plans', page: 'bill-plans', roles: OPERATOR_ROLES, nav: 'Bill plans', needsOperator: true },
  { pattern: '/customers', page: 'customers', roles: OPERATOR_ROLES, nav: 'Customers', needsOperator: true },
  { pattern: '/customers/:customerId', page: 'customer-detail', roles: OPERATOR_ROLES, needsOperator: true },
  { pattern: '/users', page: 'users', roles: OPERATOR_ROLES, nav: 'Users', needsOperator: true },
  { pattern: '/account', page: 'account', roles: OPERATOR_ROLES, nav: 'Account', needsOperator: true },
  { pattern: '/invoices', page: 'invoices', roles: OPERATOR_ROLES, nav: 'Invoices', needsOperator: true },
  { pattern: '/admin/operators', page: 'admin-operators', roles: ADMINS, nav: 'Operators' },
  { pattern: '/admin/addons', page: 'admin-addons', roles: ADMINS, nav: 'Add-on visibility' },
  { pattern: '/my', page: 'customer-view', roles: ['customer'], nav: 'My traffic' },
];

const OPERATOR_KEY = 'flowbill.operatorId';
/** Titles of pages without a nav label. */
/** @type {Record<string, string>} */
const TITLES = { login: 'Log in', 'change-password': 'Change password' };

/**
 * @type {{ principal: PrincipalView | null, operatorId: string | null, operators: OperatorView[],
 *   mustChangePassword: boolean, cleanups: (() => void)[], renderSeq: number }}
 */
const state = {
  principal: null,
  /** The operator (tenant) the pages work on: the user's own, or super_admin's choice. */
  operatorId: null,
  operators: [],
  /** The hub requires a new password before anything else (GET /me's mustChangePassword): only that page shows. */
  mustChangePassword: false,
  cleanups: [],
  renderSeq: 0,
};

/** @param {PrincipalView | null} principal */
function homeFor(principal) {
  if (!principal) return '/login';
  return principal.role === 'customer' ? '/my' : principal.role === 'super_admin' && !state.operatorId ? '/admin/operators' : '/dashboard';
}

/**
 * @param {string} path
 * @returns {{ route: Route, params: Record<string, string> } | null}
 */
function matchRoute(path) {
  for (const route of ROUTES) {
    const want = route.pattern.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    /** @type {Record<string, string>} */
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
      else if (want[i] !== got[i]) { ok = false; break; }
    }
    if (ok && !want.some((w, i) => w.startsWith(':') && got[i] === '')) return { route, params };
  }
  return null;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(qs || '')) };
}

/** @param {string} path */
export function navigate(path) {
  if (location.hash === `#${path}`) void route();
  else location.hash = `#${path}`;
}

function runCleanups() {
  for (const fn of state.cleanups.splice(0)) {
    try { fn(); } catch { /* a page's cleanup must not block navigation */ }
  }
}

/** @param {string | undefined} currentPattern */
function renderNav(currentPattern) {
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  const session = /** @type {HTMLElement} */ (document.getElementById('session'));
  const p = state.principal;
  if (!p) { nav.replaceChildren(); session.replaceChildren(); return; }
  if (state.mustChangePassword) {
    nav.replaceChildren();
    session.replaceChildren(h('span', { class: 'who', title: p.role }, `${p.username} · ${p.role.replace('_', ' ')}`),
      h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Log out'));
    return;
  }
  const links = ROUTES.filter((r) => r.nav && r.roles && r.roles.includes(p.role))
    .filter((r) => !(r.needsOperator && p.role === 'super_admin' && !state.operatorId))
    .map((r) => h('a', { href: `#${r.pattern}`, class: currentPattern && (currentPattern === r.pattern || currentPattern.startsWith(`${r.pattern}/`)) ? 'active' : undefined }, r.nav));
  nav.replaceChildren(...links);

  const parts = [];
  if (p.role === 'super_admin') {
    const select = h('select', { id: 'operator-select', 'aria-label': 'Operator', onchange: (e) => {
      state.operatorId = e.target.value || null;
      if (state.operatorId) localStorage.setItem(OPERATOR_KEY, state.operatorId); else localStorage.removeItem(OPERATOR_KEY);
      void route();
    } }, h('option', { value: '' }, '— operator —'),
    state.operators.map((o) => h('option', { value: o.operatorId, selected: o.operatorId === state.operatorId }, o.name ? `${o.name} (${o.operatorId})` : o.operatorId)));
    parts.push(select);
  } else if (p.operatorId) {
    parts.push(h('span', { class: 'muted' }, p.operatorId));
  }
  parts.push(h('span', { class: 'who', title: p.role }, `${p.username} · ${p.role.replace('_', ' ')}`));
  if (OPERATOR_ROLES.includes(p.role)) parts.push(h('button', { type: 'button', class: 'link', id: 'change-password-link', onclick: () => navigate('/change-password') }, 'Password'));
  parts.push(h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Log out'));
  session.replaceChildren(...parts);
}

async function loadOperators() {
  try {
    const res = await api('/operators');
    state.operators = res.operators || [];
  } catch {
    state.operators = [];
  }
  const saved = localStorage.getItem(OPERATOR_KEY);
  if (saved && state.operators.some((o) => o.operatorId === saved)) state.operatorId = saved;
  else if (!state.operatorId && state.operators.length === 1) state.operatorId = state.operators[0].operatorId;
}

/**
 * Called by the login page and at start: remember who is logged in and pick the tenant. Without
 * mustChangePassword (the login answer has no such field) GET /me says whether the hub requires a
 * new password first; customers never have to (their password is their operator's access record).
 * @param {PrincipalView | null} principal
 * @param {boolean} [mustChangePassword]
 */
export async function setPrincipal(principal, mustChangePassword) {
  state.principal = principal;
  state.operatorId = principal && principal.role !== 'super_admin' ? principal.operatorId || null : null;
  if (principal && principal.role !== 'customer' && mustChangePassword === undefined) {
    try { mustChangePassword = !!(await api('/session')).mustChangePassword; } catch { mustChangePassword = false; }
  }
  state.mustChangePassword = !!principal && !!mustChangePassword;
  if (principal && principal.role === 'super_admin' && !state.mustChangePassword) await loadOperators();
}

/** The forced change is done: load what the lock kept away, then open the role's home page. */
async function passwordChanged() {
  await setPrincipal(state.principal, false);
  navigate(homeFor(state.principal));
}

/**
 * The pages' API: a 403 PASSWORD_CHANGE_REQUIRED (the user's password was reset while this page was
 * open) switches the shell to the change page.
 * @param {string} path
 * @param {import('./api.js').ApiOptions} [options]
 */
async function pageApi(path, options) {
  try {
    return await api(path, options);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PASSWORD_CHANGE_REQUIRED' && state.principal && !state.mustChangePassword) {
      state.mustChangePassword = true;
      navigate('/change-password');
    }
    throw err;
  }
}

/** The super_admin's operator list changed (created one): refresh the header's selector. */
export async function refreshOperators() {
  if (state.principal && state.principal.role === 'super_admin') { await loadOperators(); renderNav(parseHash().path); }
}

async function logout() {
  try { await api('/logout', { method: 'POST' }); } catch { /* the session is gone either way */ }
  await setPrincipal(null);
  navigate('/login');
}

async function route() {
  const seq = ++state.renderSeq;
  runCleanups();
  const view = /** @type {HTMLElement} */ (document.getElementById('view'));
  const { path, query } = parseHash();
  const p = state.principal;
  if (p && state.mustChangePassword && path !== '/change-password') { navigate('/change-password'); return; }
  const m = matchRoute(path);
  if (!m || (m.route.roles && (!p || !m.route.roles.includes(p.role))) || (m.route.page === 'login' && p)) {
    const home = homeFor(p);
    if (path !== home) { navigate(home); return; }
  }
  const { route: r, params } = /** @type {{ route: Route, params: Record<string, string> }} */ (m || matchRoute(homeFor(p)));
  renderNav(r.pattern);
  document.title = `${r.nav || TITLES[r.page] || r.page} · flowbill`;
  view.dataset.page = r.page;
  if (r.needsOperator && !state.operatorId) {
    view.replaceChildren(h('h1', {}, r.nav || r.page), h('div', { class: 'notice' }, 'Choose an operator in the header to see its data.'));
    return;
  }
  view.replaceChildren(loading());
  /** @type {PageContext} */
  const ctx = {
    el: view,
    params,
    query,
    // Casts: only the login page renders without a principal, and needsOperator routes return above without one.
    principal: /** @type {PrincipalView} */ (p),
    operatorId: /** @type {string} */ (state.operatorId),
    api: pageApi,
    mustChangePassword: state.mustChangePassword,
    passwordChanged,
    navigate,
    setPrincipal,
    refreshOperators,
    /** "/operators/<id>/rest" for tenant-scoped API routes. */
    opPath: (rest) => `/operators/${encodeURIComponent(String(state.operatorId))}${rest}`,
    onCleanup: (fn) => { if (seq === state.renderSeq) state.cleanups.push(fn); else fn(); },
    /** False once the user has moved to another page: async work should stop touching the DOM. */
    isCurrent: () => seq === state.renderSeq,
  };
  try {
    const mod = await import(`./pages/${r.page}.js`);
    if (seq !== state.renderSeq) return;
    view.replaceChildren();
    await mod.render(ctx);
  } catch (err) {
    if (seq === state.renderSeq) view.replaceChildren(h('h1', {}, r.nav || r.page), errorBox(err));
  }
}

async function start() {
  window.addEventListener('hashchange', () => void route());
  window.addEventListener('flowbill:unauthenticated', () => {
    if (state.principal) { state.principal = null; navigate('/login'); }
  });
  try {
    // /session answers 200 logged in or not (principal null): no 401 in the console at every load.
    const me = /** @type {import('../common/api/session').SessionResponse} */ (await api('/session'));
    await setPrincipal(me.principal || null, !!me.mustChangePassword);
  } catch {
    await setPrincipal(null);
  }
  await route();
}

void start();
