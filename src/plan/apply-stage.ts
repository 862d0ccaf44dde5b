/**
 * The state `$apply` planning carries from one transformation to the next (plan-apply.ts): what the
 * rows are (entities with computed columns, or aggregated rows with named columns), the order they
 * were given, and how a new SELECT level reads them.
 */
import { PlanError } from '../errors/odata-error';
import type { EdmEntitySet } from '../edm/model';
import type { PathStep } from '../uri/ast';
import type { ApplyLevel, OrderPlan, PlanExpr, ValueType } from './plan';
import type { ExprContext, QueryBudget, Scope } from './plan-expression';
import type { ReadContext } from './plan-read';
import { keyPartsOf } from './keys';

export const WHERE = '$apply';

/** A property of aggregated rows: a group key, an aggregate or a computed value. */
export interface Named {
  readonly path: readonly string[];
  readonly column: string;
  readonly type: ValueType;
  /** the key's path goes through a navigation (context URL `Stage(Name)`) */
  readonly viaNavigation?: boolean;
  readonly inCollection?: boolean;
}

export interface OrderKey { readonly column: string; readonly type: ValueType; readonly descending: boolean }

export type Stage =
  | { readonly kind: 'entities'; readonly level: ApplyLevel; readonly computed: ReadonlyMap<string, { column: string; type: ValueType }>; readonly order: readonly OrderKey[] }
  | { readonly kind: 'groups'; readonly level: ApplyLevel; readonly names: readonly Named[]; readonly keys: readonly Named[]; readonly order: readonly OrderKey[] };

export interface State {
  readonly ctx: ReadContext;
  readonly set: EdmEntitySet;
  readonly budget: QueryBudget;
  columns: number;
}

export const INT64: ValueType = { kind: 'primitive', name: 'Edm.Int64' };
export const col = (scope: number, column: string, type: ValueType): PlanExpr => ({ kind: 'column', scope, joins: [], column, type });
export const fail = (message: string, position: number, code: 'TYPE_MISMATCH' | 'INVALID_QUERY_OPTION' | 'UNKNOWN_PROPERTY' = 'INVALID_QUERY_OPTION'): never => {
  throw new PlanError(code, `${message} at position ${position} in ${WHERE}`, { target: WHERE, position });
};

export function nextColumn(state: State): string {
  return `__a${state.columns++}`;
}

/** The expression context for a level reading `stage` as `scope`. */
export function exprContext(state: State, stage: Stage, scope: number, where = WHERE): ExprContext {
  const limits = state.ctx.request.limits;
  const common = {
    model: state.ctx.model, scopes: [{ id: scope, set: state.set } as Scope], nextScope: state.ctx.nextScope, where,
    maxNodes: limits.maxFilterNodes, maxNodesSetting: 'ODATA_MAX_FILTER_NODES', nodes: 0, budget: state.budget,
  };
  if (stage.kind === 'entities') {
    return Object.assign(common, {
      names: (segments: readonly PathStep[]) => {
        const c = segments.length === 1 ? stage.computed.get(segments[0].name) : undefined;
        return c && col(scope, c.column, c.type);
      },
    });
  }
  return Object.assign(common, { namesOnly: true, names: (segments: readonly PathStep[]) => namedColumn(stage.names, segments, scope) });
}

export function namedColumn(names: readonly Named[], segments: readonly PathStep[], scope: number): PlanExpr | undefined {
  const text = segments.map((s) => s.name).join('/').toLowerCase();
  const n = names.find((x) => !x.inCollection && x.path.join('/').toLowerCase() === text);
  return n && col(scope, n.column, n.type);
}

export function above(stage: Stage, scope: number, init: Partial<ApplyLevel> = {}): ApplyLevel {
  return Object.assign({ from: { kind: 'level', level: stage.level }, scope, keepAll: true, outputs: [], where: [], orderby: [] } as ApplyLevel, init);
}

/** A level that only filters (no outputs, grouping or cut) takes further conditions itself. */
export function filterable(level: ApplyLevel): boolean {
  return level.outputs.length === 0 && level.groupBy === undefined && level.top === undefined && level.skip === undefined;
}

export function withCondition(state: State, stage: Stage, condition: (ctx: ExprContext, scope: number) => PlanExpr): Stage {
  if (filterable(stage.level)) {
    const e = condition(exprContext(state, stage, stage.level.scope), stage.level.scope);
    return Object.assign({}, stage, { level: Object.assign({}, stage.level, { where: [...stage.level.where, e] }) });
  }
  const scope = state.ctx.nextScope();
  return Object.assign({}, stage, { level: above(stage, scope, { where: [condition(exprContext(state, stage, scope), scope)] }) });
}

/** The columns that make each row's order total: the entity key, or the group keys. */
export function tiebreak(state: State, stage: Stage, scope: number): OrderPlan[] {
  if (stage.kind === 'groups') return stage.keys.map((k) => ({ expr: col(scope, k.column, k.type), descending: false }));
  return keyPartsOf(state.set.entityType).map((part) => ({ expr: col(scope, part.column, { kind: 'primitive', name: part.type }), descending: false }));
}

