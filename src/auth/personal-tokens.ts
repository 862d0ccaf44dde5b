/**
 * Creating a personal access token (`POST AccessTokens`): the server fills in the computed columns —
 * `UserId` (the caller), a fresh `crm_pat_…` token of which only the SHA-256 hash is stored in `Token`,
 * `TokenPrefix` — and checks `Scopes`. The clear token leaves the write session once, for the create
 * response; it cannot be read afterwards.
 */
import type { EdmEntitySet } from '../edm/model';
import { ODataError } from '../errors/odata-error';
import type { RequestUser, TokenScope } from '../plan/request-context';
import type { ColumnValue } from '../write/entity-input';
import { displayPrefix, newToken, tokenHash } from './tokens';
import { PERSONAL_TOKEN_SET } from './write-rules';

/** The property of the create response that carries the clear token. */
export const TOKEN_PROPERTY = 'Token';
const KNOWN_SCOPES: readonly TokenScope[] = ['data', 'login'];
const DEFAULT_SCOPES: readonly TokenScope[] = ['data'];

export function isPersonalTokenSet(set: EdmEntitySet): boolean {
  return set.name === PERSONAL_TOKEN_SET;
}

/** Sets the server's columns of a new AccessTokens row in `values`; returns the clear token. */
export function issuePersonalToken(values: Map<string, ColumnValue>, user: RequestUser): string {
  if (user.id === null) throw new ODataError('FORBIDDEN', 'Signing in is needed to create a token');
  const scopes = requestedScopes(values.get('Scopes')?.value);
  const token = newToken('personal');
  values.set('Scopes', { column: 'Scopes', value: JSON.stringify(scopes), type: 'Edm.String' });
  values.set('UserId', { column: 'UserId', value: user.id, type: 'Edm.Guid' });
  values.set('TokenPrefix', { column: 'TokenPrefix', value: displayPrefix(token), type: 'Edm.String' });
  values.set(TOKEN_PROPERTY, { column: TOKEN_PROPERTY, value: tokenHash(token), type: 'Edm.String' });
  return token;
}

/** The scopes asked for: known ones only, without repeats; none given → `data`. */
function requestedScopes(stored: unknown): TokenScope[] {
  let given: unknown = [];
  try { given = JSON.parse(typeof stored === 'string' ? stored : '[]'); } catch { given = []; }
  const list = Array.isArray(given) ? given.map(String) : [];
  const unknown = list.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    const message = `Scopes: ${unknown.map((s) => `'${s.slice(0, 20)}'`).join(', ')} unknown; use ${KNOWN_SCOPES.join(' and/or ')}`;
    throw new ODataError('VALIDATION_FAILED', message, { target: 'Scopes', details: [{ code: 'INVALID_VALUE', target: 'Scopes', message }] });
  }
  return list.length === 0 ? [...DEFAULT_SCOPES] : KNOWN_SCOPES.filter((s) => list.includes(s));
}
