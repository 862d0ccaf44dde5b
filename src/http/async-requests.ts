/**
 * `Prefer: respond-async` on any request (OData 4.01 Part 1 §8.2.8.8, §11.6): the request is accepted
 * with 202 and a status monitor, runs detached through the ordinary handler, and its complete answer
 * is kept (AsyncJobs, in the database) until it expires. The status monitor answers 202 while the
 * request runs, then 200 with the answer as an application/http message; DELETE forgets it.
 */
import { writeHttpMessage } from '../batch/multipart-writer';
import { BATCH_STATUS_SEGMENT } from '../batch/batch-paths';
import { ODataError, toODataError } from '../errors/odata-error';
import { gatherBody, wholeBody, type ApiRequest, type ApiResponse } from './api-request';
import type { AsyncJobs, FinishedResponse, RequestSummary } from './async-jobs';

/** Status monitors of asynchronous requests other than batches live below this segment. */
export const ASYNC_STATUS_SEGMENT = '$async';

const MONITOR_PREFIXES = [`/${ASYNC_STATUS_SEGMENT}/`, `/${BATCH_STATUS_SEGMENT}/`];

/** Seconds a client is asked to wait between polls. */
const RETRY_AFTER = '1';

type ErrorResponder = (err: ODataError) => ApiResponse;

/** The job id when `path` addresses a status monitor. */
export function monitorIdOf(path: string): string | undefined {
  const prefix = MONITOR_PREFIXES.find((p) => path.startsWith(p));
  return prefix === undefined ? undefined : decodeURIComponent(path.slice(prefix.length));
}

/** The request as it runs once detached, or inside a batch: `Prefer` without `respond-async`. */
export function withoutRespondAsync(req: ApiRequest): ApiRequest {
  if (req.headers.prefer === undefined) return req;
  const kept = req.headers.prefer.split(',').filter((item) => item.trim() !== '' && item.split('=')[0].trim().toLowerCase() !== 'respond-async');
  return Object.assign({}, req, { headers: Object.assign({}, req.headers, { prefer: kept.length > 0 ? kept.join(',') : undefined }) });
}

/**
 * Starts `run` as an asynchronous job and answers 202 with its status monitor. The request's own
 * failures (unknown resource, bad body, …) are its result, read from the monitor like any answer.
 */
export async function acceptAsync(
  req: ApiRequest, jobs: AsyncJobs, run: () => Promise<ApiResponse>, errorResponse: ErrorResponder,
  options: { segment?: string; applied?: readonly string[] } = {},
): Promise<ApiResponse> {
  const summary: RequestSummary = { method: req.method.toUpperCase(), url: req.path + (req.query ? `?${req.query}` : ''), requestedBy: req.caller?.id ?? null };
  const finished = async (): Promise<FinishedResponse> => {
    const response = await run();
    return keepable({ ...response, body: await gatherBody(response.body) });
  };
  const id = await jobs.start(summary, finished, (err) => keepable(errorResponse(toODataError(err))));
  return {
    status: 202,
    headers: {
      'OData-Version': '4.0', Location: monitorUrl(req, id, options.segment ?? ASYNC_STATUS_SEGMENT), 'Retry-After': RETRY_AFTER,
      'Preference-Applied': ['respond-async', ...(options.applied ?? [])].join(', '),
    },
  };
}

/** `GET` (202 while running, then 200 with the answer) and `DELETE` (forget) on a status monitor. */
export async function statusMonitor(req: ApiRequest, jobs: AsyncJobs, id: string, errorResponse: ErrorResponder): Promise<ApiResponse> {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'DELETE') {
    throw new ODataError('METHOD_NOT_ALLOWED', `A status monitor answers GET and DELETE, not ${method}`);
  }
  const job = await jobs.status(id, () => keepable(errorResponse(new ODataError(
    'ASYNC_REQUEST_ABANDONED',
    'The process running this asynchronous request stopped before it finished; whether its changes were made is unknown',
  ))));
  // another caller's job is answered like an unknown one: its existence is not theirs to learn
  if (job.state === 'missing' || job.request.requestedBy !== (req.caller?.id ?? null)) {
    throw new ODataError('NOT_FOUND', `No asynchronous request ${id} (unknown, cancelled, expired, or another caller's)`);
  }
  if (method === 'DELETE') {
    // A read can be dropped at any moment; a write runs to its end once started (one transaction), so
    // it cannot be cancelled half-way and its result is forgotten only once it is there.
    if (job.state === 'running' && job.request.method !== 'GET' && job.request.method !== 'HEAD') {
      throw new ODataError('CONFLICT', 'A running write cannot be cancelled; DELETE the status monitor after it has finished to forget its result');
    }
    await jobs.forget(id);
    return { status: 204, headers: { 'OData-Version': '4.0' } };
  }
  if (job.state === 'running') {
    return { status: 202, headers: { 'OData-Version': '4.0', Location: monitorUrl(req, id), 'Retry-After': RETRY_AFTER } };
  }
  const { response } = job;
  return {
    status: 200,
    headers: { 'OData-Version': '4.0', 'Content-Type': 'application/http', 'Content-Transfer-Encoding': 'binary', AsyncResult: String(response.status) },
    body: writeHttpMessage(response.status, { ...response.headers }, response.body),
  };
}

function monitorUrl(req: ApiRequest, id: string, segment?: string): string {
  if (segment !== undefined) return `${req.serviceRoot}/${segment}/${id}`;
  return `${req.serviceRoot}${req.path}`;
}

/** The answer as it is kept: its whole body, with a Content-Length so a reader of the message knows where it ends. */
function keepable(response: ApiResponse): FinishedResponse {
  const body = wholeBody(response.body);
  const headers = body === undefined ? response.headers : Object.assign({}, response.headers, { 'Content-Length': String(Buffer.byteLength(body)) });
  return { status: response.status, headers, body };
}
