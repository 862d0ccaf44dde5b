/**
 * The core request handler: ApiRequest → parse → plan → execute → serialize → ApiResponse.
 * Express, $batch and tests all call this; it never throws (errors become OData error responses).
 */
import { metadataDocument } from '../edm/metadata-document';
import { metadataEtagOf } from '../edm/schema-change';
import type { EdmModel } from '../edm/model';
import { ODataError, toODataError } from '../errors/odata-error';
import type { Plan } from '../plan/plan';
import { checkSupportedOptions, planRequest } from '../plan/plan-request';
import { ANONYMOUS, type QueryLimits, type RequestContext, type RequestUser } from '../plan/request-context';
import { CHALLENGE, type Authentication, type Authenticator } from '../auth/authenticate';
import { authorizeRequest, isOpenDocument } from '../auth/authorize';
import { recordAccess } from '../auth/access';
import { encodeSkiptoken } from '../plan/paging';
import type { Dialect } from '../sql/dialect/dialect';
import { executeCount, executeRead, parentExists, type Executor } from '../sql/execute';
import { noteCount, runsInline } from '../sql/inline-reads';
import { contentType, type JsonFormat } from '../serialize/format';
import { collectionJson, entityBody, propertyBody, propertyValue, referencesBody } from '../serialize/read-response';
import { serviceDocument } from '../serialize/service-document';
import { jsonText, plainText } from '../serialize/json-text';
import { writerContextOf, type WriterContext } from '../serialize/entity-writer';
import type { Knex } from 'knex';
import type { ReadSnapshot } from '../db/read-snapshot';
import type { ReadPool } from '../db/read-pool';
import { parseUri } from '../uri/parse-uri';
import { etagMatches, etagOf } from '../serialize/etag';
import { executeWrite } from '../write/execute-write';
import { planWrite, type WriteMethod } from '../write/plan-write';
import type { WriteHooks } from '../write/session';
import { readRequestBody } from './request-body';
import { withCanonicalKeys } from './canonical-keys';
import type { AsyncJobs } from './async-jobs';
import { acceptAsync, monitorIdOf, statusMonitor, withoutRespondAsync } from './async-requests';
import type { BatchLimits } from '../batch/batch-types';
import { handleBatch } from './batch-endpoint';
import { handleTransfer, transferRouteOf } from './transfer-endpoint';
import { handleDefinitionWrite } from './definition-endpoint';
import { definitionTarget, type SchemaChanger } from '../schema/definition-sets';
import { DEFINITION_SETS } from '../schema/registry';
import { executeOperation } from '../operations/execute-operation';
import { isOperationCall, planOperation } from '../operations/plan-operation';
import { respondOperation } from './respond-operation';
import { respondWrite } from './respond-write';
import type { ApiRequest, ApiResponse } from './api-request';
import { negotiateJson, negotiateMetadata, negotiateText } from './negotiate';
import { parsePrefer } from './prefer';
import { nextLinkFor } from './next-link';
import { keepPreparedRead, preparedRead, preparedReadKey, type PreparedRead, type ReadRequestPlan } from './prepared-reads';
import { isQuerySegmentRequest, queryAsGet } from './query-segment';
import { publicError } from './failures';
import { stageStart } from '../observe/stage-timing';
import type { OpsServices } from '../observe/ops-endpoints';
import type { Logger } from 'pino';
import { bucketKeyOf, type RateLimiter } from '../limits/rate-limiter';
import { checkQueryWidth, checkUrlLength, type RequestLimits } from '../limits/request-limits';
import { isVanishedColumn } from '../sql/vanished-column';
import { newerModelServed } from './newer-model';
import { checkVersions, errorResponse, ODATA_VERSION } from './protocol-version';

export { errorResponse };

