/**
 * The hub's one pdfmake adapter (bills, invoices, credit notes): PDFKit's built-in standard fonts, so
 * there are no font files to ship or read, and access policies that make pdfmake refuse every URL and
 * every local path except those font names (pdfmake 0.3 asks for both).
 *
 * The standard fonts draw WinAnsi (Windows-1252) only; any other character would come out as garbage.
 * Every text of a document passes through pdfSafeText first: accents outside WinAnsi lose their mark
 * ("ő" → "o"), anything else that cannot be drawn becomes "?" (an operator named in Cyrillic or CJK
 * still gets a readable document, and the JSON API keeps the exact name).
 */
import pdfmake from 'pdfmake';
import type { TDocumentDefinitions } from 'pdfmake/interfaces';

const FONTS = { Helvetica: { normal: 'Helvetica', bold: 'Helvetica-Bold', italics: 'Helvetica-Oblique', bolditalics: 'Helvetica-BoldOblique' } };
const FONT_NAMES = new Set(Object.values(FONTS.Helvetica));

/** Code points above 0xFF that Windows-1252 maps into 0x80-0x9F (PDFKit's WIN_ANSI_MAP). */
const WIN_ANSI_EXTRAS = new Set([
  0x0152, 0x0153, 0x0160, 0x0161, 0x0178, 0x017d, 0x017e, 0x0192, 0x02c6, 0x02dc,
  0x2013, 0x2014, 0x2018, 0x2019, 0x201a, 0x201c, 0x201d, 0x201e, 0x2020, 0x2021, 0x2022, 0x2026, 0x2030, 0x2039, 0x203a, 0x20ac, 0x2122,
]);

function drawable(cp: number): boolean {
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || cp === 0x0a || WIN_ANSI_EXTRAS.has(cp);
}

/** The text with only characters the standard fonts can draw (see the module comment). */
export function pdfSafeText(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (drawable(cp)) out += ch;
    else if (cp === 0x09) out += ' ';
    else if (cp === 0x0d) continue;
    else {
      const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      out += base !== '' && [...base].every((c) => drawable(c.codePointAt(0)!)) ? base : '?';
    }
  }
  return out;
}

// Keys whose strings are not text to draw (svg carries its own markup; the rest are names and options).
const NOT_TEXT = new Set(['svg', 'image', 'font', 'layout', 'style', 'alignment', 'color', 'fillColor', 'widths', 'heights', 'pageSize', 'pageOrientation']);

function safeContent(node: unknown): unknown {
  if (typeof node === 'string') return pdfSafeText(node);
  if (Array.isArray(node)) return node.map(safeContent);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, NOT_TEXT.has(k) ? v : safeContent(v)]));
}

export async function renderPdf(definition: TDocumentDefinitions): Promise<Uint8Array> {
  // pdfmake's module is a singleton; set our fonts and policies right before each document.
  pdfmake.setFonts(FONTS);
  pdfmake.setUrlAccessPolicy(() => false);
  pdfmake.setLocalAccessPolicy((path) => FONT_NAMES.has(path));
  return pdfmake.createPdf(safeContent(definition) as TDocumentDefinitions).getBuffer();
}
