// Tiny DOM helpers: build elements without innerHTML (API strings are never parsed as HTML).

/** h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', childNode) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

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

/** A titled block of a page. */
export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

/** How an API failure looks on every page: the hub's code and message, or "not available". */
export function errorBox(err, what = 'this data') {
  if (err && err.notAvailable) {
    return h('div', { class: 'notice unavailable', role: 'status' },
      h('strong', {}, 'Not available: '), `this hub does not offer ${what} yet`, err.path ? h('code', {}, ` ${err.path}`) : null);
  }
  const code = err && err.code ? err.code : 'ERROR';
  const msg = err && err.message ? err.message : String(err);
  return h('div', { class: 'notice error', role: 'alert' }, h('strong', {}, `${code}: `), msg,
    err && err.status ? h('span', { class: 'muted' }, ` (HTTP ${err.status})`) : null);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading muted' }, text);
}

/** A small label, coloured by kind: ok | warn | bad | muted. */
export function badge(text, kind = 'muted') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** Run an async loader into a container, replacing it with the result or the error box. */
export async function fill(container, what, loader) {
  container.replaceChildren(loading());
  try {
    const node = await loader();
    container.replaceChildren(...[node].flat().filter(Boolean));
  } catch (err) {
    container.replaceChildren(errorBox(err, what));
  }
}

/** replaceChildren that skips null/false (the DOM's own would print them as text "null"). */
export function setChildren(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