export interface Services {
  /** the current model; replaced at run time when custom fields or tables change */
  model(): EdmModel;
  readonly knex: Knex;
  /** SQLite: the read processes (reads outside transactions run there, off the event loop) */
  readonly reads?: ReadPool;
  readonly dialect: Dialect;
  readonly limits: QueryLimits;
  readonly hooks: WriteHooks;
  readonly batch: { readonly limits: BatchLimits; readonly maxBodyBytes: number };
  /** asynchronous requests (`Prefer: respond-async`) and their results, kept in the database */
  readonly asyncJobs: AsyncJobs;
  /** where failures are logged with their cause (absent: not logged) */
  readonly logger?: Logger;
  /** the authenticate stage: credentials → the caller */
  readonly auth: Authenticator;
  /** token buckets per caller, kept in the database */
  readonly rateLimiter: RateLimiter;
  /** URL length, `$select` and `$expand` width */
  readonly requestLimits: RequestLimits;
  /** PostgreSQL: where reads outside transactions go (ODATA_READ_REPLICA_URL; absent: `knex`) */
  readonly readReplica?: Knex;
  /** SQLite, the parts of one `$batch`: the read transaction their reads share (db/read-snapshot.ts) */
  readonly readSnapshot?: ReadSnapshot;
  /** metrics and readiness (absent: nothing counted) */
  readonly ops?: OpsServices;
  /** applies schema changes (writes to definition sets such as FieldDefinitions; absent: they answer 501) */
  readonly schema?: SchemaChanger;
}

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function handle(req: ApiRequest, svc: Services): Promise<ApiResponse> {
  try {
    return await handleUnsafe(req, svc);
  } catch (err) {
    return errorResponse(publicError(toODataError(err), req, svc.logger));
  }
}

/**
 * The stages: authenticate (the caller, or 401) → authorize (role and scopes, or 403) → parse → plan
 * → execute → respond. A request that already carries its caller (a `$batch` part, an asynchronous
 * job) was authenticated with its batch or when it was accepted.
 */
async function handleUnsafe(req: ApiRequest, svc: Services): Promise<ApiResponse> {
  checkVersions(req.headers);
  checkUrlLength(req.path, req.query, svc.requestLimits);
  if (req.caller !== undefined) return route(req, req.caller, svc);
  const authStarted = stageStart();
  const outcome = await svc.auth.authenticate(req.headers, req.query, req.remoteAddress);
  const rate = await svc.rateLimiter.take(bucketKeyOf(outcome.kind === 'user' ? outcome.user : undefined, req.remoteAddress), 1);
  req.timing?.add('auth', authStarted);
  if (rate.kind === 'refused') return withHeaders(errorResponse(rate.error), rate.headers);
  const response = await authenticated(req, outcome, svc).catch((err: unknown) => errorResponse(publicError(toODataError(err), req, svc.logger)));
  // what a signed-in caller was answered is theirs alone: no shared cache keeps it
  const privacy = outcome.kind === 'user' ? NO_STORE : {};
  // a $batch has already said the level left after all its parts were counted (handleBatch)
  const level = rate.kind === 'granted' && !('RateLimit' in response.headers) ? rate.headers : {};
  return withHeaders(response, Object.assign({}, privacy, level));
}

const NO_STORE: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' };

async function authenticated(req: ApiRequest, outcome: Authentication, svc: Services): Promise<ApiResponse> {
  switch (outcome.kind) {
    case 'refused':
      return withHeaders(errorResponse(outcome.error), outcome.headers);
    case 'anonymous': {
      if (!isOpenDocument(req.method.toUpperCase(), req.path)) {
        return withHeaders(errorResponse(new ODataError('UNAUTHENTICATED', 'Sign in: send a Bearer token or HTTP Basic credentials', { target: 'Authorization' })), { 'WWW-Authenticate': CHALLENGE });
      }
      return route(signedRequest(req, outcome.query, ANONYMOUS), ANONYMOUS, svc);
    }
    case 'user':
      return route(signedRequest(req, outcome.query, outcome.user), outcome.user, svc);
  }
}

