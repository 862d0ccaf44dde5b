/**
 * `POST /$batch`: reads the batch (multipart/mixed or JSON) completely and
 * checks it before anything runs, runs it through the single-request handler, and writes the answer
 * in the batch's own format, synchronously or (with `Prefer: respond-async`) through a status monitor
 * (async-requests.ts; the batch is read and checked before the 202).
 */
import { BATCH_STATUS_SEGMENT } from '../batch/batch-paths';
import type { BatchItem } from '../batch/batch-types';
import { executeBatchInto } from '../batch/execute-batch';
import { JsonBatchWriter, parseJsonBatch } from '../batch/json-batch';
import { MultipartBatchReader } from '../batch/multipart-reader';
import { MultipartBatchWriter } from '../batch/multipart-writer';
import { ODataError } from '../errors/odata-error';
import { ReadSnapshot } from '../db/read-snapshot';
import type { ApiRequest, ApiResponse } from './api-request';
import { acceptAsync, withoutRespondAsync } from './async-requests';
import type { Services } from './handle';
import { parsePrefer } from './prefer';
import { boundedChunks, collectBounded } from './request-bytes';
import { checkJsonText } from './body-guard';
import { handleRun } from './handle-run';
import { bucketKeyOf } from '../limits/rate-limiter';

const JSON_BATCH_ENVELOPE_DEPTH = 3;

type Handler = (req: ApiRequest, svc: Services) => Promise<ApiResponse>;

/** Headers of the batch request that every part runs with: the identity of the caller. */
const INHERITED = ['authorization', 'cookie'];

export async function handleBatch(req: ApiRequest, svc: Services, handle: Handler, errorResponse: (e: ODataError) => ApiResponse): Promise<ApiResponse> {
  if (req.method.toUpperCase() !== 'POST') throw new ODataError('METHOD_NOT_ALLOWED', 'A batch is sent with POST');
  const prefer = parsePrefer(req.headers.prefer);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const json = type === 'application/json';
  const items = await readBatch(req, svc, type);
  // every part counts against the caller's rate limit: the batch request itself was one, the rest are taken now
  const parts = partCount(items);
  svc.ops?.metrics.observeBatchParts(parts);
  const rate = await svc.rateLimiter.take(bucketKeyOf(req.caller, req.remoteAddress), parts - 1);
  if (rate.kind === 'refused') return withHeaders(errorResponse(rate.error), rate.headers);
  const counted = rate.kind === 'granted' ? rate.headers : {};
  const inherited = Object.fromEntries(INHERITED.flatMap((h) => (req.headers[h] !== undefined ? [[h, req.headers[h]!]] : [])));
  const applied = prefer.continueOnError ? ['odata.continue-on-error'] : [];
  const run = async (): Promise<ApiResponse> => {
    // each answer is encoded as it comes: a change set's thousand answers are held as bytes, not objects
    const writer = json ? new JsonBatchWriter() : new MultipartBatchWriter();
    // SQLite: the parts' reads on the service's connection share one read transaction while they run back to back
    const snapshot = svc.reads !== undefined ? new ReadSnapshot() : undefined;
    const services = snapshot === undefined ? svc : Object.assign({}, svc, { readSnapshot: snapshot });
    try {
      await executeBatchInto(items, { services, handle: synchronousPart(handle), handleRun, serviceRoot: req.serviceRoot, inherited, continueOnError: prefer.continueOnError, requestId: req.requestId, caller: req.caller }, writer);
    } finally {
      snapshot?.end();
    }
    const headers: Record<string, string> = { 'OData-Version': json ? '4.01' : '4.0' };
    if (applied.length) headers['Preference-Applied'] = applied.join(', ');
    headers['Content-Type'] = writer instanceof MultipartBatchWriter ? writer.contentType : 'application/json';
    return { status: 200, headers, body: writer.finish() };
  };
  if (!prefer.respondAsync) return withHeaders(await run(), counted);
  return withHeaders(await acceptAsync(req, svc.asyncJobs, run, errorResponse, { segment: BATCH_STATUS_SEGMENT, applied }), counted);
}

function partCount(items: readonly BatchItem[]): number {
  return items.reduce((n, item) => n + (item.kind === 'request' ? 1 : item.parts.length), 0);
}

function withHeaders(response: ApiResponse, extra: Readonly<Record<string, string>>): ApiResponse {
  return { status: response.status, headers: Object.assign({}, response.headers, extra), body: response.body };
}

/** `respond-async` applies to a batch as a whole, never to a request inside it (Part 1 §8.2.8.8). */
function synchronousPart(handle: Handler): Handler {
  return (part, svc) => handle(withoutRespondAsync(part), svc);
}

async function readBatch(req: ApiRequest, svc: Services, type: string): Promise<BatchItem[]> {
  if (type === 'multipart/mixed') {
    const reader = new MultipartBatchReader(req.headers['content-type'] ?? '', svc.batch.limits);
    for await (const chunk of boundedChunks(bytesOf(req), svc.batch.maxBodyBytes)) reader.write(chunk);
    return reader.end();
  }
  if (type === 'application/json') {
    const body = await collectBounded(bytesOf(req), svc.batch.maxBodyBytes);
    const text = body.toString('utf8');
    // A part's body sits three levels down: {"requests":[{"body":…}]}.
    checkJsonText(text, svc.limits.maxBodyDepth + JSON_BATCH_ENVELOPE_DEPTH, 'JSON batch');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ODataError('INVALID_BATCH', `The JSON batch is not valid JSON: ${(err as Error).message}`);
    }
    return parseJsonBatch(parsed, svc.batch.limits);
  }
  throw new ODataError('UNSUPPORTED_MEDIA_TYPE', `A batch is multipart/mixed or application/json, not '${type || '(none)'}'`, { target: 'Content-Type' });
}

/** The body as it arrives, or the buffered body (a batch handed over already read, e.g. by a test). */
function bytesOf(req: ApiRequest): AsyncIterable<Buffer> | Buffer[] {
  return req.bodyStream ?? (req.body ? [req.body] : []);
}
