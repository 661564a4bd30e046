/**
 * Invoice PDFs' pure parts: readable dates with their zone, and text the standard font can draw
 * (hub/pdf/render-pdf.ts). The PDFs themselves, parsed back to text: credit-notes.test.ts.
 */
import t from 'tap';
import { readableDate, readableInstant, shortDate } from '../../../hub/commerce/invoice-pdf';
import { pdfSafeText } from '../../../hub/pdf/render-pdf';

t.test('dates: spelled out, UTC named', async (t) => {
  t.equal(readableDate('2026-05-15'), '15 May 2026');
  t.equal(shortDate('2026-09-01'), '1 Sep 2026');
  t.equal(readableInstant(Date.UTC(2026, 4, 1, 0, 5)), '1 May 2026, 00:05 UTC');
  t.equal(readableInstant(Date.UTC(2026, 11, 31, 23, 59, 59)), '31 December 2026, 23:59 UTC');
});

t.test('only WinAnsi reaches the font: accents kept where it has them, dropped where a base letter remains, "?" otherwise', async (t) => {
  t.equal(pdfSafeText('Réseau Zürich – €5 … “ok”'), 'Réseau Zürich – €5 … “ok”', 'Latin-1 and the Windows-1252 extras stay');
  t.equal(pdfSafeText('Łódź Kraków Ostrava-Poruba ő'), '?ódz Kraków Ostrava-Poruba o');
  t.equal(pdfSafeText('Провайдер 東京 ≤ 😀'), '????????? ?? ? ?', 'one "?" per character, astral ones too');
  t.equal(pdfSafeText('a\tb\r\nc\u0007'), 'a b\nc?', 'tabs become spaces, CR dropped, newlines kept, controls refused');
});