/** The request with its caller (and the query without credentials), spelled out: copying it with Object.assign takes V8's slow path. */
function signedRequest(req: ApiRequest, query: string, caller: RequestUser): ApiRequest {
  // every member named (the type refuses a copy that forgets one)
  const signed: { readonly [K in keyof Required<ApiRequest>]: ApiRequest[K] } = {
    method: req.method, path: req.path, query, headers: req.headers, serviceRoot: req.serviceRoot, remoteAddress: req.remoteAddress, caller,
    requestId: req.requestId, body: req.body, json: req.json, bodyStream: req.bodyStream, timing: req.timing,
  };
  return signed;
}

function withHeaders(response: ApiResponse, extra: Readonly<Record<string, string>>): ApiResponse {
  return { status: response.status, headers: Object.assign({}, response.headers, extra), body: response.body };
}

/** How long a read that met a vanished column waits for the next model (a schema change's commit, or another process's change seen by the lifecycle's poll). */
const REPLAN_WAIT_MS = 2000;

async function route(req: ApiRequest, user: RequestUser, svc: Services, replanned = false): Promise<ApiResponse> {
  if (req.path === '/$batch' || req.path === '/$batch/') return handleBatch(req, svc, handle, errorResponse);
  const monitorId = monitorIdOf(req.path);
  if (monitorId !== undefined) return statusMonitor(req, svc.asyncJobs, monitorId, errorResponse);
  if (parsePrefer(req.headers.prefer).respondAsync) {
    return acceptAsync(req, svc.asyncJobs, () => handle(withoutRespondAsync(req), svc), errorResponse);
  }
  if (isQuerySegmentRequest(req.path)) return route(queryAsGet(req), user, svc);
  const transfer = transferRouteOf(req);
  if (transfer !== undefined) return handleTransfer(transfer, req, user, svc, handle);
  const method = req.method.toUpperCase();
  const model = svc.model();
  // a read asked before in the same words, by the same caller, on the same model: planned then
  const readKey = method === 'GET' || method === 'HEAD' ? preparedReadKey(req, user) : undefined;
  const kept = readKey === undefined ? undefined : preparedRead(model, readKey);
  if (kept !== undefined) {
    req.timing?.end('plan');
    return answerRead(kept, req, user, svc, model, method, replanned);
  }
  const parsed = parseUri(req.path, req.query);
  checkQueryWidth(parsed.options, svc.requestLimits);
  authorizeRequest(user, method, parsed);
  const executor = (): Executor => ({ knex: svc.knex, dialect: svc.dialect, access: recordAccess(model, user) });
  const { uri, body } = await withCanonicalKeys(model, parsed, method, () => readRequestBody(req, svc.limits.maxBodyDepth), executor, req.serviceRoot);
  req.timing?.end('parse');
  const definition = WRITE_METHODS.has(method) ? definitionTarget(DEFINITION_SETS, uri) : undefined;
  if (definition) return handleDefinitionWrite({ ...definition, method, body }, req, user, svc, svc.schema, handle);
  const prefer = parsePrefer(req.headers.prefer);
  const context: RequestContext = {
    user, limits: svc.limits, serviceRoot: req.serviceRoot, preferredPageSize: prefer.maxPageSize,
  };
  const preconditions = { ifMatch: req.headers['if-match'], ifNoneMatch: req.headers['if-none-match'] };
  const writerContext = (): WriterContext => writerContextOf(svc.dialect, model, req.serviceRoot, negotiateJson(uri.options.format, req.headers.accept), prefer.omitNulls);
  if (isOperationCall(model, uri)) {
    checkSupportedOptions(uri);
    const ctx = writerContext();
    const plan = planOperation(model, uri, { method, body: body(), preconditions }, context);
    req.timing?.end('plan');
    const outcome = await executeOperation(model, plan, svc);
    req.timing?.end('db');
    const response = respondOperation(plan.operation, outcome, ctx, ODATA_VERSION);
    return method === 'HEAD' ? withoutBody(response) : response;
  }
  if (WRITE_METHODS.has(method) && uri.segments[0]?.kind === 'name') {
    checkSupportedOptions(uri);
    const ctx = writerContext();
    const plan = planWrite(model, uri, {
      method: method as WriteMethod, body: body(), preconditions, returnPreference: prefer.return,
    }, context);
    req.timing?.end('plan');
    const outcome = await executeWrite(model, plan, svc);
    req.timing?.end('db');
    return respondWrite(outcome, ctx, ODATA_VERSION);
  }
  const plan = planRequest(model, uri, context);
  req.timing?.end('plan');
  if (method !== 'GET' && method !== 'HEAD') throw new ODataError('METHOD_NOT_ALLOWED', `${method} is not allowed on this resource`);
  if (plan.kind !== 'read') {
    const response = respond(plan, req, svc, model, uri.options.format);
    return method === 'HEAD' ? withoutBody(response) : response;
  }
  const prepared = prepareRead(plan, req, svc, model, uri.options.format);
  req.timing?.end('plan');
  // an alternate key in the path was resolved by a lookup in the data: that read is not kept
  if (readKey !== undefined && uri === parsed) keepPreparedRead(model, readKey, prepared);
  return answerRead(prepared, req, user, svc, model, method, replanned);
}

