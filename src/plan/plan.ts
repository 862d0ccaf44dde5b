/**
 * The typed plan: a request resolved against the EDM. Pure data, built once per request, read by
 * sql/ (to build queries) and serialize/ (to shape rows). No SQL text and no raw names live here.
 */
import type { EdmEntitySet, EdmEntityType, EdmEnumType, EdmProperty, PrimitiveTypeName } from '../edm/model';
import type { NavigationStorage } from '../edm/storage';
import type { RequestContext } from './request-context';

/** The static type of a planned expression. */
export type ValueType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveTypeName }
  | { readonly kind: 'enum'; readonly type: EdmEnumType }
  | { readonly kind: 'null' };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type ArithmeticOp = 'add' | 'sub' | 'mul' | 'div' | 'divby' | 'mod';

export type CanonicalFunction =
  | 'contains' | 'startswith' | 'endswith' | 'length' | 'indexof' | 'substring' | 'tolower' | 'toupper' | 'trim' | 'concat'
  | 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fractionalseconds' | 'date' | 'time' | 'now'
  | 'totaloffsetminutes' | 'mindatetime' | 'maxdatetime' | 'round' | 'floor' | 'ceiling';

/** One single-valued navigation step joined from a scope's table. */
export interface JoinStep {
  readonly navigation: string;
  readonly table: string;
  /** `this.columns = target.key` */
  readonly storage: NavigationStorage;
  /** the target's key columns, in key order */
  readonly targetKey: readonly string[];
  /** this row's key columns, which a reverse foreign key holds (`target.columns = this.key`) */
  readonly sourceKey: readonly string[];
}

/** A set of key values produced by a subquery (used for resource paths and any/all). */
export interface Correlation {
  readonly table: string;
  readonly scope: number;
  /** how rows of `table` relate to the outer scope's row */
  readonly storage: NavigationStorage;
  readonly outerScope: number;
  /** key columns of the outer row and of the target, in key order */
  readonly outerKey: readonly string[];
  readonly targetKey: readonly string[];
}

export type PlanExpr =
  /** `notNull`: the column cannot hold null (a non-nullable property of the scope's own row, not behind a join or complex value) */
  | {
      readonly kind: 'column'; readonly scope: number; readonly joins: readonly JoinStep[]; readonly column: string; readonly type: ValueType; readonly notNull?: boolean;
      /** an Edm.Decimal property's declared Scale: every stored value has at most this many fraction digits (writes round to it) */
      readonly scale?: number;
    }
  | { readonly kind: 'literal'; readonly value: string | number | boolean; readonly type: ValueType }
  | { readonly kind: 'null' }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: PlanExpr; readonly right: PlanExpr }
  | { readonly kind: 'and' | 'or'; readonly left: PlanExpr; readonly right: PlanExpr }
  | { readonly kind: 'not'; readonly operand: PlanExpr }
  | { readonly kind: 'arithmetic'; readonly op: ArithmeticOp; readonly left: PlanExpr; readonly right: PlanExpr; readonly type: ValueType }
  | { readonly kind: 'negate'; readonly operand: PlanExpr; readonly type: ValueType }
  | { readonly kind: 'function'; readonly fn: CanonicalFunction; readonly args: readonly PlanExpr[]; readonly type: ValueType }
  | { readonly kind: 'in'; readonly left: PlanExpr; readonly list: readonly PlanExpr[] }
  /** `any` → exists(correlated rows where predicate); `all` (negated) → not exists(rows where predicate is not true, i.e. false or null) */
  | { readonly kind: 'exists'; readonly correlation: Correlation; readonly predicate?: PlanExpr; readonly negated: boolean }
  | { readonly kind: 'count'; readonly correlation: Correlation }
  /** a search over text columns: every term matched case-insensitively as a substring */
  | { readonly kind: 'search-term'; readonly scope: number; readonly columns: readonly string[]; readonly text: string }
  /**
   * restricts a scope's key (`columns`, every part in key order) to the keys a resource path reaches
   */
  | { readonly kind: 'path-restriction'; readonly scope: number; readonly columns: readonly string[]; readonly path: PathSource }
  /**
   * any()/all() over a collection of primitives (`Categories/any(c: c eq 'VIP')`): its elements, read from
   * the stored JSON array, open scope `scope`; `all` is negated like `exists`
   */
  | { readonly kind: 'element-exists'; readonly collection: ColumnExpr; readonly scope: number; readonly predicate?: PlanExpr; readonly negated: boolean }
  /** `Categories/$count` */
  | { readonly kind: 'element-count'; readonly collection: ColumnExpr }
  /** the lambda variable over a collection of primitives: the current element */
  | { readonly kind: 'element'; readonly scope: number; readonly type: ValueType };

