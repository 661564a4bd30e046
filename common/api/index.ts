/**
 * The API's JSON shapes, in one place shared by the hub (which builds them) and the web UI (which reads
 * them), so a change on one side that the other does not follow fails `tsc`.
 *
 * Convention
 * - One file per area, named after it (edges.ts, invoices.ts, bills.ts, …); this index re-exports each
 *   (`export type * from './<area>'`). Add your area's line here when you create its file.
 * - Types only: `export interface` / `export type`, no runtime code, and no imports from hub/, edge/,
 *   proto/ or node: — the web type-check (web/tsconfig.json: DOM lib, no Node types) reads these files.
 *   An area file may import another area file.
 * - The wire shape, not the domain's: what JSON.stringify of the hub's answer gives (numbers, strings,
 *   booleans, null, arrays, plain objects). Units in the names as elsewhere: *Ms (epoch milliseconds),
 *   *Minor (integer minor units of `currency`), bitsPerSec, bytes.
 * - Names: `<Thing>View` for an object the API shows, `<Route>Response` for a route's whole body (e.g.
 *   `EdgesResponse` = GET /operators/:op/edges), `<Route>Request` for a request body. Doc comments give
 *   the route; fields say what the UI needs to know (optional = older hubs or edges may omit it).
 * - Hub: build the body against the shape, `ctx.body = { edges } satisfies EdgesResponse`, so the hub
 *   cannot drift from what the pages read. Where the hub already has a domain type, keep it and let
 *   `satisfies` check it structurally.
 * - Web (plain JS with `// @ts-check`, checked by `npx tsc -p web/tsconfig.json`):
 *     /** @typedef {import('../../common/api/edges').EdgesResponse} EdgesResponse *\/   (from web/pages/)
 *     /** @type {EdgesResponse} *\/ const res = await ctx.api(ctx.opPath('/edges'));
 *   JSDoc type imports vanish at run time: the browser never loads these files.
 */
export type * from './session';
export type * from './edges';
export type * from './invoices';
export type * from './subscription';
export type * from './users';
export type * from './access';
export type * from './bill-plans';
export type * from './subjects';
export type * from './bills';
export type * from './series';
export type * from './live';
export type * from './customer';
