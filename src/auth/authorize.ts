/**
 * The authorize stage: what the caller's role and token scopes allow before anything is planned.
 * Row-level write rules (owner, private records, Users/Teams) are checked where rows are written
 * (write-rules.ts); record visibility will be part of planning (access.ts).
 */
import type { RequestUser } from '../plan/request-context';
import type { UriRequest } from '../uri/ast';
import { ME } from '../plan/resolve-path';
import { forbidden, PERSONAL_TOKEN_SET } from './write-rules';

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Operations about the caller's own credentials: a `login` scope, and allowed to the Browse role. */
const CREDENTIAL_OPERATIONS: ReadonlySet<string> = new Set(['changepassword']);


/** Documents anyone may read without credentials: the service document and $metadata. */
export function isOpenDocument(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return path === '' || path === '/' || path === '/$metadata';
}

/** Throws 403 when the caller may not make this request at all. */
export function authorizeRequest(user: RequestUser, method: string, uri: UriRequest): void {
  // an anonymous caller got this far only for an open document (isOpenDocument)
  if (user.role === null) return;
  // names resolve case-insensitively (src/edm/lookup.ts), so they are compared that way here too
  const names = uri.segments.flatMap((s) => (s.kind === 'name' ? [s.name.toLowerCase()] : []));
  const last = names[names.length - 1] ?? '';
  const operation = last.slice(last.lastIndexOf('.') + 1);
  const credentials = names[0] === PERSONAL_TOKEN_SET.toLowerCase() || (last.includes('.') && CREDENTIAL_OPERATIONS.has(operation));
  const scope = credentials ? 'login' : 'data';
  if (!user.scopes.includes(scope)) throw forbidden(`This token's scopes (${user.scopes.join(', ') || 'none'}) do not include ${scope}`);
  if (user.role === 'Browse' && WRITE_METHODS.has(method) && !credentials && names[0] !== ME.toLowerCase()) {
    throw forbidden('The Browse role cannot write');
  }
}
