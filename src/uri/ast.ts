/**
 * The typed result of parsing a request URL: what the client asked for, before any model lookup.
 * Names are still raw strings; nothing here knows the EDM (that is plan/'s job).
 */

export type Literal =
  | { readonly type: 'null' }
  | { readonly type: 'Edm.Boolean'; readonly value: boolean }
  | { readonly type: 'Edm.String'; readonly value: string }
  /** integers keep their text so Int64 values beyond 2^53 survive */
  | { readonly type: 'Edm.Int32' | 'Edm.Int64'; readonly value: string }
  | { readonly type: 'Edm.Decimal' | 'Edm.Double'; readonly value: string }
  | { readonly type: 'Edm.Guid'; readonly value: string }
  | { readonly type: 'Edm.Date'; readonly value: string }
  /** normalized to UTC, `YYYY-MM-DDTHH:MM:SS.sssZ` */
  | { readonly type: 'Edm.DateTimeOffset'; readonly value: string }
  | { readonly type: 'Edm.TimeOfDay'; readonly value: string }
  /** ISO 8601 duration text and its length in milliseconds */
  | { readonly type: 'Edm.Duration'; readonly value: string; readonly milliseconds: number }
  | { readonly type: 'enum'; readonly typeName: string; readonly members: readonly string[] };

export type BinaryOperator =
  | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'and' | 'or' | 'add' | 'sub' | 'mul' | 'div' | 'divby' | 'mod' | 'has';

export type Expr =
  | { readonly kind: 'literal'; readonly literal: Literal; readonly position: number }
  /** a member path such as `BusinessAddress/State` or `g/Name` (first segment may be a lambda variable or `$it`) */
  | { readonly kind: 'path'; readonly segments: readonly PathStep[]; readonly position: number }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly position: number }
  | { readonly kind: 'not'; readonly operand: Expr; readonly position: number }
  | { readonly kind: 'negate'; readonly operand: Expr; readonly position: number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly position: number }
  | { readonly kind: 'in'; readonly left: Expr; readonly list: readonly Expr[]; readonly position: number }
  | {
      readonly kind: 'lambda'; readonly op: 'any' | 'all'; readonly source: Expr & { kind: 'path' };
      readonly variable?: string; readonly predicate?: Expr; readonly position: number;
    };

export interface PathStep {
  readonly name: string;
  readonly position: number;
}

export interface OrderItem {
  readonly expr: Expr;
  readonly descending: boolean;
}

export type SearchExpr =
  | { readonly kind: 'term'; readonly text: string; readonly phrase: boolean }
  | { readonly kind: 'and' | 'or'; readonly left: SearchExpr; readonly right: SearchExpr }
  | { readonly kind: 'not'; readonly operand: SearchExpr };

export type SelectItem =
  | { readonly kind: 'all' }
  | { readonly kind: 'path'; readonly segments: readonly PathStep[] };

export interface ExpandItem {
  /** `*` expands every navigation */
  readonly path: readonly PathStep[] | '*';
  /** `Nav/$ref` or `Nav/$count` */
  readonly suffix?: '$ref' | '$count';
  readonly options: QueryOptions;
}

export interface QueryOptions {
  readonly filter?: Expr;
  readonly select?: readonly SelectItem[];
  readonly expand?: readonly ExpandItem[];
  readonly orderby?: readonly OrderItem[];
  readonly top?: number;
  readonly skip?: number;
  readonly count?: boolean;
  readonly search?: SearchExpr;
  /** `max` or a number */
  readonly levels?: number | 'max';
  readonly skiptoken?: string;
  readonly format?: string;
  readonly id?: string;
  /** `$apply` (OData Data Aggregation Extension): transformations in order */
  readonly apply?: readonly Transformation[];
  /** `$compute`: `expr as Alias`, … */
  readonly compute?: readonly ComputeItem[];
}

/** `expr as Alias` in `$compute` and the `compute` transformation. */
export interface ComputeItem {
  readonly expr: Expr;
  readonly alias: string;
  readonly position: number;
}

/** One aggregate expression of `aggregate(...)`. */
export type AggregateItem =
  | { readonly kind: 'count'; readonly alias: string; readonly position: number }
  | { readonly kind: 'method'; readonly expr: Expr; readonly method: string; readonly alias: string; readonly from: boolean; readonly position: number }
  /** `Products(Total with sum as Sum)`: the items aggregate the related entities of a collection navigation */
  | {
      readonly kind: 'navigation'; readonly path: readonly PathStep[]; readonly items: readonly AggregateItem[]; readonly position: number;
      /** `Products/$count as N`: the result is named flat (`N`), not nested under the navigation */
      readonly flat?: boolean;
    };

/** One `$apply` transformation; `position` is where its name starts in the `$apply` value. */
export type Transformation =
  | { readonly kind: 'aggregate'; readonly items: readonly AggregateItem[]; readonly position: number }
  | { readonly kind: 'groupby'; readonly keys: readonly (readonly PathStep[])[]; readonly then: readonly Transformation[]; readonly position: number }
  | { readonly kind: 'filter'; readonly expr: Expr; readonly position: number }
  | { readonly kind: 'compute'; readonly items: readonly ComputeItem[]; readonly position: number }
  | { readonly kind: 'orderby'; readonly items: readonly OrderItem[]; readonly position: number }
  | { readonly kind: 'top' | 'skip'; readonly count: number; readonly position: number }
  | { readonly kind: 'search'; readonly search: SearchExpr; readonly position: number }
  | { readonly kind: 'topcount' | 'bottomcount' | 'topsum' | 'bottomsum'; readonly limit: Expr; readonly expr: Expr; readonly position: number }
  | { readonly kind: 'identity'; readonly position: number }
  /** valid in the extension, not implemented here (toppercent, concat, expand, …): 501 */
  | { readonly kind: 'not-implemented'; readonly name: string; readonly position: number };

export type KeyPredicate =
  | { readonly kind: 'single'; readonly value: Literal; readonly position: number }
  | { readonly kind: 'named'; readonly pairs: readonly { readonly name: string; readonly value: Literal; readonly position: number }[] };

export type PathSegment =
  | { readonly kind: 'name'; readonly name: string; readonly key?: KeyPredicate; readonly position: number }
  | { readonly kind: '$count' | '$value' | '$ref' | '$metadata' | '$batch' | '$entity' | '$all' | '$crossjoin' | '$root' | '$each' | '$filter' | '$query'; readonly position: number };

export interface UriRequest {
  readonly segments: readonly PathSegment[];
  readonly options: QueryOptions;
  /** Options the service does not implement yet but that are valid OData (`$index`, `$schemaversion`, ...). */
  readonly unsupportedOptions: readonly string[];
  /** Custom (non-system) query options, passed through untouched. */
  readonly customOptions: ReadonlyMap<string, string>;
}
