/**
 * The invoice lifecycle through the HTTP API of a real hub (every module, manual clock): invoices
 * issued by the monthly job, paid in two parts, a partial credit note, a full credit note voiding
 * another invoice, a paid invoice credited (refund due, refund recorded), idempotent retries, the
 * refusals, both number series gapless across many operations and concurrent requests, and the PDFs'
 * text. The pure rules: invoice-lifecycle.test.ts.
 */
import t from 'tap';
import { PDFParse } from 'pdf-parse';
import { createHubModules } from '../../../hub/hub-modules';
import { startTestHub } from '../spine/hub-harness';

const APRIL_1 = Date.UTC(2026, 3, 1, 9);
const DAY = 86_400_000;
const SELLER = 'Flowbill Networks GmbH';
const PASSWORD = 'correct horse battery';

async function pdfText(raw: ArrayBuffer): Promise<string> {
  return (await new PDFParse({ data: new Uint8Array(raw) }).getText()).text;
}

t.test('invoice lifecycle through the API', async (t) => {
  const hub = await startTestHub({ modules: createHubModules, nowMs: APRIL_1, config: { invoiceSellerName: SELLER } });
  t.teardown(() => hub.close());

  const tokens: Record<string, string | undefined> = {};
  /** Any request, with headers (Idempotency-Key); JSON answers parsed, others as bytes. */
  async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${hub.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const isJson = res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, body: isJson ? await res.json() : undefined, raw: isJson ? undefined : await res.arrayBuffer() };
  }
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, tokens.admin ?? hub.adminToken, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  // Operators and their users; the second operator's name has letters Helvetica cannot draw.
  await ok('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
  await ok('POST', '/operators', { operatorId: 'isp2', name: 'Réseau Łódź Провайдер' });
  for (const [op, username, role] of [['isp1', 'a1', 'operator_admin'], ['isp1', 'r1', 'operator_readonly'], ['isp2', 'a2', 'operator_admin']] as const) {
    await ok('POST', `/operators/${op}/users`, { username, password: PASSWORD, role });
  }
  async function login(): Promise<void> {
    // Sessions expire on the hub's clock: log in again after each jump of the clock.
    tokens.admin = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token;
    for (const [op, u] of [['isp1', 'a1'], ['isp1', 'r1'], ['isp2', 'a2']]) {
      tokens[u] = (await hub.api('POST', '/api/v1/login', { username: u, password: PASSWORD, operatorId: op })).body.token;
    }
  }
  await login();
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(method, path, tokens.admin!, body, headers);

  // isp1: Mid tier (800 customers) from 1 April, the add-on active from 11 April; isp2: Small.
  t.equal((await call('PUT', '/operators/isp1/active-customers', tokens.a1!, { count: 800 })).status, 200);
  hub.clock.advanceMs(10 * DAY);
  await login();
  t.equal((await call('POST', '/operators/isp1/addons/netflow/activate', tokens.a1!)).status, 200);
  await ok('GET', '/operators/isp2/subscription');

  await t.test('the job issues invoices: issued, amount due, due date, parties frozen', async (t) => {
    hub.clock.setMs(Date.UTC(2026, 4, 1, 0, 5));
    await login();
    t.same((await admin('POST', '/admin/jobs/invoices/run')).body.result, ['INV-000001', 'INV-000002']);
    const list = (await call('GET', '/operators/isp1/invoices', tokens.r1!)).body.invoices;
    t.equal(list.length, 1, 'an operator lists its own invoices only');
    const inv = list[0];
    t.match(inv, {
      number: 'INV-000001', status: 'issued', creditState: 'none', overdue: false, totalMinor: 29_900 + 9_967, amountDueMinor: 39_867, paidMinor: 0,
      dueDate: '2026-05-15', seller: { name: SELLER }, buyer: { name: 'ISP One', operatorId: 'isp1' }, issuedAtMs: Date.UTC(2026, 4, 1, 0, 5),
    });
    t.same(inv.lines.map((l: { lineNo: number; kind: string; amountMinor: number; creditableMinor: number }) => [l.lineNo, l.kind, l.amountMinor, l.creditableMinor]),
      [[1, 'subscription', 29_900, 29_900], [2, 'netflow_addon', 9_967, 9_967]]);
    t.equal((await call('GET', '/operators/isp2/invoices/INV-000002', tokens.a2!)).body.invoice.totalMinor, 9_900);
  });

  await t.test('paid in two parts; a retried payment applies once; refusals', async (t) => {
    hub.clock.setMs(Date.UTC(2026, 4, 4, 10));
    await login();
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 1, reference: 'x', date: '2026-05-05' })).body.error.code, 'VALIDATION_FAILED', 'no payment dated tomorrow');
    const p1 = await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 20_000, reference: 'SEPA 0001', date: '2026-05-04' }, { 'idempotency-key': 'pay-1' });
    t.equal(p1.status, 201);
    t.match(p1.body.payment, { kind: 'payment', no: 1, amountMinor: 20_000, date: '2026-05-04', reference: 'SEPA 0001' });
    t.match(p1.body.invoice, { status: 'partially_paid', paidMinor: 20_000, amountDueMinor: 19_867 });

    const again = await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 20_000, reference: 'SEPA 0001', date: '2026-05-04' }, { 'idempotency-key': 'pay-1' });
    t.equal(again.status, 200);
    t.equal(again.headers.get('idempotent-replayed'), 'true');
    t.equal(again.body.payment.no, 1, 'the first result, not a second payment');
    t.equal(again.body.invoice.amountDueMinor, 19_867);
    const reused = await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 19_000, reference: 'SEPA 0001' }, { 'idempotency-key': 'pay-1' });
    t.equal(reused.status, 409);
    t.equal(reused.body.error.code, 'IDEMPOTENCY_KEY_REUSED');

    const over = await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 19_868, reference: 'too much' });
    t.equal(over.status, 409);
    t.equal(over.body.error.code, 'PAYMENT_EXCEEDS_AMOUNT_DUE');
    t.equal(over.body.error.details.amountDueMinor, 19_867);
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: -5, reference: 'x' })).body.error.code, 'VALIDATION_FAILED');
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 5, reference: 'x', date: '2026-05-02' }, { 'idempotency-key': 'a/b' })).body.error.code, 'VALIDATION_FAILED');
    t.equal((await call('POST', '/operators/isp1/invoices/INV-000001/payments', tokens.a1!, { amountMinor: 5, reference: 'x' })).status, 403, 'operator_admin cannot record payments');
    t.equal((await call('POST', '/operators/isp1/invoices/INV-000001/payments', tokens.r1!, { amountMinor: 5, reference: 'x' })).status, 403);
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000002/payments', { amountMinor: 5, reference: 'x' })).status, 404, 'isp2\'s invoice under isp1: 404');
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000999/payments', { amountMinor: 5, reference: 'x' })).status, 404);
    t.equal((await call('GET', '/operators/isp1/invoices/INV-000001', tokens.a2!)).status, 404, 'another operator\'s user: 404');
    t.equal((await call('GET', '/operators/isp2/invoices/INV-000001', tokens.a2!)).status, 404, 'an invoice of another operator under its own path: 404');
  });

  await t.test('a partial credit note: one line, at most what is left of it', async (t) => {
    const cn = await admin('POST', '/operators/isp1/invoices/INV-000001/credit-notes', { reason: 'Add-on outage, 3 days', lines: [{ lineNo: 2, amountMinor: 3_000 }] }, { 'idempotency-key': 'cn-isp1-1' });
    t.equal(cn.status, 201);
    t.match(cn.body.creditNote, { kind: 'credit_note', number: 'CN-000001', creditsInvoice: 'INV-000001', totalMinor: -3_000, voidsInvoice: false, lines: [{ invoiceLineNo: 2, amountMinor: -3_000 }] });
    t.match(cn.body.invoice, { status: 'partially_paid', creditState: 'partial', creditedMinor: 3_000, amountDueMinor: 16_867 });
    t.equal(cn.body.invoice.lines[1].creditableMinor, 6_967);
    const retry = await admin('POST', '/operators/isp1/invoices/INV-000001/credit-notes', { reason: 'Add-on outage, 3 days', lines: [{ lineNo: 2, amountMinor: 3_000 }] }, { 'idempotency-key': 'cn-isp1-1' });
    t.equal(retry.status, 200);
    t.equal(retry.body.creditNote.number, 'CN-000001', 'the retry answers the first credit note');
    t.equal(retry.body.invoice.creditedMinor, 3_000, 'credited once');

    const over = await admin('POST', '/operators/isp1/invoices/INV-000001/credit-notes', { reason: 'x', lines: [{ lineNo: 2, amountMinor: 6_968 }] });
    t.equal(over.status, 409);
    t.equal(over.body.error.code, 'CREDIT_EXCEEDS_CREDITABLE');
    t.same(over.body.error.details, { invoiceNumber: 'INV-000001', lineNo: 2, creditableMinor: 6_967 });
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000001/credit-notes', { reason: 'x', lines: [{ lineNo: 3, amountMinor: 1 }] })).body.error.code, 'VALIDATION_FAILED');
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000001/credit-notes', { reason: 'x' })).body.error.code, 'VALIDATION_FAILED', 'neither full nor lines');
    t.equal((await call('POST', '/operators/isp1/invoices/INV-000001/credit-notes', tokens.a1!, { reason: 'x', full: true })).status, 403);

    const p2 = await admin('POST', '/operators/isp1/invoices/INV-000001/payments', { amountMinor: 16_867, reference: 'SEPA 0002', idempotencyKey: 'pay-2' });
    t.equal(p2.status, 201);
    t.match(p2.body.invoice, { status: 'paid', amountDueMinor: 0, paidMinor: 36_867, creditedMinor: 3_000 });
    t.equal(p2.body.payment.idempotencyKey, 'pay-2', 'the key from the body field');
  });

  await t.test('a full credit note voids another invoice; a void invoice takes nothing more', async (t) => {
    const cn = await admin('POST', '/operators/isp2/invoices/INV-000002/credit-notes', { reason: 'Billed in error', full: true });
    t.equal(cn.status, 201);
    t.match(cn.body.creditNote, { number: 'CN-000002', totalMinor: -9_900, voidsInvoice: true, buyer: { name: 'Réseau Łódź Провайдер' } });
    t.match(cn.body.invoice, { status: 'void', creditState: 'full', amountDueMinor: 0, totalMinor: 9_900 });
    t.equal((await admin('POST', '/operators/isp2/invoices/INV-000002/payments', { amountMinor: 1, reference: 'x' })).body.error.code, 'INVOICE_VOID', 'cannot pay a void invoice');
    t.equal((await admin('POST', '/operators/isp2/invoices/INV-000002/credit-notes', { reason: 'x', full: true })).body.error.code, 'INVOICE_VOID');
    const inv = (await call('GET', '/operators/isp2/invoices/INV-000002', tokens.a2!)).body.invoice;
    t.match(inv, { number: 'INV-000002', totalMinor: 9_900, status: 'void', creditNotes: [{ number: 'CN-000002', voidsInvoice: true }] }, 'never deleted, never renumbered');
    t.same((await call('GET', '/operators/isp2/credit-notes', tokens.a2!)).body.creditNotes.map((c: { number: string }) => c.number), ['CN-000002']);
    t.same((await call('GET', '/operators/isp1/credit-notes', tokens.r1!)).body.creditNotes.map((c: { number: string }) => c.number), ['CN-000001']);
    t.equal((await call('GET', '/operators/isp1/credit-notes/CN-000002', tokens.r1!)).status, 404, 'another operator\'s credit note');
    t.equal((await call('GET', '/operators/isp1/invoices/CN-000001', tokens.r1!)).status, 404, 'a credit note is not an invoice');
  });

  await t.test('PDFs: parties, dates with their zone, lines, payments, credits, amount due', async (t) => {
    const pdf = await call('GET', '/operators/isp1/invoices/INV-000001/pdf', tokens.r1!);
    t.equal(pdf.status, 200);
    t.equal(pdf.headers.get('content-type'), 'application/pdf');
    t.match(pdf.headers.get('content-disposition'), /invoice-INV-000001\.pdf/);
    const text = await pdfText(pdf.raw!);
    for (const needle of [
      'Invoice INV-000001', SELLER, 'ISP One', 'Operator id: isp1', '1 May 2026, 00:05 UTC', '15 May 2026 (end of day, UTC)', '1 April 2026 – 30 April 2026 (UTC)',
      'Subscription, Mid tier', '30 of 30 days', '20 of 30 days', '299.00 USD / month', 'at 50%', '99.67 USD', '398.67 USD',
      'Credit note CN-000001', '-30.00 USD', 'Payment received 4 May 2026, reference SEPA 0001', '-200.00 USD', 'SEPA 0002', '-168.67 USD',
      'Amount due', '0.00 USD', 'Paid (as of', 'rounded half up',
    ]) t.ok(text.includes(needle), `invoice PDF holds "${needle}"`);

    const cnText = await pdfText((await call('GET', '/operators/isp1/credit-notes/CN-000001/pdf', tokens.a1!)).raw!);
    for (const needle of ['Credit note CN-000001', 'Credits invoice', 'INV-000001 of 1 May 2026, 00:05 UTC', 'Add-on outage, 3 days', 'Partial credit of invoice INV-000001', 'Partial credit of line 2', '-30.00 USD', 'Total credited', SELLER, 'ISP One']) {
      t.ok(cnText.includes(needle), `credit note PDF holds "${needle}"`);
    }
    const voidText = await pdfText((await call('GET', '/operators/isp2/credit-notes/CN-000002/pdf', tokens.a2!)).raw!);
    t.ok(voidText.includes('Voids invoice INV-000002'), 'the full credit note says it voids its invoice');
    // Letters outside WinAnsi: accents dropped where that leaves a Latin letter, "?" otherwise; never garbage.
    t.ok(voidText.includes('Réseau ?ódz ?????????'), 'the buyer name as the font can draw it');
    const voidInv = await pdfText((await call('GET', '/operators/isp2/invoices/INV-000002/pdf', tokens.a2!)).raw!);
    t.ok(voidInv.includes('This invoice is void'), 'the void invoice says so');
    t.equal((await call('GET', '/operators/isp1/invoices/INV-000002/pdf', tokens.r1!)).status, 404);
    t.equal((await call('GET', '/operators/isp2/credit-notes/CN-000001/pdf', tokens.a2!)).status, 404);
  });

  await t.test('a paid invoice credited in full: void with a refund due, then refunded', async (t) => {
    hub.clock.setMs(Date.UTC(2026, 5, 1, 0, 5));
    await login();
    // Two runs at once: one invoice per operator and period, the series gapless.
    const runs = await Promise.all([admin('POST', '/admin/jobs/invoices/run'), admin('POST', '/admin/jobs/invoices/run')]);
    t.same(runs.map((r) => r.body.result).flat().sort(), ['INV-000003', 'INV-000004']);
    const may = (await call('GET', '/operators/isp1/invoices', tokens.r1!)).body.invoices.find((i: { periodKey: string }) => i.periodKey === '2026-05');
    t.match(may, { number: 'INV-000003', totalMinor: 29_900 + 14_950, status: 'issued', dueDate: '2026-06-15' });
    await admin('POST', '/operators/isp1/invoices/INV-000003/payments', { amountMinor: 44_850, reference: 'SEPA 0003' });
    const cn = await admin('POST', '/operators/isp1/invoices/INV-000003/credit-notes', { reason: 'Contract cancelled', full: true });
    t.match(cn.body.invoice, { status: 'void', amountDueMinor: 0, refundDueMinor: 44_850 });
    t.equal((await admin('POST', '/operators/isp1/invoices/INV-000003/refunds', { amountMinor: 44_851, reference: 'x' })).body.error.code, 'REFUND_EXCEEDS_REFUND_DUE');
    const refund = await admin('POST', '/operators/isp1/invoices/INV-000003/refunds', { amountMinor: 44_850, reference: 'Refund 0001' });
    t.equal(refund.status, 201);
    t.match(refund.body.refund, { kind: 'refund', no: 2, amountMinor: 44_850 });
    t.match(refund.body.invoice, { status: 'void', refundDueMinor: 0, balanceMinor: 0 });
    const text = await pdfText((await call('GET', '/operators/isp1/invoices/INV-000003/pdf', tokens.r1!)).raw!);
    t.ok(text.includes('Refund received') && text.includes('Refund 0001'), 'the refund is on the invoice PDF');

    // Overdue: isp2's June-issued invoice is unpaid after its due date.
    hub.clock.setMs(Date.UTC(2026, 5, 16, 12));
    await login();
    t.match((await call('GET', '/operators/isp2/invoices/INV-000004', tokens.a2!)).body.invoice, { status: 'issued', overdue: true });
  });

  await t.test('both series stay gapless under concurrent requests, refusals included', async (t) => {
    // Four more operators, subscribed from 16 June: the July run invoices their June days with isp1's and isp2's June.
    for (const op of ['isp3', 'isp4', 'isp5', 'isp6']) {
      await ok('POST', '/operators', { operatorId: op, name: op.toUpperCase() });
      await ok('GET', `/operators/${op}/subscription`);
    }
    hub.clock.setMs(Date.UTC(2026, 6, 1, 0, 5));
    await login();
    const issued = (await Promise.all([admin('POST', '/admin/jobs/invoices/run'), admin('POST', '/admin/jobs/invoices/run'), admin('POST', '/admin/jobs/invoices/run')]))
      .map((r) => r.body.result).flat();
    t.equal(issued.length, 6, 'one June invoice each, numbered once under three concurrent runs');
    const invoices: { number: string; operatorId: string; totalMinor: number }[] = [];
    for (const op of ['isp1', 'isp2', 'isp3', 'isp4', 'isp5', 'isp6']) invoices.push(...(await ok('GET', `/operators/${op}/invoices`)).invoices);
    const open = invoices.filter((i) => ['INV-000005', 'INV-000006', 'INV-000007', 'INV-000008', 'INV-000009', 'INV-000010'].includes(i.number));
    t.equal(open.length, 6);

    // 60 concurrent writes: 1-unit partial credits (some beyond what is left: refused), payments, and
    // five retries of one idempotency key. Refused requests must take no number.
    const requests: Promise<{ status: number; body: any }>[] = [];
    for (let i = 0; i < 60; i++) {
      const inv = open[i % open.length];
      const path = `/operators/${inv.operatorId}/invoices/${inv.number}`;
      if (i % 10 === 9) requests.push(admin('POST', `${path}/credit-notes`, { reason: 'too much', lines: [{ lineNo: 1, amountMinor: inv.totalMinor + 1 }] }));
      else if (i % 5 === 0) requests.push(admin('POST', `${path}/payments`, { amountMinor: 100, reference: `r${i}` }));
      else if (i % 7 === 0) requests.push(admin('POST', '/operators/isp1/invoices/INV-000005/credit-notes', { reason: 'retried', lines: [{ lineNo: 1, amountMinor: 7 }] }, { 'idempotency-key': 'same-key' }));
      else requests.push(admin('POST', `${path}/credit-notes`, { reason: `c${i}`, lines: [{ lineNo: 1, amountMinor: 1 }] }));
    }
    const results = await Promise.all(requests);
    t.ok(results.every((r) => [200, 201, 409].includes(r.status)), 'every request answered');
    const refused = results.filter((r) => r.status === 409);
    t.ok(refused.length >= 6 && refused.every((r) => r.body.error.code === 'CREDIT_EXCEEDS_CREDITABLE'), 'the over-credits refused');
    const sameKey = results.filter((r) => r.body.creditNote?.reason === 'retried');
    t.equal(new Set(sameKey.map((r) => r.body.creditNote.number)).size, 1, 'one credit note for five concurrent retries of one key');
    t.equal(sameKey.filter((r) => r.status === 201).length, 1);

    const all: { seq: number; number: string }[] = [];
    for (const op of ['isp1', 'isp2', 'isp3', 'isp4', 'isp5', 'isp6']) all.push(...(await ok('GET', `/operators/${op}/credit-notes`)).creditNotes);
    const seqs = all.map((c) => c.seq).sort((a, b) => a - b);
    t.same(seqs, Array.from({ length: seqs.length }, (_v, i) => i + 1), `credit notes CN-000001..CN-${String(seqs.length).padStart(6, '0')}: no gap, no repeat`);
    t.ok(all.every((c) => c.number === `CN-${String(c.seq).padStart(6, '0')}`));
    const invSeqs = invoices.map((i) => Number(i.number.slice(4))).sort((a, b) => a - b);
    t.same(invSeqs, Array.from({ length: 10 }, (_v, i) => i + 1), 'invoices INV-000001..INV-000010: no gap, no repeat');
    // Each invoice's payments numbered 1, 2, … in recording order.
    for (const inv of open) {
      const view = (await ok('GET', `/operators/${inv.operatorId}/invoices/${inv.number}`)).invoice;
      t.same(view.payments.map((p: { no: number }) => p.no), view.payments.map((_p: unknown, i: number) => i + 1));
      t.equal(view.amountDueMinor, view.totalMinor - view.creditedMinor - view.paidMinor + view.refundedMinor, `${inv.number}: amount due derived from its documents`);
    }
  });
});