async function answerRead(prepared: PreparedRead, req: ApiRequest, user: RequestUser, svc: Services, model: EdmModel, method: string, replanned: boolean): Promise<ApiResponse> {
  let response: ApiResponse;
  try {
    response = await respondRead(prepared, req, svc, model);
  } catch (err) {
    // planned on a model a schema change replaces (a dropped column): once more on the next one
    if (replanned || !isVanishedColumn(err) || !(await newerModelServed(svc.model, model, REPLAN_WAIT_MS))) throw err;
    return route(req, user, svc, true);
  }
  if (method === 'HEAD') return withoutBody(response);
  return response;
}

function withoutBody(response: ApiResponse): ApiResponse {
  return { status: response.status, headers: response.headers };
}

function ok(status: number, type: string, body: ApiResponse['body'], extra: Record<string, string> = {}): ApiResponse {
  const headers: Record<string, string> = { 'OData-Version': ODATA_VERSION, ...extra };
  if (body !== undefined) headers['Content-Type'] = type;
  return { status, headers, body };
}

function respond(plan: Plan & { kind: 'service-document' | 'metadata' }, req: ApiRequest, svc: Services, model: EdmModel, format: string | undefined): ApiResponse {
  switch (plan.kind) {
    case 'service-document': {
      const f = negotiateJson(format, req.headers.accept);
      return ok(200, contentType(f), JSON.stringify(serviceDocument(model, req.serviceRoot, f)));
    }
    case 'metadata': {
      const kind = negotiateMetadata(format, req.headers.accept);
      const doc = metadataDocument(model, svc.limits, kind);
      const etag = metadataEtagOf(model);
      return ok(200, kind === 'xml' ? 'application/xml' : 'application/json', doc, etag ? { ETag: etag } : {});
    }
  }
}

/** What a read's answer needs besides its rows: negotiated format, writer context, fixed headers (kept with the plan: prepared-reads.ts). */
function prepareRead(plan: ReadRequestPlan, req: ApiRequest, svc: Services, model: EdmModel, format: string | undefined): PreparedRead {
  const shape = plan.shape;
  const textual = shape.kind === 'count' || (shape.kind === 'property' && shape.raw);
  let f: JsonFormat = { metadata: 'minimal', ieee754: false };
  if (textual) negotiateText(format, req.headers.accept);
  else f = negotiateJson(format, req.headers.accept);
  const omitNulls = !textual && parsePrefer(req.headers.prefer).omitNulls;
  const writer = writerContextOf(svc.dialect, model, req.serviceRoot, f, omitNulls);
  const preferences: string[] = [];
  if (plan.context.preferredPageSize !== undefined && plan.read.pageSize === plan.context.preferredPageSize) {
    preferences.push(`odata.maxpagesize=${plan.context.preferredPageSize}`);
  }
  if (omitNulls) preferences.push('omit-values=nulls');
  const applied: Record<string, string> = preferences.length > 0 ? { 'Preference-Applied': preferences.join(', ') } : {};
  return { plan, textual, format: f, writer, type: contentType(f), applied: Object.freeze(applied) };
}

