/**
 * The Express adapter: turns an Express request into an ApiRequest, calls `handle`, writes the
 * ApiResponse, and logs one line per request. No OData logic lives here.
 */
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { ODataError, toODataError } from '../errors/odata-error';
import { wholeBody, type ApiRequest, type ApiResponse } from './api-request';
import { collectBounded } from './request-bytes';
import { errorResponse, handle, type Services } from './handle';
import { publicError, REQUEST_ID_HEADER, requestIdOf } from './failures';
import { refusalBeforeRouting } from './protocol-errors';
import { AUTH_ENDPOINTS, revokeEndpoint, tokenEndpoint } from './auth-endpoints';
import { takeQueryKey } from '../auth/credentials';
import { corsHeaders, preflightOf, SECURITY_HEADERS, type CorsPolicy } from './browser-headers';
import { clientViewOf, type ClientView, type ProxySettings } from './public-root';
import { bucketKeyOf } from '../limits/rate-limiter';
import { portalMiddleware } from './portal/portal-routes';
import { compressionFor, writeCompressed } from './compression';

export interface AppOptions {
  readonly basePath: string;
  readonly maxBodyBytes: number;
  readonly logger?: Logger;
  readonly cors: CorsPolicy;
  readonly proxy: ProxySettings;
}

const HSTS = 'max-age=31536000';

