/**
 * CSV import and export over HTTP, for Administrators (src/transfer does the work, through this
 * service's own handler):
 * - `POST /$import?set=Contacts[&upsertKey=EmailAddress][&allOrNothing=true][&batchSize=500]`
 *   with a `text/csv` body or a `multipart/form-data` one (its first file) → a JSON summary with
 *   the rejected rows' lines and reasons;
 * - `GET /Contacts?$format=text/csv` (or `application/x-ndjson`), with `$filter` and `$select`:
 *   the set in that format, every page of it, streamed: the next page is read once the client has
 *   taken the last one (inside a `$batch` or an asynchronous request the answer is gathered whole).
 */
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import busboy from 'busboy';
import { parse } from 'csv-parse';
import { ODataError } from '../errors/odata-error';
import type { RequestUser } from '../plan/request-context';
import { importRecords, ImportSetupError, type CsvRecord, type RejectedRow } from '../transfer/import-rows';
import { CONTENT_TYPES, exportText, findEntitySet, type ExportFormat } from '../transfer/export-rows';
import { UnknownColumnError } from '../transfer/columns';
import { ServiceError, type ServiceCaller } from '../transfer/service-calls';
import type { ApiRequest, ApiResponse } from './api-request';
import type { Services } from './handle';

type Handler = (req: ApiRequest, svc: Services) => Promise<ApiResponse>;

export type TransferRoute =
  | { readonly kind: 'import' }
  | { readonly kind: 'export'; readonly set: string; readonly format: ExportFormat };

/** Rejected rows listed in an import's answer at most (the count is always complete). */
const LISTED_REJECTIONS = 1000;

const EXPORT_MEDIA: Readonly<Record<string, ExportFormat>> = {
  'text/csv': 'csv', csv: 'csv', 'application/x-ndjson': 'ndjson', 'application/ndjson': 'ndjson', ndjson: 'ndjson',
};

function queryParams(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (s: string): string => { try { return decodeURIComponent(s); } catch { return s; } };
    params.set(decode(eq < 0 ? pair : pair.slice(0, eq)), decode(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return params;
}

/** Whether a request is an import or a CSV/NDJSON export (undefined: an ordinary OData request). */
export function transferRouteOf(req: ApiRequest): TransferRoute | undefined {
  const method = req.method.toUpperCase();
  if (req.path === '/$import') return { kind: 'import' };
  if (method !== 'GET' || !req.query.includes('format')) return undefined;
  const format = EXPORT_MEDIA[(queryParams(req.query).get('$format') ?? '').split(';')[0].trim().toLowerCase()];
  const set = /^\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(req.path);
  return format && set ? { kind: 'export', set: set[1], format } : undefined;
}

export async function handleTransfer(route: TransferRoute, req: ApiRequest, user: RequestUser, svc: Services, handle: Handler): Promise<ApiResponse> {
  if (user.role !== 'Administrator') throw new ODataError('FORBIDDEN', 'Only Administrators import and export CSV');
  const target: ServiceCaller = { services: svc, handle, serviceRoot: req.serviceRoot, caller: user };
  return route.kind === 'import' ? importOverHttp(req, target) : exportOverHttp(route, req, target);
}

async function importOverHttp(req: ApiRequest, target: ServiceCaller): Promise<ApiResponse> {
  if (req.method.toUpperCase() !== 'POST') throw new ODataError('METHOD_NOT_ALLOWED', 'An import is sent with POST');
  const params = queryParams(req.query);
  const set = params.get('set');
  if (!set) throw new ODataError('INVALID_QUERY_OPTION', 'Name the entity set: $import?set=Contacts', { target: 'set' });
  const batchSize = params.has('batchSize') ? Number(params.get('batchSize')) : 500;
  const csv = await csvBytes(req);
  const rejected: RejectedRow[] = [];
  try {
    const summary = await importRecords(target, csvRecords(csv), {
      set, batchSize, upsertKey: params.get('upsertKey') || undefined, allOrNothing: params.get('allOrNothing') === 'true',
      onRejected: (row) => { if (rejected.length < LISTED_REJECTIONS) rejected.push(row); },
    });
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...summary, rejectedRows: rejected }) };
  } catch (err) {
    if (err instanceof ImportSetupError) throw new ODataError('INVALID_PAYLOAD', err.message);
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('CSV_')) throw new ODataError('INVALID_PAYLOAD', `The CSV cannot be read: ${err.message}`);
    throw err;
  }
}

