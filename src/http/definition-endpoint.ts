/**
 * Writes to definition sets (src/schema/definition-sets.ts) over HTTP: the set applies the schema
 * change; the answer is the written entity as the read engine serves it on the next model (201 with
 * `Location`, 204 with `Prefer: return=minimal`, or 200 for an update asked to return it).
 */
import { ODataError } from '../errors/odata-error';
import { etagMatches } from '../serialize/etag';
import type { RequestUser } from '../plan/request-context';
import type { DefinitionMethod, DefinitionSet, SchemaChanger } from '../schema/definition-sets';
import { objectBody } from '../schema/definition-sets';
import type { RequestBody } from '../write/write-plan';
import type { ApiRequest, ApiResponse } from './api-request';
import type { Services } from './handle';
import { parsePrefer } from './prefer';

type Handler = (req: ApiRequest, svc: Services) => Promise<ApiResponse>;

/**
 * `If-Match` against the entity's ETag as the read engine serves it (412 when it differs or the entity
 * is gone). Checked before the schema change takes its lock: a change between the two is not seen.
 */
async function checkIfMatch(target: DefinitionRequest, ifMatch: string, req: ApiRequest, user: RequestUser, svc: Services, handle: Handler): Promise<void> {
  const current = await handle({ ...req, method: 'GET', path: `/${target.set.setName}(${target.key ?? ''})`, query: '', body: undefined, caller: user, headers: { ...req.headers, 'if-match': undefined, 'if-none-match': undefined } }, svc);
  const etag = current.status === 200 ? current.headers.ETag : undefined;
  if (!etagMatches(ifMatch, etag)) throw new ODataError('PRECONDITION_FAILED', `${target.set.setName}(${target.key ?? ''}) has changed or does not exist (If-Match)`);
}

export interface DefinitionRequest {
  readonly set: DefinitionSet;
  readonly key?: string;
  readonly method: string;
  readonly body: () => RequestBody;
}

const METHODS: ReadonlySet<string> = new Set<DefinitionMethod>(['POST', 'PATCH', 'PUT', 'DELETE']);

export async function handleDefinitionWrite(target: DefinitionRequest, req: ApiRequest, user: RequestUser, svc: Services, schema: SchemaChanger | undefined, handle: Handler): Promise<ApiResponse> {
  const method = target.method as DefinitionMethod;
  if (!METHODS.has(method)) throw new ODataError('METHOD_NOT_ALLOWED', `${target.method} is not allowed on ${target.set.setName}`);
  if ((method === 'POST') !== (target.key === undefined)) throw new ODataError('METHOD_NOT_ALLOWED', method === 'POST' ? `POST to ${target.set.setName}, not to one of its entities` : `${method} one entity of ${target.set.setName}`);
  if (!schema) throw new ODataError('NOT_IMPLEMENTED', `${target.set.setName} cannot be written here: this service runs without a model lifecycle`);
  // a change set's parts share one transaction; a schema change takes the schema lock and commits on its own
  if (svc.knex.isTransaction) {
    throw new ODataError('NOT_IMPLEMENTED', `${target.set.setName} cannot be written inside a $batch change set (a schema change commits on its own); send it as a request of its own or as a $batch part outside change sets`);
  }
  const body = method === 'DELETE' ? undefined : objectBody(target.body());
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && target.key !== undefined) await checkIfMatch(target, ifMatch, req, user, svc, handle);
  const outcome = await target.set.write({ method, key: target.key, body, user, model: svc.model(), knex: svc.knex, schema });
  const headers: Record<string, string> = { 'OData-Version': '4.0' };
  if (outcome.kind === 'deleted') return { status: 204, headers };
  const url = `${req.serviceRoot}/${target.set.setName}(${outcome.key})`;
  const prefer = parsePrefer(req.headers.prefer);
  const created = outcome.kind === 'created';
  if (created) headers.Location = url;
  const wantsBody = created ? prefer.return !== 'minimal' : prefer.return === 'representation';
  if (!wantsBody) {
    if (created) Object.assign(headers, { 'OData-EntityId': url, 'Preference-Applied': 'return=minimal' });
    return { status: 204, headers };
  }
  const read = await handle({ ...req, method: 'GET', path: `/${target.set.setName}(${outcome.key})`, body: undefined, caller: user }, svc);
  if (read.status !== 200) return read;
  if (!created) headers['Preference-Applied'] = 'return=representation';
  return { status: created ? 201 : 200, headers: { ...read.headers, ...headers }, body: read.body };
}