export type ColumnExpr = PlanExpr & { readonly kind: 'column' };

export interface PathStepPlan {
  readonly storage: NavigationStorage;
  readonly fromTable: string;
  /** key columns (in key order) of the rows the step leaves and of those it reaches, with their types */
  readonly fromKey: readonly string[];
  readonly toTable: string;
  readonly toKey: readonly string[];
  readonly toKeyTypes: readonly PrimitiveTypeName[];
  /** a key predicate after the navigation, e.g. `Contacts(1)/Groups(2)`: every part's value in key order */
  readonly keyValue?: readonly (string | number | boolean)[];
}

/** How a resource path reaches rows: the start set restricted by key, then navigation steps. */
export interface PathSource {
  readonly table: string;
  readonly key: readonly { readonly column: string; readonly value: string | number | boolean; readonly type: PrimitiveTypeName }[];
  readonly steps: readonly PathStepPlan[];
}

export interface OrderPlan {
  readonly expr: PlanExpr;
  readonly descending: boolean;
}

/** A property in the result shape: a column, a complex value made of columns, or a JSON collection. */
export type SelectedProperty =
  | { readonly kind: 'primitive'; readonly name: string; readonly column: string; readonly property: EdmProperty }
  | {
      readonly kind: 'complex'; readonly name: string; readonly property: EdmProperty; readonly members: readonly SelectedProperty[];
      /** the value is null when all of these are (edm/complex-null); read even when only some members are selected */
      readonly indicatorColumns: readonly string[];
    };

export interface ExpandPlan {
  readonly navigation: string;
  readonly collection: boolean;
  readonly storage: NavigationStorage;
  /** columns of the parent whose values feed the child query (its key; the foreign key for a foreign-key navigation) */
  readonly parentColumns: readonly string[];
  readonly refOnly: boolean;
  readonly countOnly: boolean;
  readonly read: ReadPlan;
}

export interface ReadPlan {
  readonly entitySet: EdmEntitySet;
  readonly entityType: EdmEntityType;
  readonly table: string;
  /** the scope id of the main table in this read */
  readonly scope: number;
  readonly where: readonly PlanExpr[];
  /** ordering including the key as last, for stable pages */
  readonly orderby: readonly OrderPlan[];
  readonly top?: number;
  readonly skip?: number;
  /** server page size in force (undefined inside $expand) */
  readonly pageSize?: number;
  /** rows after the $skiptoken's keyset; kept apart from `where` because $count ignores it */
  readonly keyset?: PlanExpr;
  readonly count: boolean;
  readonly select: readonly SelectedProperty[];
  /** `$select` was given (affects @odata.context) */
  readonly explicitSelect: boolean;
  /** columns the query must fetch: selected ones + keys + orderby/paging needs */
  readonly columns: readonly string[];
  readonly expand: readonly ExpandPlan[];
  /** the select list as @odata.context writes it (expanded navigations included) */
  readonly contextSelect: readonly string[];
  /** `$apply`: the rows come from this relation (aliased as `scope`) instead of `table`; record access is applied inside it */
  readonly source?: ApplyLevel;
  /** dynamic properties (`$compute`, `compute()`, group keys and aggregates), written after the declared ones */
  readonly dynamic?: readonly DynamicProperty[];
  /** the rows are aggregated: only the dynamic properties are written (no declared properties, no ETag) */
  readonly aggregated?: boolean;
}