async function* csvRecords(bytes: Buffer): AsyncGenerator<CsvRecord> {
  const parser = Readable.from([bytes]).pipe(parse({ info: true, relax_column_count: true, bom: true, skip_empty_lines: true }));
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { line: item.info.lines, cells: item.record };
}

/** The CSV of the request: its body (text/csv) or the first file of a multipart/form-data body. */
async function csvBytes(req: ApiRequest): Promise<Buffer> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const body = req.body ?? Buffer.alloc(0);
  if (type.startsWith('text/csv') || type.startsWith('application/csv')) return body;
  if (!type.startsWith('multipart/form-data')) throw new ODataError('UNSUPPORTED_MEDIA_TYPE', `An import is text/csv or multipart/form-data, not '${type || '(none)'}'`, { target: 'Content-Type' });
  return new Promise<Buffer>((resolve, reject) => {
    let file: Buffer | undefined;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': req.headers['content-type'] ?? '' }, limits: { files: 1 } });
    } catch (err) {
      reject(new ODataError('INVALID_PAYLOAD', `The form cannot be read: ${(err as Error).message}`));
      return;
    }
    parser.on('file', (_name, stream) => {
      const pieces: Buffer[] = [];
      stream.on('data', (d: Buffer) => pieces.push(d));
      stream.on('end', () => { file ??= Buffer.concat(pieces); });
    });
    parser.on('error', (err: Error) => reject(new ODataError('INVALID_PAYLOAD', `The form cannot be read: ${err.message}`)));
    parser.on('close', () => file ? resolve(file) : reject(new ODataError('INVALID_PAYLOAD', 'The form has no file: send the CSV as a file field')));
    parser.end(body);
  });
}

async function exportOverHttp(route: TransferRoute & { kind: 'export' }, req: ApiRequest, target: ServiceCaller): Promise<ApiResponse> {
  if (!findEntitySet(target, route.set)) throw new ODataError('NOT_FOUND', `'${route.set}' is no entity set of this service`);
  const params = queryParams(req.query);
  const unknown = [...params.keys()].filter((k) => k.startsWith('$') && !['$format', '$filter', '$select'].includes(k));
  if (unknown.length > 0) throw new ODataError('NOT_IMPLEMENTED', `A ${route.format} export takes $filter and $select, not ${unknown.join(', ')}`, { target: unknown[0] });
  const select = params.get('$select')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const pieces = exportText(target, { set: route.set, format: route.format, filter: params.get('$filter'), select });
  let first: IteratorResult<string>;
  try {
    // the first page is read here, so a bad $filter or $select is answered with an error status
    first = await pieces.next();
  } catch (err) {
    // the service's own answer to the page request ($filter syntax, unknown property, …)
    if (err instanceof ServiceError) return { status: err.status, headers: { 'Content-Type': 'application/json' }, body: err.body };
    if (err instanceof UnknownColumnError) throw new ODataError('UNKNOWN_PROPERTY', err.message, { target: '$select' });
    throw err;
  }
  return { status: 200, headers: { 'Content-Type': CONTENT_TYPES[route.format], 'OData-Version': '4.0' }, body: { stream: andTheRest(first, pieces) } };
}

/**
 * The export's pieces from the first one already read on. Between pages it lets the event loop turn:
 * a SQLite page is read synchronously, and a long export must not keep other requests waiting.
 */
async function* andTheRest(first: IteratorResult<string>, rest: AsyncGenerator<string>): AsyncGenerator<string> {
  if (first.done) return;
  yield first.value;
  for await (const piece of rest) {
    await setImmediate();
    yield piece;
  }
}
