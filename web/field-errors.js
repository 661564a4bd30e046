// @ts-check
// Validation errors next to the field they are about. The hub's VALIDATION_FAILED messages start with
// the field's API name ("emails: …", "group.value: …"; hub/access/record-input.ts, hub/billing/bill-plan.ts),
// so the page maps that name to its form control and puts the message under it.
import { h } from './dom.js';

/** The API field a hub error is about, from its "field: message" text; undefined when it names none. */
export function apiFieldOf(/** @type {unknown} */ err) {
  const msg = err && typeof err === 'object' && 'message' in err ? String(err.message) : '';
  const m = /^([A-Za-z][A-Za-z0-9_.]*): /.exec(msg);
  return m ? m[1] : undefined;
}

/** Removes every message clearForm/showFieldError put in this form. */
export function clearFieldErrors(/** @type {HTMLFormElement} */ form) {
  for (const el of [...form.querySelectorAll('.field-error')]) el.remove();
  for (const el of [...form.querySelectorAll('[aria-invalid]')]) el.removeAttribute('aria-invalid');
}

/**
 * Puts `message` under the form control named `controlName` (marked aria-invalid) and focuses it.
 * Returns false when the form has no such control (the caller shows the error at the top instead).
 * @param {HTMLFormElement} form
 * @param {string} controlName
 * @param {string} message
 */
export function showFieldError(form, controlName, message) {
  const control = form.elements.namedItem(controlName);
  if (!(control instanceof HTMLElement)) return false;
  control.setAttribute('aria-invalid', 'true');
  const note = h('span', { class: 'field-error', role: 'alert', 'data-field': controlName }, message);
  // Inside the control's label (a grid): the message sits right under the input.
  const label = control.closest('label');
  if (label) label.append(note); else control.after(note);
  control.focus();
  return true;
}

/**
 * A hub error next to its field when `fields` maps the API field to a control name; else false.
 * @param {HTMLFormElement} form
 * @param {unknown} err
 * @param {Record<string, string>} fields API field name → form control name
 */
export function showApiFieldError(form, err, fields) {
  const field = apiFieldOf(err);
  const control = field ? fields[field] : undefined;
  if (!control) return false;
  const msg = err && typeof err === 'object' && 'message' in err ? String(err.message) : '';
  return showFieldError(form, control, msg.slice(msg.indexOf(':') + 1).trim());
}
