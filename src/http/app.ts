/**
 * The HTTP adapter: turns a Node request into an ApiRequest, calls `handle`, writes the ApiResponse,
 * and logs one line per request. No OData logic lives here.
 *
 * Requests below the service root go straight from node:http to `serveRequest` (an OData request
 * pays for no router); every other path goes through the Express application, where ancillary
 * routes live (`/auth/…` and whatever is mounted on it), and ends in the same `serveRequest`.
 * What every answer must carry (request id, security and CORS headers) is done in `serveRequest`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
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
import { portalMiddleware, portalRouteOf } from './portal/portal-routes';
import { discardRest, writeResponse, writeWhole, type Headers } from './write-response';
import { StageTiming } from '../observe/stage-timing';
import { resourceLabel } from '../observe/metrics';
import { answerOps, opsEndpointOf } from '../observe/ops-endpoints';

export interface AppOptions {
  readonly basePath: string;
  readonly maxBodyBytes: number;
  readonly logger?: Logger;
  readonly cors: CorsPolicy;
  readonly proxy: ProxySettings;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type Serve = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const HSTS = 'max-age=31536000';
const REQUEST_ID_KEY = REQUEST_ID_HEADER.toLowerCase();

/** What node:http calls: OData URLs go to the adapter directly, anything else to the Express application. */
export function createRequestListener(services: Services, options: AppOptions): RequestListener {
  const serve = adapterOf(services, options);
  const app = createApp(services, options, serve);
  const base = basePathOf(options);
  return (req, res) => {
    const url = req.url ?? '/';
    const belowRoot = url.startsWith(base) && (url.length === base.length || url[base.length] === '/' || url[base.length] === '?');
    // the OpenAPI document, and the landing page for a browser at the root, are the portal's (Express)
    if (belowRoot && portalRouteOf(req.method, url, req.headers.accept, base) === undefined) {
      serve(req, res).catch((err: unknown) => lastResort(res, err, options.logger));
      return;
    }
    void app(req, res);
  };
}

/** The Express application for the paths outside the service root; unmatched requests end in the adapter. */
export function createApp(services: Services, options: AppOptions, serve: Serve = adapterOf(services, options)): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(portalMiddleware(services, options));
  app.use((req: IncomingMessage, res: ServerResponse) => serve(req, res));
  return app;
}

function basePathOf(options: AppOptions): string {
  return options.basePath.replace(/\/$/, '');
}

/** Nothing should reach here (the adapter answers its own failures); if something does, the client still gets an answer. */
function lastResort(res: ServerResponse, err: unknown, logger: Logger | undefined): void {
  logger?.error({ err }, 'request failed outside the handler');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const failure = errorResponse(new ODataError('INTERNAL_ERROR', 'An internal error occurred'));
  writeWhole(res, {}, failure, wholeBody(failure.body));
}

