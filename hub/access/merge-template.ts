import { hubError } from '../errors';

/**
 * Merge fields for welcome e-mails, in the syntax billing panels (WHMCS/Smarty) use:
 *   {$name}                      the value
 *   {if $name}…{/if}             kept when the value is true or a non-empty string
 *   {if $name}…{else}…{/if}      with an alternative; blocks nest
 * Unknown variables are left verbatim ("{$netflow_pasword}" stays visible, so a typo shows in the
 * preview instead of silently vanishing); an unknown variable in {if} counts as false.
 * In HTML mode values are HTML-escaped; the template's own markup is not touched.
 * A malformed template (unclosed {if}, stray {else} or {/if}) is VALIDATION_FAILED with the offset.
 */
export type MergeValue = string | boolean | undefined;
export type MergeValues = Record<string, MergeValue>;

type Node =
  | { t: 'text'; text: string }
  | { t: 'var'; name: string; raw: string }
  | { t: 'if'; name: string; then: Node[]; else: Node[] };

const TAG = /\{(\$[A-Za-z_][A-Za-z0-9_]*|if \$[A-Za-z_][A-Za-z0-9_]*|else|\/if)\}/g;

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Extract<Node, { t: 'if' }>; inElse: boolean; at: number }[] = [];
  const target = () => {
    const top = stack[stack.length - 1];
    return top ? (top.inElse ? top.node.else : top.node.then) : root;
  };
  let last = 0;
  for (const m of template.matchAll(TAG)) {
    const at = m.index!;
    if (at > last) target().push({ t: 'text', text: template.slice(last, at) });
    last = at + m[0].length;
    const tag = m[1];
    if (tag.startsWith('$')) target().push({ t: 'var', name: tag.slice(1), raw: m[0] });
    else if (tag.startsWith('if ')) {
      const node: Extract<Node, { t: 'if' }> = { t: 'if', name: tag.slice(4), then: [], else: [] };
      target().push(node);
      stack.push({ node, inElse: false, at });
    } else if (tag === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) throw hubError('VALIDATION_FAILED', `template: {else} without an open {if} at offset ${at}`, { field: 'template', offset: at });
      top.inElse = true;
    } else {
      if (!stack.pop()) throw hubError('VALIDATION_FAILED', `template: {/if} without an open {if} at offset ${at}`, { field: 'template', offset: at });
    }
  }
  if (last < template.length) target().push({ t: 'text', text: template.slice(last) });
  const open = stack[stack.length - 1];
  if (open) throw hubError('VALIDATION_FAILED', `template: {if $${open.node.name}} at offset ${open.at} is never closed`, { field: 'template', offset: open.at });
  return root;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const truthy = (v: MergeValue) => v === true || (typeof v === 'string' && v !== '');

export function renderMergeTemplate(template: string, values: MergeValues, opts: { html?: boolean } = {}): string {
  const emit = (nodes: Node[]): string => nodes.map((n) => {
    if (n.t === 'text') return n.text;
    if (n.t === 'if') return emit(truthy(values[n.name]) ? n.then : n.else);
    if (!Object.hasOwn(values, n.name)) return n.raw;
    const v = values[n.name];
    const s = v === undefined || v === false ? '' : v === true ? 'yes' : v;
    return opts.html ? escapeHtml(s) : s;
  }).join('');
  return emit(parse(template));
}
