/**
 * What every plan carries about who is asking and under which limits, so that record-access rules
 * and query limits added later apply in one place on every path (single requests and $batch parts).
 */
export interface QueryLimits {
  readonly pageSize: number;
  readonly maxPageSize: number;
  readonly maxTop: number;
  readonly maxExpandDepth: number;
  readonly maxFilterNodes: number;
  /** distinct navigation joins one query's $filter and $orderby may need */
  readonly maxJoins: number;
  /** literal values in the `in` lists of one query (each is a bound parameter) */
  readonly maxInItems: number;
  /** nesting of a JSON request body (objects and arrays) */
  readonly maxBodyDepth: number;
  /** shortest User.Password accepted */
  readonly minPasswordLength: number;
}

/** The members of Crm.Role, most powerful first. */
export type Role = 'Administrator' | 'Manager' | 'Standard' | 'Restricted' | 'Browse';

/** What a token may be used for: `data` (the OData service), `login` (signing in: tokens, passwords). */
export type TokenScope = 'data' | 'login';

/** The caller as the authenticate stage established it (src/auth/authenticate.ts). */
export interface RequestUser {
  /** Users.Id; null for an anonymous caller (only the open documents answer one) */
  readonly id: string | null;
  /** null for an anonymous caller */
  readonly role: Role | null;
  readonly teamIds: readonly string[];
  readonly scopes: readonly TokenScope[];
}

export const ANONYMOUS: RequestUser = { id: null, role: null, teamIds: [], scopes: [] };

export interface RequestContext {
  /** who is asking (record access rules read it: src/auth/access.ts) */
  readonly user: RequestUser;
  readonly limits: QueryLimits;
  /** absolute service root URL, e.g. http://localhost:4000/odata */
  readonly serviceRoot: string;
  /** `Prefer: odata.maxpagesize`, when the client sent it */
  readonly preferredPageSize?: number;
}
