/**
 * Helpers for the write feature tests: JSON requests, ETags, error assertions, direct database
 * reads, and fixtures inserted straight into the database (so a test of one write feature does not
 * depend on another write feature to set up its data).
 */
import { randomUUID } from 'node:crypto';
import { columnsOf } from '../../../src/edm/storage';
import type { TestResponse, TestService } from '../../helpers/service';
import { normalise, type Row } from '../support';

/** A well-formed GUID that no seeded or created row uses. */
export const MISSING = '00000000-0000-4000-8000-000000000000';

/** A fixed past time used for fixture Created/Edited, so a later write is visible. */
export const PAST = '2024-01-02T03:04:05.678Z';

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const WEAK_ETAG = /^W\/".+"$/;

export const newId = (): string => randomUUID();

/** A request with a JSON body (`Content-Type: application/json`); `body === undefined` sends none. */
export function json(svc: TestService, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return svc.request(method, path, {
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export const post = (svc: TestService, path: string, body: unknown, headers?: Record<string, string>) => json(svc, 'POST', path, body, headers);
export const patch = (svc: TestService, path: string, body: unknown, headers?: Record<string, string>) => json(svc, 'PATCH', path, body, headers);
export const put = (svc: TestService, path: string, body: unknown, headers?: Record<string, string>) => json(svc, 'PUT', path, body, headers);
export const del = (svc: TestService, path: string, headers: Record<string, string> = {}) => svc.request('DELETE', path, { headers });

/** Fails with the response body in the message when the status is not the expected one. */
export function expectStatus(res: TestResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 600)}`);
}

export interface ErrorDetail { code: string; message: string; target?: string }
export interface ErrorBody { code: string; message: string; target?: string; details: ErrorDetail[] }

/** Asserts an OData error response with the status and code; returns `error`. */
export function expectError(res: TestResponse, status: number, code: string): ErrorBody {
  expectStatus(res, status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const error = res.json().error as ErrorBody;
  expect(error).toMatchObject({ code, message: expect.any(String) });
  expect(Array.isArray(error.details)).toBe(true);
  for (const d of error.details) expect(d).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  return error;
}

/**
 * Asserts 400 VALIDATION_FAILED whose details are exactly the given (code, target) pairs, in any order.
 */
export function expectValidation(res: TestResponse, expected: readonly { code: string; target: string }[]): ErrorBody {
  const error = expectError(res, 400, 'VALIDATION_FAILED');
  const actual = error.details.map((d) => ({ code: d.code, target: d.target })).sort(byTarget);
  expect(actual).toEqual([...expected].map((d) => ({ code: d.code, target: d.target })).sort(byTarget));
  return error;
}

const byTarget = (a: { code: string; target?: string }, b: { code: string; target?: string }): number =>
  `${a.target ?? ''} ${a.code}`.localeCompare(`${b.target ?? ''} ${b.code}`);

/** The ETag header of a GET of a single entity (fails if there is none). */
export async function etagOf(svc: TestService, path: string): Promise<string> {
  const res = await svc.get(path);
  expectStatus(res, 200);
  const etag = res.headers.get('etag');
  if (!etag) throw new Error(`GET ${path} returned no ETag header`);
  return etag;
}

export async function countRows(svc: TestService, table: string, where?: Record<string, unknown>): Promise<number> {
  const q = svc.knex(table);
  if (where) q.where(where);
  const rows: Row[] = await q.count({ n: '*' });
  return Number(rows[0].n);
}

/** Row counts of several tables, for "nothing was written" checks. */
export async function countsOf(svc: TestService, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = await countRows(svc, t);
  return out;
}

/** The columns of an entity set's table that hold its properties (not any bookkeeping column the service may add). */
export function modelColumns(svc: TestService, entitySet: string): string[] {
  const set = svc.running.services.model().entitySets.get(entitySet);
  if (!set) throw new Error(`no entity set ${entitySet}`);
  return columnsOf(set.entityType).map((c) => c.column);
}

/**
 * A row by Id with the property columns only, normalised (Date → ISO text; the named columns →
 * boolean / number), or undefined.
 */
export async function rowOf(svc: TestService, table: string, id: string, booleans: readonly string[] = [], numbers: readonly string[] = []): Promise<Row | undefined> {
  const row: Row | undefined = await svc.knex(table).where({ Id: id }).first(modelColumns(svc, table));
  return row === undefined ? undefined : normalise(row, booleans, numbers);
}

/** Every row of a table, normalised and in a stable order, for "nothing changed" checks. */
export async function snapshot(svc: TestService, table: string): Promise<Row[]> {
  const rows: Row[] = await svc.knex(table).select('*');
  return rows.map((r) => normalise(r)).map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as Row);
}

/** The link-table partner ids of one side: e.g. linked(svc, 'Contact_Group', 'ContactId', c, 'GroupId'). */
export async function linked(svc: TestService, table: string, column: string, id: string, other: string): Promise<string[]> {
  const rows: Row[] = await svc.knex(table).where({ [column]: id }).select(other);
  return rows.map((r) => String(r[other])).sort();
}

export const bool = (v: unknown): boolean | null => (v === null || v === undefined ? null : v === true || v === 1 || v === '1');
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const text = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));

/** Inserts a row directly, with a fresh Id and past Created/Edited unless given; returns the Id. */
export async function insertRow(svc: TestService, table: string, row: Row): Promise<string> {
  const full: Row = { Id: newId(), Created: PAST, Edited: PAST, ...row };
  await svc.knex(table).insert(full);
  return String(full.Id);
}

export async function insertContact(svc: TestService, row: Row = {}): Promise<string> {
  const first = (row.FirstName ?? null) as string | null;
  const last = ('LastName' in row ? row.LastName : 'Fixture') as string | null;
  const fullName = [first, last].filter((x) => x !== null).join(' ') || null;
  return insertRow(svc, 'Contacts', { FirstName: first, LastName: last, FullName: fullName, IsPrivate: false, ...row });
}

export const insertCompany = (svc: TestService, row: Row = {}) => insertRow(svc, 'Companies', { Name: `Fixture Co ${newId().slice(0, 8)}`, ...row });
export const insertGroup = (svc: TestService, row: Row = {}) => insertRow(svc, 'Groups', { Name: `Fixture Group ${newId().slice(0, 8)}`, ...row });
export const insertOpportunity = (svc: TestService, row: Row = {}) => insertRow(svc, 'Opportunities', { Name: 'Fixture deal', Status: 0, Amount: 0, ...row });
export const insertProcess = (svc: TestService, row: Row = {}) => insertRow(svc, 'Processes', { Name: 'Fixture process', ...row });
export const insertStage = (svc: TestService, row: Row = {}) => insertRow(svc, 'Stages', { Name: 'Fixture stage', ...row });
export const insertProduct = (svc: TestService, row: Row = {}) => insertRow(svc, 'Products', { Name: 'Fixture product', IsActive: true, ...row });
export const insertActivity = (svc: TestService, row: Row = {}) =>
  insertRow(svc, 'Activities', { Subject: 'Fixture activity', Priority: 1, IsTimeless: false, IsCleared: false, ...row });

/** An OpportunityProduct line with its Total, computed like the service does. */
export function insertLine(svc: TestService, opportunityId: string, productId: string | null, quantity: number, price: number, discount: number): Promise<string> {
  return insertRow(svc, 'OpportunityProducts', {
    OpportunityId: opportunityId, ProductId: productId, Quantity: quantity, Price: price, Discount: discount,
    Total: lineTotal(quantity, price, discount),
  });
}

export const lineTotal = (quantity: number, price: number, discount: number): number => quantity * price * (1 - discount / 100);

/** The Id of any existing row of a table (e.g. a product to reference). */
export async function anyId(svc: TestService, table: string): Promise<string> {
  const row: Row | undefined = await svc.knex(table).first('Id');
  if (!row) throw new Error(`${table} is empty`);
  return String(row.Id);
}
