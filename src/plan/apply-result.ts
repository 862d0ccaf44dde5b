/**
 * The read on top of aggregated `$apply` rows: `$filter`, `$orderby`, paging, `$select` and `$compute`
 * over their dynamic properties, and the context URL the extension gives them.
 */
import { LimitError, NotImplementedError, PlanError } from '../errors/odata-error';
import { tableOf } from '../edm/storage';
import type { PathStep, QueryOptions } from '../uri/ast';
import { col, exprContext, namedColumn, tiebreak, type Named, type Stage, type State } from './apply-stage';
import { decodeSkiptoken, keysetCondition } from './paging';
import type { DynamicProperty, OrderPlan, PlanExpr, ReadPlan } from './plan';
import { checkAlias, computedColumn, computedType } from './plan-compute';
import { planExpression, type ExprContext } from './plan-expression';

export function aggregatedRead(state: State, stage: Stage & { kind: 'groups' }, options: QueryOptions, scope: number): ReadPlan {
  const { ctx, set } = state;
  if (options.expand !== undefined) throw new NotImplementedError('$expand after $apply with aggregation', { target: '$expand' });
  if (options.search !== undefined) throw new PlanError('QUERY_OPTION_NOT_ALLOWED', '$search does not apply to aggregated results (use search() before aggregating)', { target: '$search' });
  const exprCtx = (where: string) => exprContext(state, stage, scope, where);
  const computedProps: DynamicProperty[] = [];
  const names = [...stage.names];
  for (const item of options.compute ?? []) {
    checkAlias(item.alias, (name) => names.some((n) => n.path[0].toLowerCase() === name.toLowerCase()), '$compute', item.position);
    const expr = planExpression(item.expr, exprContext(state, Object.assign({}, stage, { names }), scope, '$compute'));
    const column = computedColumn(item.alias);
    computedProps.push({ path: [item.alias], column, expr, type: computedType(expr) });
    names.push({ path: [item.alias], column, type: computedType(expr) });
  }
  const inline = new Map(computedProps.map((p) => [p.path[0].toLowerCase(), p.expr]));
  const resolve = (where: string): ExprContext => Object.assign(exprCtx(where), {
    names: (segments: readonly PathStep[]) => (segments.length === 1 ? inline.get(segments[0].name.toLowerCase()) : undefined) ?? namedColumn(stage.names, segments, scope),
  });
  const where: PlanExpr[] = [];
  if (options.filter) where.push(planExpression(options.filter, resolve('$filter')));
  const orderCtx = resolve('$orderby');
  const orderby: OrderPlan[] = options.orderby !== undefined
    ? options.orderby.map((o) => ({ expr: planExpression(o.expr, orderCtx), descending: o.descending }))
    : stage.order.map((o) => ({ expr: col(scope, o.column, o.type), descending: o.descending }));
  for (const k of tiebreak(state, stage, scope)) {
    if (!orderby.some((o) => o.expr.kind === 'column' && k.expr.kind === 'column' && o.expr.column === k.expr.column)) orderby.push(k);
  }
  if (orderby.length === 0) orderby.push({ expr: col(scope, stage.names[0].column, stage.names[0].type), descending: false });
  const limits = ctx.request.limits;
  if (options.top !== undefined && options.top > limits.maxTop) throw new LimitError('LIMIT_EXCEEDED', `$top may be at most ${limits.maxTop} (ODATA_MAX_TOP)`, { target: '$top' });
  const pageSize = Math.min(ctx.request.preferredPageSize ?? limits.pageSize, limits.maxPageSize);
  const keyset = options.skiptoken !== undefined ? keysetCondition(orderby, decodeSkiptoken(options.skiptoken, ctx.model.version, orderby.length)) : undefined;
  const dynamic = [...selectNames(stage.names, options, scope), ...computedProps.filter((p) => selected(options, p.path))];
  return {
    entitySet: set, entityType: set.entityType, table: tableOf(set), scope, where, orderby,
    top: options.top, skip: keyset ? undefined : options.skip, pageSize, keyset, count: options.count === true,
    select: [], explicitSelect: options.select !== undefined, columns: [], expand: [], contextSelect: contextList(dynamic, stage.names),
    source: stage.level, dynamic, aggregated: true,
  };
}

function selected(options: QueryOptions, path: readonly string[]): boolean {
  if (options.select === undefined || options.select.some((i) => i.kind === 'all')) return true;
  return options.select.some((i) => i.kind === 'path' && i.segments.every((s, n) => s.name.toLowerCase() === path[n]?.toLowerCase()));
}

function selectNames(names: readonly Named[], options: QueryOptions, scope: number): DynamicProperty[] {
  for (const item of options.select ?? []) {
    if (item.kind !== 'path') continue;
    const text = item.segments.map((s) => s.name).join('/');
    const known = names.some((n) => item.segments.every((s, i) => s.name.toLowerCase() === n.path[i]?.toLowerCase()));
    if (!known && !(options.compute ?? []).some((c) => c.alias === text)) {
      throw new PlanError('UNKNOWN_PROPERTY', `'${text}' is not a property of the aggregated result (in $select)`, { target: '$select', position: item.segments[0].position });
    }
  }
  return names.filter((n) => selected(options, n.path))
    .map((n) => ({ path: n.path, column: n.column, expr: col(scope, n.column, n.type), type: n.type, inCollection: n.inCollection }));
}

/** `Status,Total`, `Stage(Name),Total`, `BusinessAddress/State`, `Products(Sum)` (the extension's context URLs). */
function contextList(dynamic: readonly DynamicProperty[], names: readonly Named[]): string[] {
  const out: string[] = [];
  const nested = new Map<string, string[]>();
  for (const d of dynamic) {
    const named = names.find((n) => n.column === d.column);
    if (d.path.length > 1 && (d.inCollection || named?.viaNavigation)) {
      const head = d.path[0];
      if (!nested.has(head)) {
        nested.set(head, []);
        out.push(head);
      }
      nested.get(head)!.push(d.path.slice(1).join('/'));
    } else out.push(d.path.join('/'));
  }
  return out.map((item) => (nested.has(item) ? `${item}(${nested.get(item)!.join(',')})` : item));
}
