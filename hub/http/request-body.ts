import type { Context } from 'koa';
import { hubError } from '../errors';

/** The parsed JSON body (create-hub installs @koa/bodyparser), always an object. */
export function readBody(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as unknown as { body?: unknown }).body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw hubError('BAD_REQUEST', 'expected a JSON object body');
  return body as Record<string, unknown>;
}
