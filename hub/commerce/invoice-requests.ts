/**
 * Untrusted API bodies for payments, refunds and credit notes, checked once into typed requests; and
 * the idempotency of those writes: a retried request with the same key (Idempotency-Key header, or
 * an `idempotencyKey` field for clients that cannot set headers) is answered with what the first one
 * recorded and applies nothing again. The same key with a different request is refused
 * (IDEMPOTENCY_KEY_REUSED), so a key can never hide a second, different write.
 */
import { createHash } from 'node:crypto';
import { hubError } from '../errors';
import type { CreditNoteRequest, MoneyMovementRequest } from './invoice-lifecycle';

const MAX_AMOUNT_MINOR = 1e15;
const MAX_CREDIT_LINES = 1000;
const ONE_LINE_TEXT = /^[^\u0000-\u001f\u007f]*$/;

function fail(field: string, expected: string): never {
  throw hubError('VALIDATION_FAILED', `${field}: expected ${expected}`);
}

function positiveMinor(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_AMOUNT_MINOR) fail(field, 'a positive integer number of minor units');
  return v;
}

function text(v: unknown, field: string, maxLength: number): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > maxLength || !ONE_LINE_TEXT.test(v)) fail(field, `1-${maxLength} characters on one line`);
  return v.trim();
}

/** "2026-05-10", a real calendar date. */
function utcDateString(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) fail(field, 'a date YYYY-MM-DD');
  return v;
}

/** {amountMinor, reference, date?} of a payment or a refund. */
export function parseMoneyMovement(body: Record<string, unknown>): MoneyMovementRequest {
  const req: MoneyMovementRequest = { amountMinor: positiveMinor(body.amountMinor, 'amountMinor'), reference: text(body.reference, 'reference', 200) };
  if (body.date !== undefined) req.date = utcDateString(body.date, 'date');
  return req;
}

/** {reason, full: true} or {reason, lines: [{lineNo, amountMinor}]}: one of the two, never a silent default. */
export function parseCreditNoteRequest(body: Record<string, unknown>): CreditNoteRequest {
  const reason = text(body.reason, 'reason', 500);
  const hasLines = body.lines !== undefined;
  if (body.full !== undefined && body.full !== true) fail('full', 'true (or leave it out and give lines)');
  if ((body.full === true) === hasLines) fail('full / lines', 'either full: true (credit everything left, which voids the invoice) or lines: [{lineNo, amountMinor}]');
  if (body.full === true) return { reason, full: true };
  if (!Array.isArray(body.lines) || body.lines.length === 0 || body.lines.length > MAX_CREDIT_LINES) fail('lines', `1-${MAX_CREDIT_LINES} of {lineNo, amountMinor}`);
  const lines = body.lines.map((raw: unknown, i: number) => {
    const l = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof l.lineNo !== 'number' || !Number.isSafeInteger(l.lineNo) || l.lineNo < 1) fail(`lines[${i}].lineNo`, 'the 1-based number of an invoice line');
    return { lineNo: l.lineNo, amountMinor: positiveMinor(l.amountMinor, `lines[${i}].amountMinor`) };
  });
  return { reason, lines };
}

/** Printable, no slashes (it becomes part of a storage key); a UUID fits. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's idempotency key from the header or the body field (both given: they must agree). */
export function idempotencyKeyOf(header: string | undefined, bodyField: unknown): string | undefined {
  const fromHeader = header === undefined || header === '' ? undefined : header;
  if (bodyField !== undefined && typeof bodyField !== 'string') fail('idempotencyKey', 'a string');
  const key = fromHeader ?? (bodyField as string | undefined);
  if (fromHeader !== undefined && bodyField !== undefined && bodyField !== fromHeader) fail('idempotencyKey', 'the same key as the Idempotency-Key header');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) fail('Idempotency-Key', '1-128 of [A-Za-z0-9._:-] (a UUID, for instance)');
  return key;
}

export type IdempotentAction = 'payment' | 'refund' | 'credit_note';

/** What an idempotency key has been used for: compared on a retry, stored with the write it made. */
export function requestFingerprint(action: IdempotentAction, invoiceNumber: string, request: MoneyMovementRequest | CreditNoteRequest): string {
  return createHash('sha256').update(JSON.stringify([action, invoiceNumber, request])).digest('hex');
}

/** The stored record of one idempotent write and the document it made. */
export interface IdempotencyRecord {
  fingerprint: string;
  atMs: number;
  result: { kind: 'credit_note'; number: string } | { kind: 'payment' | 'refund'; invoiceNumber: string; no: number };
}
