// @ts-check
// CSV of what a page shows, made in the browser from the data the page already holds: the file is
// exactly the table and chart on screen (same range, same page, same search), with no second query
// that could answer differently. RFC 4180 quoting; CRLF line ends (what spreadsheets expect).

/**
 * One CSV cell. A text cell starting with = + - @ (or a tab / CR) is prefixed with ' so a
 * spreadsheet never runs a subject label as a formula (OWASP "CSV injection"); numbers stay numbers.
 * @param {unknown} v
 */
export function csvCell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** @param {string[]} header @param {unknown[][]} rows */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Hand the text to the browser as a file download (a blob: URL, no server round trip). */
/** @param {string} filename @param {string} text */
export function downloadCsv(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
