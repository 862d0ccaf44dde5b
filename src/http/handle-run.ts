/**
 * A change set's run of same-shape POSTs (batch/request-runs.ts) as one unit: the stages the requests
 * share run once (version headers, URL length, parse, authorize, format and preferences); each body is
 * then read, planned, written and answered on its own, through the same planner, writer and responder
 * as a single request (handle.ts), so each request is validated, checked against the access rules and
 * answered as it would be alone. Anything but a plain write to the model's entity sets is declined, and
 * its requests run one by one.
 */
import { toODataError } from '../errors/odata-error';
import { authorizeRequest } from '../auth/authorize';
import { recordAccess } from '../auth/access';
import { checkSupportedOptions } from '../plan/plan-request';
import type { RequestContext } from '../plan/request-context';
import { writerContextOf, type WriterContext } from '../serialize/entity-writer';
import type { Executor } from '../sql/execute';
import { parseUri } from '../uri/parse-uri';
import type { UriRequest } from '../uri/ast';
import { executeWrite } from '../write/execute-write';
import { planWrite } from '../write/plan-write';
import { definitionTarget } from '../schema/definition-sets';
import { DEFINITION_SETS } from '../schema/registry';
import { isOperationCall } from '../operations/plan-operation';
import { checkQueryWidth, checkUrlLength } from '../limits/request-limits';
import type { RequestRun } from '../batch/request-runs';
import type { EdmModel } from '../edm/model';
import type { ApiRequest, ApiResponse } from './api-request';
import type { Services } from './handle';
import { monitorIdOf } from './async-requests';
import { withCanonicalKeys, type KeyedRequest } from './canonical-keys';
import { publicError } from './failures';
import { negotiateJson } from './negotiate';
import { parsePrefer, type Preferences } from './prefer';
import { checkVersions, errorResponse, ODATA_VERSION } from './protocol-version';
import { isQuerySegmentRequest } from './query-segment';
import { readRequestBody } from './request-body';
import { respondWrite } from './respond-write';
import { transferRouteOf } from './transfer-endpoint';

/** What the run's requests share, worked out once. */
interface SharedStages {
  readonly model: EdmModel;
  readonly uri: UriRequest;
  readonly prefer: Preferences;
  readonly context: RequestContext;
  readonly writer: WriterContext;
  readonly executor: () => Executor;
}

export async function handleRun(run: RequestRun, svc: Services): Promise<boolean> {
  const shared = sharedStages(run.shared, svc);
  if (shared === undefined) return false;
  for (let i = 0; i < run.size; i++) {
    let response: ApiResponse;
    try {
      response = await createOne(shared, run.shared.headers, run.body(i), svc);
    } catch (err) {
      response = errorResponse(publicError(toODataError(err), run.shared, svc.logger));
    }
    if (!(await run.answer(i, response))) break;
  }
  return true;
}

/** The shared stages, or undefined when the run is not a plain POST to the model (or fails before its bodies matter). */
function sharedStages(req: ApiRequest, svc: Services): SharedStages | undefined {
  const user = req.caller;
  if (user === undefined || req.method.toUpperCase() !== 'POST') return undefined;
  const prefer = parsePrefer(req.headers.prefer);
  if (prefer.respondAsync || monitorIdOf(req.path) !== undefined || isQuerySegmentRequest(req.path) || transferRouteOf(req) !== undefined) return undefined;
  const model = svc.model();
  let uri: UriRequest;
  try {
    checkVersions(req.headers);
    checkUrlLength(req.path, req.query, svc.requestLimits);
    uri = parseUri(req.path, req.query);
    checkQueryWidth(uri.options, svc.requestLimits);
    authorizeRequest(user, 'POST', uri);
    if (uri.segments[0]?.kind !== 'name' || definitionTarget(DEFINITION_SETS, uri) !== undefined || isOperationCall(model, uri)) return undefined;
    checkSupportedOptions(uri);
  } catch {
    // the same failure for every request: answered by the first, one request at a time
    return undefined;
  }
  const context: RequestContext = { user, limits: svc.limits, serviceRoot: req.serviceRoot, preferredPageSize: prefer.maxPageSize };
  let format: WriterContext['format'];
  try {
    format = negotiateJson(uri.options.format, req.headers.accept);
  } catch {
    return undefined;
  }
  const writer = writerContextOf(svc.dialect, model, req.serviceRoot, format, prefer.omitNulls);
  const executor = (): Executor => ({ knex: svc.knex, dialect: svc.dialect, access: recordAccess(model, user) });
  return { model, uri, prefer, context, writer, executor };
}

/**
 * One member: its body read and made canonical, planned, written and answered. Not an async function:
 * without an alternate key to look up, only the write itself waits (one suspension per member, not two).
 */
function createOne(shared: SharedStages, headers: ApiRequest['headers'], given: Pick<ApiRequest, 'body' | 'json'>, svc: Services): Promise<ApiResponse> {
  const read = () => readRequestBody({ headers, body: given.body, json: given.json }, svc.limits.maxBodyDepth);
  const keyed = withCanonicalKeys(shared.model, shared.uri, 'POST', read, shared.executor, shared.context.serviceRoot);
  return keyed instanceof Promise ? keyed.then((k) => writeOne(shared, headers, k, svc)) : writeOne(shared, headers, keyed, svc);
}

function writeOne(shared: SharedStages, headers: ApiRequest['headers'], keyed: KeyedRequest, svc: Services): Promise<ApiResponse> {
  const preconditions = { ifMatch: headers['if-match'], ifNoneMatch: headers['if-none-match'] };
  const plan = planWrite(shared.model, keyed.uri, { method: 'POST', body: keyed.body(), preconditions, returnPreference: shared.prefer.return }, shared.context);
  return executeWrite(shared.model, plan, svc).then((outcome) => respondWrite(outcome, shared.writer, ODATA_VERSION));
}
