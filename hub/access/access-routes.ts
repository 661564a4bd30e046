import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { HubConfig } from '../config';
import { hubError } from '../errors';
import { assertOperatorAccess, OPERATOR_READERS, OPERATOR_WRITERS, principalOf } from '../http/principal';
import { readBody } from '../http/request-body';
import type { Mailer } from '../ports';
import type { AccessRecord } from './access-model';
import type { AccessRepository } from './access-repository';
import {
  buildClientAreaSection, DEFAULT_WELCOME_HTML, DEFAULT_WELCOME_SUBJECT, DEFAULT_WELCOME_TEXT,
  effectiveNetflowUrl, netflowMergeValues, serviceMergeValues,
} from './customer-facing';
import { renderMergeTemplate } from './merge-template';
import { parseRecordFields } from './record-input';

interface Deps {
  repo: AccessRepository;
  clock: Clock;
  log: Logger;
  config: Pick<HubConfig, 'publicUrl'>;
  mailer: Mailer;
}

/**
 * Operators' CRUD of clients, services and access records under /api/v1/operators/:operatorId/.
 * operator_admin (and super_admin) write, operator_readonly reads. Records come back with
 * `hasPassword`, never the password or its ciphertext; notes are shown here (operators only).
 */
export function createAccessRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1/operators/:operatorId' });
  const { repo } = deps;
  const reader = (ctx: Context) => { assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_READERS); return ctx.params.operatorId as string; };
  const writer = (ctx: Context) => { assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_WRITERS); return ctx.params.operatorId as string; };
  const now = () => deps.clock.nowMs();

  async function recordView(op: string, r: AccessRecord) {
    const [service, client, hasPassword] = await Promise.all([repo.getService(op, r.serviceId), repo.getClient(op, r.clientId), repo.hasPassword(op, r.username)]);
    return {
      recordId: r.recordId, serviceId: r.serviceId, serviceLabel: service?.label ?? null, serviceType: service?.type ?? null,
      clientId: r.clientId, clientName: client?.name ?? null, enabled: r.enabled,
      netflowUrl: r.netflowUrl ?? null, effectiveNetflowUrl: effectiveNetflowUrl(r, deps.config.publicUrl),
      username: r.username, hasPassword, group: r.group ?? null, ipAddress: r.ipAddress ?? null,
      notes: r.notes, showPasswordInClientArea: r.showPasswordInClientArea, createdAtMs: r.createdAtMs, updatedAtMs: r.updatedAtMs,
    };
  }
  async function mustRecord(op: string, recordId: string): Promise<AccessRecord> {
    const r = await repo.getRecord(op, recordId);
    if (!r) throw hubError('NOT_FOUND', `no access record ${recordId}`);
    return r;
  }

  // ── clients ──────────────────────────────────────────────────────────────────
  router.get('/clients', async (ctx) => { ctx.body = { clients: await repo.listClients(reader(ctx)) }; });
  router.post('/clients', async (ctx) => {
    const op = writer(ctx);
    ctx.status = 201;
    ctx.body = { client: await repo.createClient(op, readBody(ctx), now()) };
  });
  router.get('/clients/:clientId', async (ctx) => {
    const client = await repo.getClient(reader(ctx), ctx.params.clientId);
    if (!client) throw hubError('NOT_FOUND', `no client ${ctx.params.clientId}`);
    ctx.body = { client };
  });
  router.patch('/clients/:clientId', async (ctx) => { ctx.body = { client: await repo.updateClient(writer(ctx), ctx.params.clientId, readBody(ctx), now()) }; });
  router.delete('/clients/:clientId', async (ctx) => { await repo.deleteClient(writer(ctx), ctx.params.clientId); ctx.status = 204; });

  // ── services ─────────────────────────────────────────────────────────────────
  router.get('/services', async (ctx) => {
    const op = reader(ctx);
    const clientId = typeof ctx.query.clientId === 'string' ? ctx.query.clientId : undefined;
    ctx.body = { services: (await repo.listServices(op)).filter((s) => !clientId || s.clientId === clientId) };
  });
  router.post('/services', async (ctx) => {
    const op = writer(ctx);
    ctx.status = 201;
    ctx.body = { service: await repo.createService(op, readBody(ctx), now()) };
  });
  router.get('/services/:serviceId', async (ctx) => {
    const service = await repo.getService(reader(ctx), ctx.params.serviceId);
    if (!service) throw hubError('NOT_FOUND', `no service ${ctx.params.serviceId}`);
    ctx.body = { service };
  });
  router.patch('/services/:serviceId', async (ctx) => { ctx.body = { service: await repo.updateService(writer(ctx), ctx.params.serviceId, readBody(ctx), now()) }; });
  router.delete('/services/:serviceId', async (ctx) => { await repo.deleteService(writer(ctx), ctx.params.serviceId); ctx.status = 204; });

  /**
   * What the billing panel's client area shows for this service: the "Network usage" section, or null.
   * Readers see the section; the plaintext password only goes to roles that may manage access records
   * (they could set it anyway), and only where the operator enabled showPasswordInClientArea on an
   * enabled record. A read-only caller gets `passwordHidden: true` instead: no plaintext, no length.
   */
  router.get('/services/:serviceId/client-area', async (ctx) => {
    const op = reader(ctx);
    const mayReveal = OPERATOR_WRITERS.includes(principalOf(ctx).role);
    const service = await repo.getService(op, ctx.params.serviceId);
    if (!service) throw hubError('NOT_FOUND', `no service ${ctx.params.serviceId}`);
    const record = await repo.getRecordOfService(op, service.serviceId);
    let password: string | undefined;
    let passwordHidden = false;
    if (record?.enabled && record.showPasswordInClientArea) {
      // A read-only caller never makes the hub decrypt the password; it only learns that one exists.
      if (mayReveal) password = await repo.revealPassword(record.operatorId, record.username);
      else passwordHidden = await repo.hasPassword(record.operatorId, record.username);
    }
    ctx.body = { serviceId: service.serviceId, section: buildClientAreaSection(record, { publicUrl: deps.config.publicUrl, password, passwordHidden }) };
  });

  // ── access records ───────────────────────────────────────────────────────────
  router.get('/access-records', async (ctx) => {
    const op = reader(ctx);
    const q = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string) : undefined);
    const [clientId, serviceId, username] = [q('clientId'), q('serviceId'), q('username')];
    const records = (await repo.listRecords(op)).filter((r) =>
      (!clientId || r.clientId === clientId) && (!serviceId || r.serviceId === serviceId) && (!username || r.username === username));
    ctx.body = { records: await Promise.all(records.map((r) => recordView(op, r))) };
  });
  router.post('/access-records', async (ctx) => {
    const op = writer(ctx);
    const body = readBody(ctx);
    const record = await repo.createRecord(op, body.serviceId, parseRecordFields(body, 'create'), now());
    deps.log.info({ operatorId: op, recordId: record.recordId, serviceId: record.serviceId, username: record.username }, 'access record created');
    ctx.status = 201;
    ctx.body = { record: await recordView(op, record) };
  });
  router.get('/access-records/:recordId', async (ctx) => {
    const op = reader(ctx);
    ctx.body = { record: await recordView(op, await mustRecord(op, ctx.params.recordId)) };
  });
  router.patch('/access-records/:recordId', async (ctx) => {
    const op = writer(ctx);
    const body = readBody(ctx);
    if (body.serviceId !== undefined) throw hubError('VALIDATION_FAILED', 'serviceId: a record stays with its service; delete it and create one for the other service', { field: 'serviceId' });
    const record = await repo.updateRecord(op, ctx.params.recordId, parseRecordFields(body, 'update'), now());
    ctx.body = { record: await recordView(op, record) };
  });
  router.delete('/access-records/:recordId', async (ctx) => {
    await repo.deleteRecord(writer(ctx), ctx.params.recordId);
    ctx.status = 204;
  });

  /**
   * Renders the welcome mail (body: optional to[], subject, text, html templates; defaults in
   * customer-facing.ts) and sends it through the Mailer port; `dryRun: true` only returns the rendering.
   */
  router.post('/access-records/:recordId/welcome-mail', async (ctx) => {
    const op = writer(ctx);
    const body = readBody(ctx);
    const record = await mustRecord(op, ctx.params.recordId);
    const service = await repo.getService(op, record.serviceId);
    const client = await repo.getClient(op, record.clientId);
    if (!service || !client) throw hubError('NOT_FOUND', 'the record\'s service or client is gone');
    const str = (k: string, def: string | undefined): string | undefined => {
      if (body[k] === undefined) return def;
      if (typeof body[k] !== 'string') throw hubError('VALIDATION_FAILED', `${k}: expected a template string`, { field: k });
      return body[k] as string;
    };
    let to: string[];
    if (body.to === undefined) to = client.email ? [client.email] : [];
    else if (Array.isArray(body.to) && body.to.every((a) => typeof a === 'string' && /^[^\s@]+@[^\s@]+$/.test(a))) to = body.to as string[];
    else throw hubError('VALIDATION_FAILED', 'to: a list of e-mail addresses', { field: 'to' });
    if (to.length === 0) throw hubError('VALIDATION_FAILED', 'to: the client has no e-mail address; give one', { field: 'to' });
    const password = record.enabled ? await repo.revealPassword(record.operatorId, record.username) : undefined;
    const values = { ...serviceMergeValues(service, client.name), ...netflowMergeValues(record, { publicUrl: deps.config.publicUrl, password }) };
    const htmlTemplate = str('html', body.text === undefined ? DEFAULT_WELCOME_HTML : undefined);
    const message = {
      to,
      subject: renderMergeTemplate(str('subject', DEFAULT_WELCOME_SUBJECT)!, values),
      text: renderMergeTemplate(str('text', DEFAULT_WELCOME_TEXT)!, values),
      ...(htmlTemplate === undefined ? {} : { html: renderMergeTemplate(htmlTemplate, values, { html: true }) }),
    };
    if (body.dryRun === true) { ctx.body = { dryRun: true, message }; return; }
    const sent = await deps.mailer.send(message);
    // Log who and which record, never the message: it carries the password.
    deps.log.info({ operatorId: op, recordId: record.recordId, to, mailId: sent.id }, 'welcome mail sent');
    ctx.body = { sent: true, mailId: sent.id, to };
  });

  return router;
}
