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
}

export interface RequestContext {
  /** the acting user's id, when authentication exists; anonymous until then */
  readonly user: { readonly id: string | null; readonly roles: readonly string[] };
  readonly limits: QueryLimits;
  /** absolute service root URL, e.g. http://localhost:4000/odata */
  readonly serviceRoot: string;
  /** `Prefer: odata.maxpagesize`, when the client sent it */
  readonly preferredPageSize?: number;
}
