/**
 * The pages for people, mounted on the Express application beside the OData adapter: the landing
 * page (`GET /`, and the service root when a browser asks for HTML), the OpenAPI document
 * (`GET <root>/openapi.json`) and the API explorer (`GET /docs`). `portalRouteOf` says which requests
 * are these, so the adapter's fast path below the service root can hand them over.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CHALLENGE } from '../../auth/authenticate';
import { takeQueryKey } from '../../auth/credentials';
import { bucketKeyOf } from '../../limits/rate-limiter';
import type { RequestUser } from '../../plan/request-context';
import { corsHeaders, SECURITY_HEADERS, type CorsPolicy } from '../browser-headers';
import { REQUEST_ID_HEADER, requestIdOf } from '../failures';
import type { Services } from '../handle';
import { clientViewOf, type ClientView, type ProxySettings } from '../public-root';
import { EXPLORER_SCRIPT, explorerAsset, explorerPage } from './explorer';
import { prefersHtml } from './html';
import { LANDING_STYLE_SOURCE, renderLandingPage, type Visitor } from './landing-page';
import { openApiDocument } from './openapi-document';
import { visibleCounts } from './visible-counts';
import { StageTiming } from '../../observe/stage-timing';

export interface PortalOptions {
  readonly basePath: string;
  readonly logger?: Logger;
  readonly cors: CorsPolicy;
  readonly proxy: ProxySettings;
}

export type PortalRoute =
  | { readonly kind: 'landing' }
  | { readonly kind: 'openapi' }
  | { readonly kind: 'explorer' }
  /** `/docs/`: sent to `/docs`, where the page's relative URLs resolve */
  | { readonly kind: 'explorer-slash' }
  | { readonly kind: 'explorer-script' }
  | { readonly kind: 'explorer-asset'; readonly name: string };

export const EXPLORER_PATH = '/docs';
const OPENAPI_NAME = '/openapi.json';

/** The portal route of a request, or undefined when it is not one (then it is the service's or nobody's). */
export function portalRouteOf(method: string | undefined, url: string, accept: string | undefined, basePath: string): PortalRoute | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const base = basePath.replace(/\/$/, '');
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/') return { kind: 'landing' };
  if (path === '/favicon.ico') return { kind: 'explorer-asset', name: 'favicon-32x32.png' };
  if (path === base + OPENAPI_NAME) return { kind: 'openapi' };
  if ((path === base || path === base + '/') && q < 0 && prefersHtml(accept)) return { kind: 'landing' };
  if (path === EXPLORER_PATH) return { kind: 'explorer' };
  if (path === EXPLORER_PATH + '/') return { kind: 'explorer-slash' };
  if (path === `${EXPLORER_PATH}/explorer.js`) return { kind: 'explorer-script' };
  const name = path.startsWith(EXPLORER_PATH + '/') ? path.slice(EXPLORER_PATH.length + 1) : undefined;
  if (name !== undefined && explorerAsset(name) !== undefined) return { kind: 'explorer-asset', name };
  return undefined;
}

