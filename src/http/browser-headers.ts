/**
 * What browsers are told: CORS (off unless origins are configured; preflight answered on every path)
 * and the security headers every answer carries.
 */
import { ODataError } from '../errors/odata-error';

export type CorsPolicy =
  | { readonly kind: 'off' }
  | { readonly kind: 'any' }
  | { readonly kind: 'listed'; readonly origins: ReadonlySet<string> };

/** Response headers a script may read: OData's own, the request id, rate limiting and the challenge. */
export const EXPOSED_HEADERS: readonly string[] = [
  'OData-Version', 'ETag', 'Location', 'OData-EntityId', 'Preference-Applied', 'X-Request-Id',
  'RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate', 'AsyncResult',
];

const CORS_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const PREFLIGHT_MAX_AGE_SECONDS = 600;
/** a header name (RFC 9110 token) */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The browser-facing headers every answer carries, whoever asks. The service serves data, never pages to frame. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-site',
};

/** `ODATA_CORS_ORIGINS`: empty (off), `*`, or origins such as `https://app.example.com` separated by commas. */
export function corsPolicyOf(setting: string): CorsPolicy {
  const items = setting.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return { kind: 'off' };
  if (items.includes('*')) return { kind: 'any' };
  for (const origin of items) {
    let parsed: URL | undefined;
    try { parsed = new URL(origin); } catch { parsed = undefined; }
    if (!parsed || parsed.origin !== origin.replace(/\/$/, '')) throw new Error(`ODATA_CORS_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
  }
  return { kind: 'listed', origins: new Set(items.map((o) => o.replace(/\/$/, ''))) };
}

function allows(policy: CorsPolicy, origin: string): boolean {
  switch (policy.kind) {
    case 'off': return false;
    case 'any': return true;
    case 'listed': return policy.origins.has(origin);
  }
}

/** The CORS headers of an ordinary answer to a request from `origin` (none when it is not allowed). */
export function corsHeaders(policy: CorsPolicy, origin: string | undefined): Record<string, string> {
  if (policy.kind === 'off') return {};
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (origin === undefined || !allows(policy, origin)) return headers;
  headers['Access-Control-Allow-Origin'] = origin;
  headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS.join(', ');
  // a listed origin may also send cookies or a browser's own Basic prompt; `*` means any page, so never with them
  if (policy.kind === 'listed') headers['Access-Control-Allow-Credentials'] = 'true';
  return headers;
}

export type Preflight =
  | { readonly kind: 'answer'; readonly headers: Record<string, string> }
  | { readonly kind: 'refused'; readonly error: ODataError; readonly headers: Record<string, string> };

/**
 * A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) on any path, or
 * undefined when this is not one or CORS is off (then OPTIONS is refused like any unsupported method).
 */
export function preflightOf(policy: CorsPolicy, method: string, headers: Readonly<Record<string, string | string[] | undefined>>): Preflight | undefined {
  if (policy.kind === 'off' || method !== 'OPTIONS') return undefined;
  const origin = single(headers.origin);
  const requestedMethod = single(headers['access-control-request-method']);
  if (origin === undefined || requestedMethod === undefined) return undefined;
  const vary = { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
  if (!allows(policy, origin)) {
    return { kind: 'refused', error: new ODataError('FORBIDDEN', `The origin ${origin.slice(0, 200)} may not call this service (ODATA_CORS_ORIGINS)`, { target: 'Origin' }), headers: vary };
  }
  if (!CORS_METHODS.split(', ').includes(requestedMethod)) {
    return { kind: 'refused', error: new ODataError('METHOD_NOT_ALLOWED', `${requestedMethod.slice(0, 40)} is not supported`, { target: 'Access-Control-Request-Method' }), headers: Object.assign({ Allow: CORS_METHODS }, vary) };
  }
  const requested = (single(headers['access-control-request-headers']) ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '');
  const out: Record<string, string> = Object.assign(corsHeaders(policy, origin), vary, {
    'Access-Control-Allow-Methods': CORS_METHODS,
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
  });
  // any well-formed request header may be sent (Authorization, OData-Version, Prefer, If-Match, ACCESS_TOKEN, …)
  const allowed = requested.filter((h) => TOKEN.test(h));
  if (allowed.length) out['Access-Control-Allow-Headers'] = allowed.join(', ');
  return { kind: 'answer', headers: out };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