/** A property that is not declared in the model: computed or aggregated, with its static type. */
export interface DynamicProperty {
  /** where it appears: `['Total']`, or nested `['Stage','Name']` for a group key through a navigation or complex value */
  readonly path: readonly string[];
  /** the value's SQL column alias in the page query */
  readonly column: string;
  readonly expr: PlanExpr;
  readonly type: ValueType;
  /** an aggregate over a collection navigation (`Products(Total with sum as Sum)`): written as `"Products":[{"Sum":…}]` */
  readonly inCollection?: boolean;
}

export type AggregateMethod = 'sum' | 'min' | 'max' | 'average' | 'countdistinct' | 'count';

/** One column of an apply level's SELECT list. */
export type LevelOutput =
  | { readonly kind: 'value'; readonly column: string; readonly expr: PlanExpr }
  | { readonly kind: 'aggregate'; readonly column: string; readonly method: AggregateMethod; readonly arg?: PlanExpr; readonly argType: ValueType }
  /** the total of `expr` over the rows before this one in `orderby` (topsum/bottomsum) */
  | { readonly kind: 'running-total'; readonly column: string; readonly expr: PlanExpr; readonly orderby: readonly OrderPlan[] }
  /** a per-row aggregate over the related rows of a collection navigation stored as a reverse foreign key */
  | {
      readonly kind: 'related-aggregate'; readonly column: string; readonly method: AggregateMethod; readonly arg?: PlanExpr; readonly argType: ValueType;
      readonly table: string; readonly scope: number;
      /** the related rows' columns that hold the outer row's key (one per key part), and the outer key's columns */
      readonly holder: readonly string[]; readonly outerScope: number; readonly outerKey: readonly string[];
      /** a part of the average named here: the related rows' sum, or their count of non-null values (`count` with `arg`) */
      readonly averageOf?: string;
    }
  /** an average over related rows from their per-row sums and counts: Σ sums / Σ counts, null where no value counted */
  | { readonly kind: 'average-of-parts'; readonly column: string; readonly sums: PlanExpr; readonly counts: PlanExpr; readonly argType: ValueType };

/**
 * One SELECT of a `$apply` relation: rows of a table (record access applied) or of the level below,
 * aliased `scope`; optionally grouped, ordered and cut. `keepAll` passes every column of the source on.
 */
export interface ApplyLevel {
  readonly from: { readonly kind: 'table'; readonly table: string } | { readonly kind: 'level'; readonly level: ApplyLevel };
  readonly scope: number;
  readonly keepAll: boolean;
  readonly outputs: readonly LevelOutput[];
  readonly where: readonly PlanExpr[];
  /** present on an aggregating level: the GROUP BY expressions (empty: one row over all input rows) */
  readonly groupBy?: readonly PlanExpr[];
  readonly orderby: readonly OrderPlan[];
  readonly top?: number;
  readonly skip?: number;
}

export type ResultShape =
  | { readonly kind: 'collection' }
  | { readonly kind: 'entity' }
  | { readonly kind: 'count' }
  | { readonly kind: 'property'; readonly path: readonly EdmProperty[]; readonly raw: boolean }
  | { readonly kind: 'references'; readonly single: boolean };

export type Plan =
  | { readonly kind: 'service-document' }
  | { readonly kind: 'metadata'; readonly format: 'xml' | 'json' }
  | {
      readonly kind: 'read'; readonly read: ReadPlan; readonly shape: ResultShape; readonly context: RequestContext; readonly contextUrl: string;
      /** when the path navigates: the parent chain, to tell 404 (no parent) from an empty result */
      readonly parentSource?: PathSource;
    };