const LANDING_CSP = `default-src 'none'; style-src ${LANDING_STYLE_SOURCE}; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
/** Swagger UI sets styles from script and shows inline SVG/data images; it calls the service itself (connect-src) */
const EXPLORER_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const BASIC_CHALLENGE = 'Basic realm="CRM", charset="UTF-8"';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
}

/** Express middleware: answers the portal's requests, passes every other one on. */
export function portalMiddleware(services: Services, options: PortalOptions): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const base = options.basePath.replace(/\/$/, '');
  return (req, res, next) => {
    const url = req.url ?? '/';
    const route = portalRouteOf(req.method, url, req.headers.accept, base);
    if (route === undefined) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    const timing = new StageTiming();
    const requestId = requestIdOf(single(req.headers[REQUEST_ID_HEADER.toLowerCase()]));
    answer(route, req, url, requestId, services, options)
      .catch((err: unknown): Answer => {
        options.logger?.error({ err, requestId }, 'portal request failed');
        return text(500, `An internal error occurred; the service log has the cause under request id ${requestId}`);
      })
      .then((answered) => {
        const headers = Object.assign({ [REQUEST_ID_HEADER]: requestId }, SECURITY_HEADERS, answered.headers);
        headers['Server-Timing'] = timing.header();
        if (answered.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(answered.body));
        res.writeHead(answered.status, headers);
        res.end(answered.body);
        services.ops?.metrics.observeRequest(`portal:${route.kind}`, req.method ?? 'GET', answered.status, timing.elapsedSeconds());
        options.logger?.info({ requestId, method: req.method, url: loggedUrl(url, services), status: answered.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      })
      .catch(() => res.destroy());
  };
}

async function answer(route: PortalRoute, req: IncomingMessage, url: string, requestId: string, services: Services, options: PortalOptions): Promise<Answer> {
  switch (route.kind) {
    case 'landing': return landing(req, url, requestId, services, options);
    case 'openapi': return openApi(req, services, options);
    case 'explorer':
      return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': EXPLORER_CSP, 'Cache-Control': 'no-cache' }, body: explorerPage(options.basePath) };
    case 'explorer-slash':
      return { status: 301, headers: { Location: `../${EXPLORER_PATH.slice(1)}` } };
    case 'explorer-script':
      return { status: 200, headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }, body: EXPLORER_SCRIPT };
    case 'explorer-asset': {
      const asset = explorerAsset(route.name);
      if (asset === undefined) return text(404, 'Not found');
      return { status: 200, headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=3600' }, body: asset.body };
    }
  }
}

function viewOf(req: IncomingMessage, options: PortalOptions): ClientView | Answer {
  try {
    return clientViewOf({ headers: req.headers, remoteAddress: req.socket.remoteAddress, encrypted: 'encrypted' in req.socket && req.socket.encrypted === true }, options.basePath.replace(/\/$/, ''), options.proxy);
  } catch (err) {
    return text(400, err instanceof Error ? err.message : 'The forwarded headers are not valid');
  }
}

function openApi(req: IncomingMessage, services: Services, options: PortalOptions): Answer {
  const view = viewOf(req, options);
  if (!('serviceRoot' in view)) return view;
  const url = req.url ?? '';
  const variant = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '').has('explorer') ? 'explorer' : 'full';
  const document = openApiDocument(services.model(), services.limits, { apiKeyParameter: services.auth.settings.apiKeyParameter }, view.serviceRoot, variant);
  const headers = Object.assign({ ETag: document.etag, 'Cache-Control': 'no-cache' }, corsHeaders(options.cors, single(req.headers.origin)));
  const match = single(req.headers['if-none-match']);
  if (match !== undefined && match.split(',').some((tag) => tag.trim() === document.etag || tag.trim() === '*')) return { status: 304, headers };
  return { status: 200, headers: Object.assign(headers, { 'Content-Type': 'application/json; charset=utf-8' }), body: document.text };
}

/**
 * The landing page. Counts are shown to a signed-in caller only (as their record access allows);
 * `?sign-in` asks the browser for a user name and password (HTTP Basic) and comes back here.
 */
async function landing(req: IncomingMessage, url: string, requestId: string, services: Services, options: PortalOptions): Promise<Answer> {
  const view = viewOf(req, options);
  if (!('serviceRoot' in view)) return view;
  const base = options.basePath.replace(/\/$/, '');
  const siteRoot = view.serviceRoot.endsWith(base) ? view.serviceRoot.slice(0, view.serviceRoot.length - base.length) : view.serviceRoot;
  const rawQuery = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const signIn = new URLSearchParams(rawQuery).has('sign-in');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const outcome = await services.auth.authenticate(headers, rawQuery, view.remoteAddress);
  const caller: RequestUser | undefined = outcome.kind === 'user' ? outcome.user : undefined;
  const rate = await services.rateLimiter.take(bucketKeyOf(caller, view.remoteAddress), 1);
  if (rate.kind === 'refused') return Object.assign(text(429, rate.error.message), { headers: Object.assign({ 'Content-Type': 'text/plain; charset=utf-8' }, rate.headers) });
  const page = (visitor: Visitor) => renderLandingPage({
    serviceRoot: view.serviceRoot, siteRoot, visitor, apiKeyParameter: services.auth.settings.apiKeyParameter,
    entitySets: [...services.model().entitySets.keys()],
  });
  const html = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': LANDING_CSP };
  switch (outcome.kind) {
    case 'refused':
      // a wrong password from the browser's prompt: the Basic challenge makes it ask again
      return { status: 401, headers: Object.assign({}, html, outcome.headers, { 'WWW-Authenticate': CHALLENGE, 'Cache-Control': 'no-store' }), body: page({ kind: 'refused', reason: outcome.error.message }) };
    case 'anonymous':
      if (signIn) return { status: 401, headers: Object.assign({}, html, { 'WWW-Authenticate': BASIC_CHALLENGE, 'Cache-Control': 'no-store' }), body: page({ kind: 'anonymous' }) };
      return { status: 200, headers: Object.assign({}, html, { 'Cache-Control': 'no-cache' }), body: page({ kind: 'anonymous' }) };
    case 'user': {
      if (signIn) return { status: 303, headers: { Location: `${siteRoot}/`, 'Cache-Control': 'no-store' } };
      const user = outcome.user;
      const stored = user.id === null ? undefined : await services.auth.store.userById(user.id);
      const counts = await visibleCounts([...services.model().entitySets.keys()], { caller: user, serviceRoot: view.serviceRoot, requestId, remoteAddress: view.remoteAddress }, services);
      return {
        status: 200, headers: Object.assign({}, html, { 'Cache-Control': 'no-store' }),
        body: page({ kind: 'signed-in', userName: stored?.userName ?? 'unknown', role: user.role ?? 'none', counts }),
      };
    }
  }
}

function text(status: number, message: string): Answer {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: message };
}

function loggedUrl(url: string, services: Services): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const { query, key } = takeQueryKey(url.slice(q + 1), services.auth.settings.apiKeyParameter);
  return key === undefined ? url : `${url.slice(0, q)}?${query}`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
