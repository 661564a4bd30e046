// @ts-check
// Tiny DOM helpers: build elements without innerHTML (API strings are never parsed as HTML).

/**
 * What h() and friends append: nodes as they are, strings and numbers as text; null, undefined and
 * false are skipped (so `cond ? node : null` reads naturally); arrays are flattened.
 * @typedef {Node | string | number | boolean | null | undefined} ChildItem
 * @typedef {ChildItem | readonly (ChildItem | readonly (ChildItem | readonly ChildItem[])[])[]} Child
 */

/**
 * Attributes of h(): `class`, `dataset` (object), `value` (set as the property), on<event> (a listener;
 * its event is `any` so handlers read e.target.elements etc. without casts), anything else as an
 * attribute (true → present and empty; null, undefined and false → absent).
 * @typedef {{ [name: string]: any } & Partial<Record<EventAttr, ((e: any) => unknown) | null | false | undefined>>} Attrs
 */

/**
 * The events pages listen to through h()'s attributes: named so their handlers' parameter is typed.
 * @typedef {'onclick' | 'onsubmit' | 'onchange' | 'oninput' | 'onkeydown' | 'onkeyup' | 'onfocus' | 'onblur' | 'ontoggle' | 'onreset' | 'ondblclick' | 'onmouseover' | 'onmouseout' | 'onpointerdown' | 'onpointerup' | 'onwheel' | 'onscroll' | 'onload' | 'onerror'} EventAttr
 */

/**
 * A column of table(): its label (also each cell's data-label for the stacked phone layout), the cell's
 * content, right-aligned numbers, and an optional tooltip per row.
 * @template T
 * @typedef {object} Column
 * @property {string} label
 * @property {(row: T) => Child} value
 * @property {boolean} [num]
 * @property {(row: T) => string | undefined} [title]
 */

/**
 * h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', childNode)
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') /** @type {HTMLInputElement} */ (el).value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * A table that stays readable on phones (each cell carries its column label for the stacked layout).
 * columns: [{label, value: row => string|Node, num?: true (right-aligned), title?: row => string}]
 * scroll: long tables scroll inside a box with a sticky header instead of stretching the page.
 * @template T
 * @param {Column<T>[]} columns
 * @param {readonly T[] | null | undefined} rows
 * @param {{ empty?: string, id?: string, rowAttrs?: (row: T) => Attrs, scroll?: boolean }} [options]
 * @returns {HTMLElement}
 */
export function table(columns, rows, { empty = 'Nothing here yet.', id, rowAttrs, scroll = false } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'empty', id }, empty);
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : undefined, scope: 'col' }, c.label))));
  const body = h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c) => {
    const v = c.value(r);
    return h('td', { class: c.num ? 'num' : undefined, 'data-label': c.label, title: c.title ? c.title(r) : undefined }, v === undefined || v === null || v === '' ? '—' : v);
  }))));
  return h('div', { class: scroll ? 'table-wrap table-scroll' : 'table-wrap' }, h('table', { id }, head, body));
}

/**
 * A titled block of a page.
 * @param {string | null | undefined} title
 * @param {...Child} children
 */
export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

/**
 * How an API failure looks on every page: the hub's code and message, or "not available".
 * @param {unknown} error usually an ApiError (api.js); anything else shows as its text
 * @param {string} [what] what was being loaded or changed, for "this hub does not offer … yet"
 */
export function errorBox(error, what = 'this data') {
  const err = /** @type {{ notAvailable?: boolean, path?: string, code?: string, message?: string, status?: number } | null | undefined} */ (error);
  if (err && err.notAvailable) {
    return h('div', { class: 'notice unavailable', role: 'status' },
      h('strong', {}, 'Not available: '), `this hub does not offer ${what} yet`, err.path ? h('code', {}, ` ${err.path}`) : null);
  }
  const code = err && err.code ? err.code : 'ERROR';
  const msg = err && err.message ? err.message : String(err);
  return h('div', { class: 'notice error', role: 'alert' }, h('strong', {}, `${code}: `), msg,
    err && err.status ? h('span', { class: 'muted' }, ` (HTTP ${err.status})`) : null);
}

/** @param {string} [text] */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading muted' }, text);
}

/**
 * A small label, coloured by kind.
 * @param {string} text
 * @param {'ok' | 'warn' | 'bad' | 'muted'} [kind]
 */
export function badge(text, kind = 'muted') {
  return h('span', { class: `badge ${kind}` }, text);
}

/**
 * Run an async loader into a container, replacing it with the result or the error box.
 * @param {HTMLElement} container
 * @param {string} what
 * @param {() => Promise<Node | (Node | null | undefined | false)[] | null | undefined>} loader
 */
export async function fill(container, what, loader) {
  container.replaceChildren(loading());
  try {
    const node = await loader();
    container.replaceChildren(...[node].flat().filter((n) => n !== null && n !== undefined && n !== false));
  } catch (err) {
    container.replaceChildren(errorBox(err, what));
  }
}

/**
 * replaceChildren that skips null/false (the DOM's own would print them as text "null").
 * @param {Element} el
 * @param {...(Node | string | null | undefined | false | (Node | string | null | undefined | false)[])} children
 */
export function setChildren(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter(/** @returns {c is Node | string} */ (c) => c !== null && c !== undefined && c !== false));
}