async function respondRead(prepared: PreparedRead, req: ApiRequest, svc: Services, model: EdmModel): Promise<ApiResponse> {
  const { plan, writer: ctx, type, applied } = prepared;
  const access = recordAccess(model, plan.context.user);
  // reads whose shape bounds their work cost less than the trip to a read process: they stay here
  const reads = svc.reads !== undefined && !runsInline(plan, access, svc.reads) ? svc.reads : undefined;
  const ex: Executor = { knex: svc.readReplica ?? svc.knex, dialect: svc.dialect, reads, access, readSnapshot: svc.readSnapshot };
  const shape = plan.shape;
  const missingParent = async () => plan.parentSource !== undefined && !(await parentExists(ex, plan.parentSource));

  switch (shape.kind) {
    case 'count': {
      const n = await executeCount(ex, plan.read);
      req.timing?.end('db');
      if (svc.reads !== undefined) noteCount(plan, access, svc.reads, n);
      if (n === 0 && (await missingParent())) throw notFound();
      return ok(200, 'text/plain', String(n));
    }
    case 'collection': case 'references': {
      const result = await executeRead(ex, plan.read, plan.read.count);
      req.timing?.end('db');
      if (result.nodes.length === 0 && (await missingParent())) throw notFound();
      if (shape.kind === 'references' && shape.single) {
        const body = referencesBody(ctx, plan, result, true, undefined);
        if (!body) throw notFound();
        return ok(200, type, jsonText(body));
      }
      const next = result.nextKeyset ? nextLinkFor(req, encodeSkiptoken(model.version, result.nextKeyset), result.remainingTop) : undefined;
      if (shape.kind === 'collection') return ok(200, type, { chunks: collectionJson(ctx, plan, result, next) }, applied);
      return ok(200, type, JSON.stringify(referencesBody(ctx, plan, result, false, next)), applied);
    }
    case 'entity': {
      const result = await executeRead(ex, plan.read, false);
      req.timing?.end('db');
      const body = entityBody(ctx, plan, result);
      if (!body) {
        if (plan.parentSource && !(await missingParent())) return ok(204, type, undefined);
        throw notFound();
      }
      const etag = etagOf(plan.read.entitySet, result.nodes[0].row, svc.dialect);
      const tagged: Record<string, string> = etag ? Object.assign({ ETag: etag }, applied) : applied;
      const ifNoneMatch = req.headers['if-none-match'];
      if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) return ok(304, type, undefined, tagged);
      return ok(200, type, jsonText(body), tagged);
    }
    case 'property': {
      const result = await executeRead(ex, plan.read, false);
      req.timing?.end('db');
      const value = propertyValue(ctx, plan.read, result, shape.path);
      if (value === undefined) {
        if (plan.parentSource && !(await missingParent())) return ok(204, type, undefined);
        throw notFound();
      }
      if (value === null) return ok(204, type, undefined);
      if (shape.raw) return ok(200, 'text/plain', plainText(value));
      const leaf = shape.path[shape.path.length - 1];
      return ok(200, type, jsonText(propertyBody(ctx, plan, value, leaf.type.kind === 'complex' && !leaf.collection)), applied);
    }
  }
}

function notFound(): ODataError {
  return new ODataError('NOT_FOUND', 'No entity exists at this address');
}