function adapterOf(services: Services, options: AppOptions): Serve {
  const base = basePathOf(options);
  // a logger below `info` writes no request lines: their fields are not even gathered
  const requestLog = options.logger?.isLevelEnabled('info') === true ? options.logger : undefined;
  const { cors, proxy, maxBodyBytes } = options;
  return async (req, res) => {
    const started = process.hrtime.bigint();
    const timing = new StageTiming();
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    // every answer is counted in the metrics under a bounded label (see resourceLabel), and logged
    const logLine = (status: number, entitySet = 'other') => {
      services.ops?.metrics.observeRequest(entitySet, method, status, timing.elapsedSeconds());
      requestLog?.info({
        requestId, method, url: withoutQueryKey(url, services.auth.settings.apiKeyParameter), status, ms: Number(process.hrtime.bigint() - started) / 1e6,
      }, 'request');
    };
    const requestId = requestIdOf(single(req.headers[REQUEST_ID_KEY]));
    const origin = single(req.headers.origin);
    // headers every answer carries; the answer's own are added when it is written
    const common: Headers = Object.assign({ [REQUEST_ID_HEADER]: requestId }, SECURITY_HEADERS, cors.kind === 'off' ? undefined : corsHeaders(cors, origin));
    const preflight = preflightOf(cors, method, req.headers);
    if (preflight !== undefined) {
      const answer = preflight.kind === 'answer' ? { status: 204, headers: preflight.headers } : withHeaders(errorResponse(preflight.error), preflight.headers);
      writeWhole(res, common, answer, wholeBody(answer.body), timing);
      logLine(answer.status);
      return;
    }
    const refusal = refusalBeforeRouting(req);
    if (refusal) {
      // the body (if any) is not read: the connection closes after the answer
      const refused = withHeaders(errorResponse(refusal.error), Object.assign({ Connection: 'close' }, refusal.headers));
      writeWhole(res, common, refused, wholeBody(refused.body), timing);
      logLine(refusal.error.status);
      return;
    }
    let view: ClientView;
    try {
      view = clientViewOf({ headers: req.headers, remoteAddress: req.socket.remoteAddress, encrypted: 'encrypted' in req.socket && req.socket.encrypted === true }, base, proxy);
    } catch (err) {
      const refused = withHeaders(errorResponse(toODataError(err)), { Connection: 'close' });
      writeWhole(res, common, refused, wholeBody(refused.body), timing);
      logLine(refused.status);
      return;
    }
    if (view.https) common['Strict-Transport-Security'] = HSTS;
    const opsEndpoint = services.ops === undefined ? undefined : opsEndpointOf(url);
    if (opsEndpoint !== undefined && services.ops !== undefined) {
      const answer = await answerOps(opsEndpoint, method, services.ops)
        .catch((err: unknown) => errorResponse(publicError(toODataError(err), { method, path: url.split('?')[0], requestId }, options.logger)));
      writeWhole(res, common, answer, wholeBody(answer.body), timing);
      logLine(answer.status, `/${opsEndpoint}`);
      return;
    }
    const authEndpoint = authEndpointOf(url);
    if (authEndpoint !== undefined) {
      const body = await collectBounded(req.iterator({ destroyOnReturn: false }), maxBodyBytes).catch(() => undefined);
      const request = { method, contentType: single(req.headers['content-type']), body, remoteAddress: view.remoteAddress };
      const failed = (err: unknown) => errorResponse(publicError(toODataError(err), { method, path: url.split('?')[0], requestId }, options.logger));
      // sign-in attempts count against the address's bucket like any call without credentials
      const response = await services.rateLimiter.take(bucketKeyOf(undefined, view.remoteAddress), 1)
        .then(async (rate) => {
          if (rate.kind === 'refused') return withHeaders(errorResponse(rate.error), rate.headers);
          const answer = await (authEndpoint === 'token' ? tokenEndpoint(request, services.auth) : revokeEndpoint(request, services.auth));
          return rate.kind === 'granted' ? withHeaders(answer, rate.headers) : answer;
        })
        .catch(failed);
      writeWhole(res, common, response, wholeBody(response.body), timing);
      logLine(response.status, AUTH_ENDPOINTS[authEndpoint]);
      return;
    }
    if (url !== base && !url.startsWith(base + '/') && !url.startsWith(base + '?')) {
      const notFound: ApiResponse = { status: 404, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: { code: 'NOT_FOUND', message: `The service root is ${base}`, details: [] } }) };
      writeWhole(res, common, notFound, wholeBody(notFound.body), timing);
      logLine(404);
      return;
    }
    const rest = url.slice(base.length);
    const q = rest.indexOf('?');
    const path = q < 0 ? rest : rest.slice(0, q);
    const streamed = method === 'POST' && (path === '/$batch' || path === '/$batch/');
    // The body is read through the request's iterator, never destroying it: bytes a refused request
    // leaves unread are discarded after the answer (below).
    const bodiless = method === 'GET' || method === 'HEAD';
    const source = bodiless ? undefined : req.iterator({ destroyOnReturn: false });
    const body = streamed || source === undefined
      ? undefined
      : await collectBounded(source, maxBodyBytes).catch((err: unknown) => (err instanceof ODataError ? err : new ODataError('INVALID_PAYLOAD', 'The request body could not be read')));
    const apiRequest: ApiRequest = {
      method,
      path,
      query: q < 0 ? '' : rest.slice(q + 1),
      headers: headersOf(req),
      serviceRoot: view.serviceRoot,
      requestId,
      remoteAddress: view.remoteAddress,
      body: body instanceof ODataError ? undefined : body,
      bodyStream: streamed ? source : undefined,
      timing,
    };
    const response = body instanceof ODataError ? errorResponse(body) : await handle(apiRequest, services);
    await writeResponse(res, common, response, (err) => publicError(err, apiRequest, options.logger), timing);
    // A request refused part-way (an oversized body, a malformed batch) leaves bytes unread: they are
    // read and dropped (never buffered) so the client can finish sending and read the answer; past a
    // bound the connection is closed.
    if ((streamed || body instanceof ODataError) && !req.readableEnded && !(await discardRest(req, maxBodyBytes))) req.socket.destroy();
    logLine(response.status, resourceLabel(services.model(), path));
  };
}

/** Node's header names are lower-case already; only a repeated Set-Cookie arrives as an array. */
function headersOf(req: IncomingMessage): ApiRequest['headers'] {
  const headers = req.headers;
  for (const name in headers) {
    if (Array.isArray(headers[name])) {
      const joined: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(headers)) joined[k] = Array.isArray(v) ? v.join(', ') : v;
      return joined;
    }
  }
  return headers as Readonly<Record<string, string | undefined>>;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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
