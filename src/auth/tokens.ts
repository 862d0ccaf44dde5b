/**
 * Token values: opaque random strings (32 bytes from node:crypto) with a prefix naming their kind,
 * kept only as SHA-256 hashes. The prefix lets a request's token be looked up in one place.
 */
import { createHash, randomBytes } from 'node:crypto';

export type TokenKind = 'access' | 'refresh' | 'personal';

const PREFIXES: Readonly<Record<TokenKind, string>> = { access: 'crm_at_', refresh: 'crm_rt_', personal: 'crm_pat_' };

export function newToken(kind: TokenKind): string {
  return PREFIXES[kind] + randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenKindOf(token: string): TokenKind | undefined {
  for (const [kind, prefix] of Object.entries(PREFIXES) as [TokenKind, string][]) if (token.startsWith(prefix)) return kind;
  return undefined;
}

/** What AccessTokens.TokenPrefix shows: enough to recognise a token, far too little to use it. */
export function displayPrefix(token: string): string {
  return token.slice(0, PREFIXES.personal.length + 4);
}
