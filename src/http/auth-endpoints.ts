/**
 * `POST /auth/token` (RFC 6749 §4.3 password grant, §6 refresh) and `POST /auth/revoke` (RFC 7009),
 * form-encoded bodies in, RFC 6749 JSON out (`{"error","error_description"}` on failure).
 * Refresh tokens rotate on use; presenting a rotated one again revokes its whole chain.
 */
import type { Authenticator } from '../auth/authenticate';
import type { TokenScope } from '../plan/request-context';
import { tokenHash, tokenKindOf } from '../auth/tokens';
import type { ApiResponse } from './api-request';

export const AUTH_ENDPOINTS = { token: '/auth/token', revoke: '/auth/revoke' } as const;

export interface AuthEndpointRequest {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: Buffer | undefined;
  readonly remoteAddress: string | undefined;
}

type OAuthError = 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function json(status: number, body: unknown, extra: Record<string, string> = {}): ApiResponse {
  return { status, headers: Object.assign({ 'Content-Type': 'application/json' }, NO_STORE, extra), body: JSON.stringify(body) };
}

function oauthError(error: OAuthError, description: string, status = 400, extra: Record<string, string> = {}): ApiResponse {
  return json(status, { error, error_description: description }, extra);
}

/** The form's parameters, or why it is refused (not a form, or a parameter given twice: RFC 6749 §3.2). */
function readForm(req: AuthEndpointRequest): Map<string, string> | ApiResponse {
  if (req.method.toUpperCase() !== 'POST') return oauthError('invalid_request', 'Use POST', 405, { Allow: 'POST' });
  const type = (req.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return oauthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams((req.body ?? Buffer.alloc(0)).toString('utf8'))) {
    if (params.has(name)) return oauthError('invalid_request', `The parameter ${name.slice(0, 40)} is given more than once`);
    params.set(name, value);
  }
  return params;
}

export async function tokenEndpoint(req: AuthEndpointRequest, auth: Authenticator): Promise<ApiResponse> {
  const form = readForm(req);
  if (!(form instanceof Map)) return form;
  const grant = form.get('grant_type');
  if (grant === undefined) return oauthError('invalid_request', 'grant_type is missing');
  const lifetimes = { accessSeconds: auth.settings.accessTokenSeconds, refreshSeconds: auth.settings.refreshTokenSeconds };
  switch (grant) {
    case 'password': {
      const userName = form.get('username');
      const password = form.get('password');
      if (userName === undefined || password === undefined) return oauthError('invalid_request', 'username and password are required');
      const scopes = requestedScopes(form.get('scope'));
      if (scopes === undefined) return oauthError('invalid_scope', 'The scopes are data and login');
      const outcome = await auth.signIn(userName, password, req.remoteAddress);
      if (outcome.kind === 'slowed') {
        return oauthError('invalid_grant', `Too many failed sign-ins; try again in ${outcome.retryAfterSeconds} s`, 429, { 'Retry-After': String(outcome.retryAfterSeconds) });
      }
      if (outcome.kind === 'invalid') return oauthError('invalid_grant', 'The user name or password is not valid');
      return issued(await auth.store.issue(outcome.user.id, scopes, lifetimes), scopes);
    }
    case 'refresh_token': {
      const token = form.get('refresh_token');
      if (token === undefined) return oauthError('invalid_request', 'refresh_token is missing');
      if (tokenKindOf(token) !== 'refresh') return oauthError('invalid_grant', 'The refresh token is not valid');
      const used = await auth.store.useRefreshToken(tokenHash(token));
      switch (used.kind) {
        case 'unknown': case 'revoked': case 'expired': return oauthError('invalid_grant', `The refresh token is not valid (${used.kind})`);
        case 'reused': return oauthError('invalid_grant', 'The refresh token was used before; every token issued with it is revoked');
        case 'ok': {
          const user = await auth.store.userById(used.userId);
          if (!user || !user.active) {
            await auth.store.revokeChain(used.chain);
            return oauthError('invalid_grant', 'The user can no longer sign in');
          }
          return issued(await auth.store.issue(used.userId, used.scopes, lifetimes, used.chain), used.scopes);
        }
      }
    }
    default:
      return oauthError('unsupported_grant_type', `grant_type ${grant.slice(0, 40)} is not supported; use password or refresh_token`);
  }
}

function issued(tokens: { accessToken: string; refreshToken: string; expiresIn: number }, scopes: readonly TokenScope[]): ApiResponse {
  return json(200, {
    access_token: tokens.accessToken, token_type: 'Bearer', expires_in: tokens.expiresIn, refresh_token: tokens.refreshToken, scope: scopes.join(' '),
  });
}

function requestedScopes(scope: string | undefined): TokenScope[] | undefined {
  if (scope === undefined || scope.trim() === '') return ['data', 'login'];
  const out: TokenScope[] = [];
  for (const s of scope.trim().split(/ +/)) {
    if (s !== 'data' && s !== 'login') return undefined;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** RFC 7009: 200 whether or not the token was known (§2.2); a refresh token takes its chain along. */
export async function revokeEndpoint(req: AuthEndpointRequest, auth: Authenticator): Promise<ApiResponse> {
  const form = readForm(req);
  if (!(form instanceof Map)) return form;
  const token = form.get('token');
  if (token === undefined) return oauthError('invalid_request', 'token is missing');
  if (tokenKindOf(token) !== undefined) await auth.store.revokeToken(tokenHash(token));
  return { status: 200, headers: Object.assign({}, NO_STORE) };
}