export function createApp(services: Services, options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const base = options.basePath.replace(/\/$/, '');
  app.use(portalMiddleware(services, options));
  app.use(async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const url = req.originalUrl;
    // what the log lines show: the URL without the API key (a credential)
    const logged = withoutQueryKey(url, services.auth.settings.apiKeyParameter);
    const requestId = requestIdOf(req.get(REQUEST_ID_HEADER));
    res.setHeader(REQUEST_ID_HEADER, requestId);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    for (const [name, value] of Object.entries(corsHeaders(options.cors, req.get('origin')))) res.setHeader(name, value);
    const preflight = preflightOf(options.cors, req.method, req.headers);
    if (preflight !== undefined) {
      const answer = preflight.kind === 'answer' ? { status: 204, headers: preflight.headers } : withHeaders(errorResponse(preflight.error), preflight.headers);
      writeWhole(res, answer, wholeBody(answer.body));
      options.logger?.info({ requestId, method: req.method, url: logged, status: answer.status }, 'request');
      return;
    }
    const refusal = refusalBeforeRouting(req);
    if (refusal) {
      // the body (if any) is not read: the connection closes after the answer
      const refused = withHeaders(errorResponse(refusal.error), Object.assign({ Connection: 'close' }, refusal.headers));
      writeWhole(res, refused, wholeBody(refused.body));
      options.logger?.info({ requestId, method: req.method, url: logged, status: refusal.error.status }, 'request');
      return;
    }
    let view: ClientView;
    try {
      view = clientViewOf({ headers: req.headers, remoteAddress: req.socket.remoteAddress, encrypted: 'encrypted' in req.socket && req.socket.encrypted === true }, base, options.proxy);
    } catch (err) {
      const refused = withHeaders(errorResponse(toODataError(err)), { Connection: 'close' });
      writeWhole(res, refused, wholeBody(refused.body));
      return;
    }
    if (view.https) res.setHeader('Strict-Transport-Security', HSTS);
    const authEndpoint = authEndpointOf(url);
    if (authEndpoint !== undefined) {
      const body = await collectBounded(req.iterator({ destroyOnReturn: false }), options.maxBodyBytes).catch(() => undefined);
      const request = { method: req.method, contentType: req.get('content-type'), body, remoteAddress: view.remoteAddress };
      const failed = (err: unknown) => errorResponse(publicError(toODataError(err), { method: req.method, path: url.split('?')[0], requestId }, options.logger));
      // sign-in attempts count against the address's bucket like any call without credentials
      const response = await services.rateLimiter.take(bucketKeyOf(undefined, view.remoteAddress), 1)
        .then(async (rate) => {
          if (rate.kind === 'refused') return withHeaders(errorResponse(rate.error), rate.headers);
          const answer = await (authEndpoint === 'token' ? tokenEndpoint(request, services.auth) : revokeEndpoint(request, services.auth));
          return rate.kind === 'granted' ? withHeaders(answer, rate.headers) : answer;
        })
        .catch(failed);
      writeWhole(res, response, wholeBody(response.body));
      options.logger?.info({ requestId, method: req.method, url: logged, status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      return;
    }
    if (url !== base && !url.startsWith(base + '/') && !url.startsWith(base + '?')) {
      res.status(404).type('application/json').send(JSON.stringify({ error: { code: 'NOT_FOUND', message: `The service root is ${base}`, details: [] } }));
      return;
    }
    const rest = url.slice(base.length);
    const q = rest.indexOf('?');
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    const path = q < 0 ? rest : rest.slice(0, q);
    const streamed = req.method === 'POST' && (path === '/$batch' || path === '/$batch/');
    // The body is read through the request's iterator, never destroying it: bytes a refused request
    // leaves unread are discarded after the answer (below).
    const bodiless = req.method === 'GET' || req.method === 'HEAD';
    const source = bodiless ? undefined : req.iterator({ destroyOnReturn: false });
    const body = streamed || source === undefined
      ? undefined
      : await collectBounded(source, options.maxBodyBytes).catch((err: unknown) => (err instanceof ODataError ? err : new ODataError('INVALID_PAYLOAD', 'The request body could not be read')));
    const apiRequest: ApiRequest = {
      method: req.method,
      path,
      query: q < 0 ? '' : rest.slice(q + 1),
      headers,
      serviceRoot: view.serviceRoot,
      requestId,
      remoteAddress: view.remoteAddress,
      body: body instanceof ODataError ? undefined : body,
      bodyStream: streamed ? source : undefined,
    };
    const response = body instanceof ODataError ? errorResponse(body) : await handle(apiRequest, services);
    // Node's own response API: the answer is complete (status, headers, body), so Express's send has
    // nothing to add (content negotiation and ETags are the handler's).
    await writeResponse(res, response, (err) => publicError(err, apiRequest, options.logger));
    // A request refused part-way (an oversized body, a malformed batch) leaves bytes unread: they are
    // read and dropped (never buffered) so the client can finish sending and read the answer; past a
    // bound the connection is closed.
    if ((streamed || body instanceof ODataError) && !req.readableEnded && !(await discardRest(req, options.maxBodyBytes))) req.socket.destroy();
    options.logger?.info({ requestId, method: req.method, url: logged, status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
  });
  return app;
}

/**
 * Writes an answer. A body in pieces is sent as it is made, waiting for the socket to drain between
 * pieces; one that fits in a single piece goes out whole, with a Content-Length like any other.
 */
async function writeResponse(res: Response, response: ApiResponse, failed: (err: ODataError) => ODataError): Promise<void> {
  const { body } = response;
  const coding = compressionFor(res.req, response);
  if (coding === undefined && (body === undefined || typeof body === 'string' || Buffer.isBuffer(body))) return writeWhole(res, response, body);
  try {
    if (coding !== undefined) return await writeCompressed(res, {}, response, coding);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return writeWhole(res, response, body);
    const pieces = body.chunks[Symbol.iterator]();
    let piece = pieces.next();
    let following = piece.done ? piece : pieces.next();
    if (following.done) return writeWhole(res, response, piece.done ? undefined : piece.value);
    res.writeHead(response.status, response.headers);
    while (!piece.done) {
      if (res.destroyed) return;
      if (!res.write(piece.value)) await drained(res);
      piece = following;
      following = piece.done ? piece : pieces.next();
    }
    res.end();
  } catch (err) {
    // Before the status line: an OData error like any other. After it: the answer is cut off (the
    // client sees a broken response, never a complete-looking wrong one).
    if (res.headersSent) {
      failed(toODataError(err));
      res.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const failure = errorResponse(failed(toODataError(err)));
    writeWhole(res, failure, wholeBody(failure.body));
  }
}

function authEndpointOf(url: string): 'token' | 'revoke' | undefined {
  const path = url.split('?')[0];
  if (path === AUTH_ENDPOINTS.token) return 'token';
  if (path === AUTH_ENDPOINTS.revoke) return 'revoke';
  return undefined;
}

function withoutQueryKey(url: string, parameter: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const { query, key } = takeQueryKey(url.slice(q + 1), parameter);
  return key === undefined ? url : `${url.slice(0, q)}?${query}`;
}

function withHeaders(response: ApiResponse, extra: Record<string, string>): ApiResponse {
  return { status: response.status, headers: Object.assign({}, response.headers, extra), body: response.body };
}

function writeWhole(res: Response, response: ApiResponse, body: string | Buffer | undefined): void {
  // a HEAD answer keeps the Content-Length (if any) the handler gave; every other whole body has its own
  if (body !== undefined) res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(response.status, response.headers);
  res.end(body);
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Reads and drops what is left of a body; false when more than `limit` bytes were still coming. */
function discardRest(req: Request, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(false);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(true));
    req.on('error', () => resolve(false));
    req.on('close', () => resolve(req.readableEnded));
    req.resume();
  });
}
