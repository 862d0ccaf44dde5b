/**
 * Plans `$apply` (OData Extension for Data Aggregation 4.0) as a chain of SELECT levels (ApplyLevel),
 * each reading the one below as a subquery, so the whole chain is one SQL statement: the table (record
 * access applied there, before any grouping) → filter/search/compute/orderby/top/skip/topcount/… →
 * groupby/aggregate (GROUP BY, dynamic properties) → …. The read on top of the chain takes `$filter`,
 * `$orderby`, `$top`, `$skip`, `$count`, `$select` and server paging as any read does.
 *
 *   Opportunities?$apply=filter(Amount gt 0)/groupby((Stage/Name),aggregate(Amount with sum as Total))
 *   → SELECT "s2"."Stage/Name" …, "s2"."Total" … FROM (SELECT "s1_Stage"."Name" AS "Stage/Name",
 *       <decimal sum>("s1"."Amount") AS "Total" FROM (SELECT "s0".* FROM "Opportunities" AS "s0" WHERE … ) AS "s1"
 *       LEFT JOIN "Stages" AS "s1_Stage" ON … GROUP BY "s1_Stage"."Name") AS "s2" ORDER BY … LIMIT 101
 */
import { formatDecimal, parseDecimal } from '../decimal';
import { LimitError, NotImplementedError } from '../errors/odata-error';
import { resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet } from '../edm/model';
import { navigationStorage, tableOf } from '../edm/storage';
import type { AggregateItem, Expr, PathStep, QueryOptions, Transformation } from '../uri/ast';
import { aggregatedRead } from './apply-result';
import { above, col, exprContext, fail, INT64, nextColumn, tiebreak, WHERE, withCondition, type Named, type OrderKey, type Stage, type State } from './apply-stage';
import { isNumeric } from './functions';
import type { AggregateMethod, ApplyLevel, LevelOutput, OrderPlan, PlanExpr, ReadPlan, ValueType } from './plan';
import { checkAlias, computedColumn, computedType } from './plan-compute';
import { planExpression, typeOf, typeName, type ExprContext } from './plan-expression';
import { planRead, planSearch, type ReadContext, type ReadOptions } from './plan-read';

export function planApply(ctx: ReadContext, set: EdmEntitySet, options: QueryOptions, read: ReadOptions): ReadPlan {
  if (read.nested) throw new NotImplementedError('$apply inside $expand', { target: '$expand' });
  const state: State = {
    ctx, set, columns: 0,
    budget: { maxJoins: ctx.request.limits.maxJoins, joins: new Set(), maxInItems: ctx.request.limits.maxInItems, inItems: 0 },
  };
  const base: ApplyLevel = { from: { kind: 'table', table: tableOf(set) }, scope: read.scope ?? ctx.nextScope(), keepAll: true, outputs: [], where: [...(read.where ?? [])], orderby: [] };
  let stage: Stage = { kind: 'entities', level: base, computed: new Map(), order: [] };
  for (const t of options.apply ?? []) stage = transform(state, stage, t);
  const rest: QueryOptions = Object.assign({}, options, { apply: undefined });
  const scope = ctx.nextScope();
  if (stage.kind === 'entities') {
    const defaultOrder = stage.order.map((o): OrderPlan => ({ expr: col(scope, o.column, o.type), descending: o.descending }));
    return planRead(ctx, set, rest, { nested: false, depth: read.depth, scope, source: stage.level, computed: stage.computed, defaultOrder });
  }
  return aggregatedRead(state, stage, rest, scope);
}

function transform(state: State, stage: Stage, t: Transformation): Stage {
  switch (t.kind) {
    case 'identity': return stage;
    case 'not-implemented': throw new NotImplementedError(`the transformation ${t.name} (at position ${t.position} in ${WHERE})`, { target: WHERE });
    case 'filter':
      return withCondition(state, stage, (ctx) => {
        const e = planExpression(t.expr, ctx);
        const type = typeOf(e);
        if (!(type.kind === 'null' || (type.kind === 'primitive' && type.name === 'Edm.Boolean'))) fail(`filter() needs a Boolean expression, got ${typeName(type)}`, t.position, 'TYPE_MISMATCH');
        return e;
      });
    case 'search':
      if (stage.kind !== 'entities') fail('search() applies to entities, not to aggregated results', t.position);
      return withCondition(state, stage, (_ctx, scope) => planSearch(t.search, scope, state.set, state.ctx.request.limits.maxFilterNodes));
    case 'compute': return compute(state, stage, t);
    case 'orderby': {
      const scope = state.ctx.nextScope();
      const ctx = exprContext(state, stage, scope);
      const outputs: LevelOutput[] = [];
      const order: OrderKey[] = t.items.map((item) => {
        const expr = planExpression(item.expr, ctx);
        const column = nextColumn(state);
        outputs.push({ kind: 'value', column, expr });
        return { column, type: typeOf(expr), descending: item.descending };
      });
      return Object.assign({}, stage, { level: above(stage, scope, { outputs }), order });
    }
    case 'top': case 'skip': {
      checkTop(state, t.kind === 'top' ? t.count : 0);
      const scope = state.ctx.nextScope();
      const orderby = [...stage.order.map((o): OrderPlan => ({ expr: col(scope, o.column, o.type), descending: o.descending })), ...tiebreak(state, stage, scope)];
      return Object.assign({}, stage, { level: above(stage, scope, { orderby, [t.kind]: t.count }) });
    }
    case 'topcount': case 'bottomcount': case 'topsum': case 'bottomsum': return rank(state, stage, t);
    case 'aggregate': return group(state, stage, [], t.items, t.position);
    case 'groupby': {
      const [first, ...more] = t.then;
      if (more.length > 0 || (first !== undefined && first.kind !== 'aggregate')) {
        throw new NotImplementedError(`groupby with transformations other than one aggregate() (at position ${t.position} in ${WHERE})`, { target: WHERE });
      }
      return group(state, stage, t.keys, first?.kind === 'aggregate' ? first.items : [], t.position);
    }
  }
}

function checkTop(state: State, n: number): void {
  const max = state.ctx.request.limits.maxTop;
  if (n > max) throw new LimitError('LIMIT_EXCEEDED', `top() may be at most ${max} (ODATA_MAX_TOP)`, { target: WHERE });
}

function compute(state: State, stage: Stage, t: Transformation & { kind: 'compute' }): Stage {
  const scope = state.ctx.nextScope();
  const ctx = exprContext(state, stage, scope);
  const outputs: LevelOutput[] = [];
  if (stage.kind === 'entities') {
    const computed = new Map(stage.computed);
    for (const item of t.items) {
      checkAlias(item.alias, (name) => computed.has(name) || 'found' in resolveMember(state.set.entityType, name), WHERE, item.position);
      const expr = planExpression(item.expr, ctx);
      const column = computedColumn(item.alias);
      outputs.push({ kind: 'value', column, expr });
      computed.set(item.alias, { column, type: computedType(expr) });
    }
    return Object.assign({}, stage, { level: above(stage, scope, { outputs }), computed });
  }
  const names = [...stage.names];
  for (const item of t.items) {
    checkAlias(item.alias, (name) => names.some((n) => n.path[0].toLowerCase() === name.toLowerCase()), WHERE, item.position);
    const expr = planExpression(item.expr, ctx);
    const column = nextColumn(state);
    outputs.push({ kind: 'value', column, expr });
    names.push({ path: [item.alias], column, type: computedType(expr) });
  }
  return Object.assign({}, stage, { level: above(stage, scope, { outputs }), names });
}

/** An integer or decimal literal argument (topcount's count, topsum's total). */
function literalNumber(e: PlanExpr, position: number, integer: boolean): string | number {
  const t = typeOf(e);
  if (e.kind !== 'literal' || t.kind !== 'primitive' || !isNumeric(t.name) || (integer && !['Edm.Int32', 'Edm.Int64'].includes(t.name))) {
    fail(integer ? 'expected a non-negative integer literal' : 'expected a number literal', position);
  }
  return (e as PlanExpr & { kind: 'literal' }).value as string | number;
}

function rank(state: State, stage: Stage, t: Transformation & { kind: 'topcount' | 'bottomcount' | 'topsum' | 'bottomsum' }): Stage {
  const descending = t.kind.startsWith('top');
  const scope = state.ctx.nextScope();
  const ctx = exprContext(state, stage, scope);
  const limit = planExpression(t.limit, ctx);
  const expr = planExpression(t.expr, ctx);
  const type = typeOf(expr);
  if (type.kind !== 'primitive' || !isNumeric(type.name)) fail(`${t.kind}() needs a numeric expression, got ${typeName(type)}`, t.position, 'TYPE_MISMATCH');
  const column = nextColumn(state);
  const order: OrderKey[] = [{ column, type, descending }];
  const orderby: OrderPlan[] = [{ expr, descending }, ...tiebreak(state, stage, scope)];
  if (t.kind === 'topcount' || t.kind === 'bottomcount') {
    const n = Number(literalNumber(limit, t.position, true));
    if (n < 0) fail('the count must not be negative', t.position);
    checkTop(state, n);
    return Object.assign({}, stage, { level: above(stage, scope, { outputs: [{ kind: 'value', column, expr }], orderby, top: n }), order });
  }
  // topsum/bottomsum: the rows, in order, while the total before each is below the limit
  const total = literalNumber(limit, t.position, false);
  const running = nextColumn(state);
  const totalType = sumType(type);
  const withTotals = above(stage, scope, { outputs: [{ kind: 'value', column, expr }, { kind: 'running-total', column: running, expr, orderby }] });
  const outer = state.ctx.nextScope();
  const before = col(outer, running, totalType);
  const bound: PlanExpr = { kind: 'literal', value: totalType.kind === 'primitive' && totalType.name === 'Edm.Decimal' ? formatDecimal(parseDecimal(String(total))!) : total, type: totalType };
  const condition: PlanExpr = { kind: 'or', left: { kind: 'compare', op: 'eq', left: before, right: { kind: 'null' } }, right: { kind: 'compare', op: 'lt', left: before, right: bound } };
  const level: ApplyLevel = { from: { kind: 'level', level: withTotals }, scope: outer, keepAll: true, outputs: [], where: [condition], orderby: [] };
  return Object.assign({}, stage, { level, order });
}

function sumType(t: ValueType): ValueType {
  if (t.kind !== 'primitive') return t;
  if (t.name === 'Edm.Decimal') return t;
  if (t.name === 'Edm.Double' || t.name === 'Edm.Single') return { kind: 'primitive', name: 'Edm.Double' };
  return INT64;
}

function resultType(method: AggregateMethod, t: ValueType): ValueType {
  switch (method) {
    case 'count': case 'countdistinct': return INT64;
    case 'sum': return sumType(t);
    case 'average': return t.kind === 'primitive' && t.name === 'Edm.Decimal' ? t : { kind: 'primitive', name: 'Edm.Double' };
    case 'min': case 'max': return t;
  }
}

const ORDERED = new Set(['Edm.String', 'Edm.Date', 'Edm.DateTimeOffset', 'Edm.TimeOfDay', 'Edm.Duration']);

function checkAggregatable(method: string, t: ValueType, what: string, position: number): AggregateMethod {
  if (method.includes('.')) throw new NotImplementedError(`the custom aggregation method ${method} (at position ${position} in ${WHERE})`, { target: WHERE });
  const m = method as AggregateMethod;
  const ok = t.kind === 'primitive'
    ? (m === 'countdistinct' || isNumeric(t.name) || ((m === 'min' || m === 'max') && ORDERED.has(t.name)))
    : t.kind === 'enum' && m === 'countdistinct';
  if (!ok) fail(`'${what}' of type ${typeName(t)} is not aggregatable with ${method}`, position, 'TYPE_MISMATCH');
  return m;
}

function exprText(e: Expr): string {
  return e.kind === 'path' ? e.segments.map((s) => s.name).join('/') : 'the expression';
}

function group(state: State, input: Stage, keys: readonly (readonly PathStep[])[], items: readonly AggregateItem[], position: number): Stage {
  let stage = input;
  // aggregates over a collection navigation are computed per input row first, then aggregated per group
  const related = new Map<AggregateItem, { readonly outputs: readonly LevelOutput[]; readonly flat: boolean }>();
  const navigationOf = new Map(items.map((i) => [i, i.kind === 'navigation' ? i : flatNavigation(state, stage, i)] as const));
  const relatedScope = [...navigationOf.values()].some((n) => n !== undefined) ? state.ctx.nextScope() : undefined;
  const outputs: LevelOutput[] = [];
  const names: Named[] = [];
  const aliases = new Set<string>();
  const claim = (alias: string, at: number) => {
    if (aliases.has(alias.toLowerCase())) fail(`the alias '${alias}' is used twice`, at);
    aliases.add(alias.toLowerCase());
  };
  if (relatedScope !== undefined) {
    if (stage.kind !== 'entities') fail('aggregates over a navigation apply to entities, not to aggregated results', position);
    for (const [item, nav] of navigationOf) {
      const flat = item !== nav || nav?.flat === true;
      if (nav !== undefined) related.set(item, { outputs: relatedAggregates(state, nav, relatedScope, flat), flat });
    }
    stage = Object.assign({}, stage, { level: above(stage, relatedScope, { outputs: [...related.values()].flatMap((r) => r.outputs) }) });
  }
  const scope = state.ctx.nextScope();
  const ctx = exprContext(state, stage, scope);
  const groupBy: PlanExpr[] = [];
  const keyNames: Named[] = [];
  for (const key of keys) {
    if (stage.kind === 'entities') checkGroupKey(state, key);
    const expr = planExpression({ kind: 'path', segments: key, position: key[0].position }, ctx);
    const path = key.map((k) => k.name);
    claim(path.join('/'), key[0].position);
    const column = path.join('/');
    groupBy.push(expr);
    outputs.push({ kind: 'value', column, expr });
    const viaNavigation = stage.kind === 'entities' && key.length > 1 && resolvesToNavigation(state, key[0].name);
    const named: Named = { path: stage.kind === 'groups' ? namedPath(stage.names, key) : path, column, type: typeOf(expr), viaNavigation };
    keyNames.push(named);
    names.push(named);
  }
  for (const item of items) {
    const fromRelated = related.get(item);
    if (fromRelated !== undefined) {
      for (const r of fromRelated.outputs) {
        if (r.kind !== 'related-aggregate') continue;
        if (r.averageOf !== undefined) {
          // the count part is read with its sum part
          if (r.method !== 'sum') continue;
          const type = resultType('average', r.argType);
          claim(r.averageOf, item.position);
          outputs.push({
            kind: 'average-of-parts', column: r.averageOf, argType: r.argType,
            sums: col(scope, r.column, sumType(r.argType)), counts: col(scope, averagePart(r.averageOf, 'count'), INT64),
          });
          names.push(fromRelated.flat ? { path: [r.averageOf], column: r.averageOf, type } : { path: r.averageOf.split('/'), column: r.averageOf, type, inCollection: true });
          continue;
        }
        claim(r.column, item.position);
        const type = r.method === 'count' ? INT64 : resultType(r.method, r.argType);
        const partial = col(scope, r.column, type);
        outputs.push({ kind: 'aggregate', column: r.column, method: r.method === 'count' ? 'sum' : r.method, arg: partial, argType: type });
        names.push(fromRelated.flat ? { path: [r.column], column: r.column, type } : { path: r.column.split('/'), column: r.column, type, inCollection: true });
      }
      continue;
    }
    switch (item.kind) {
      case 'count':
        claim(item.alias, item.position);
        outputs.push({ kind: 'aggregate', column: item.alias, method: 'count', argType: INT64 });
        names.push({ path: [item.alias], column: item.alias, type: INT64 });
        break;
      case 'method': {
        claim(item.alias, item.position);
        if (item.from) throw new NotImplementedError(`aggregate with from (at position ${item.position} in ${WHERE})`, { target: WHERE });
        const arg = planExpression(item.expr, ctx);
        const argType = typeOf(arg);
        const method = checkAggregatable(item.method, argType, exprText(item.expr), item.position);
        outputs.push({ kind: 'aggregate', column: item.alias, method, arg, argType });
        names.push({ path: [item.alias], column: item.alias, type: resultType(method, argType) });
        break;
      }
      case 'navigation': break; // aggregated above
    }
  }
  if (outputs.length === 0) fail('groupby() needs at least one grouping property', position);
  const level = above(stage, scope, { keepAll: false, outputs, groupBy });
  return { kind: 'groups', level, names, keys: keyNames, order: [] };
}

function namedPath(names: readonly Named[], key: readonly PathStep[]): readonly string[] {
  const text = key.map((s) => s.name).join('/').toLowerCase();
  return names.find((n) => n.path.join('/').toLowerCase() === text)?.path ?? key.map((s) => s.name);
}

function resolvesToNavigation(state: State, name: string): boolean {
  const found = resolveMember(state.set.entityType, name);
  return 'found' in found && found.found.kind === 'navigation';
}

/** A group key may not be (or pass through) a collection: the extension groups by single values. */
function checkGroupKey(state: State, key: readonly PathStep[]): void {
  let type = state.set.entityType;
  let set = state.set;
  for (const step of key) {
    const found = resolveMember(type, step.name);
    if (!('found' in found)) return; // planning names the problem
    const member = found.found;
    if (member.kind === 'property') {
      if (member.property.collection) fail(`the group key '${key.map((k) => k.name).join('/')}' is a collection`, step.position, 'TYPE_MISMATCH');
      return;
    }
    if (member.navigation.collection) fail(`the group key '${key.map((k) => k.name).join('/')}' goes through the collection navigation '${member.navigation.name}'`, step.position, 'TYPE_MISMATCH');
    set = targetEntitySet(state.ctx.model, set, member.navigation);
    type = set.entityType;
  }
}

/**
 * `Products/Total with sum as Sum` (the extension's CS03 form): the same per-row aggregate over the related
 * rows as `Products(Total with sum as Sum)`, named flat. Undefined when the path does not start with a
 * collection navigation of the entities.
 */
function flatNavigation(state: State, stage: Stage, item: AggregateItem): (AggregateItem & { kind: 'navigation' }) | undefined {
  if (stage.kind !== 'entities' || item.kind !== 'method' || item.expr.kind !== 'path' || item.expr.segments.length < 2) return undefined;
  const [head, ...rest] = item.expr.segments;
  const found = resolveMember(state.set.entityType, head.name);
  if (!('found' in found) || found.found.kind !== 'navigation' || !found.found.navigation.collection) return undefined;
  return { kind: 'navigation', path: [head], items: [Object.assign({}, item, { expr: { kind: 'path', segments: rest, position: rest[0].position } as Expr })], position: item.position };
}

/** `Products(Total with sum as Sum)`: per input row, the aggregate over its related rows. */
function relatedAggregates(state: State, item: AggregateItem & { kind: 'navigation' }, outerScope: number, flat: boolean): LevelOutput[] {
  const type = state.set.entityType;
  if (item.path.length !== 1) throw new NotImplementedError(`aggregating over a path of navigations (at position ${item.position} in ${WHERE})`, { target: WHERE });
  const found = resolveMember(type, item.path[0].name);
  if (!('found' in found) || found.found.kind !== 'navigation' || !found.found.navigation.collection) {
    return fail(`'${item.path[0].name}' is not a collection navigation of ${type.qualifiedName}`, item.position, 'UNKNOWN_PROPERTY');
  }
  const nav = found.found.navigation;
  const storage = navigationStorage(state.ctx.model, type, nav);
  if (storage.kind !== 'reverse-foreign-key') throw new NotImplementedError(`aggregating over the many-to-many navigation ${nav.name} (at position ${item.position} in ${WHERE})`, { target: WHERE });
  const target = targetEntitySet(state.ctx.model, state.set, nav);
  const childScope = state.ctx.nextScope();
  const limits = state.ctx.request.limits;
  const ctx: ExprContext = {
    model: state.ctx.model, scopes: [{ id: childScope, set: target }], nextScope: state.ctx.nextScope, where: WHERE,
    maxNodes: limits.maxFilterNodes, maxNodesSetting: 'ODATA_MAX_FILTER_NODES', nodes: 0, budget: state.budget,
  };
  const columnOf = (alias: string) => (flat ? alias : `${nav.name}/${alias}`);
  return item.items.flatMap((inner): LevelOutput[] => {
    const base = { table: tableOf(target), scope: childScope, holder: storage.targetColumns, outerScope, outerKey: type.key };
    switch (inner.kind) {
      case 'count': return [{ kind: 'related-aggregate', column: columnOf(inner.alias), method: 'count', argType: INT64, ...base }];
      case 'method': {
        if (inner.from) throw new NotImplementedError(`aggregate with from (at position ${inner.position} in ${WHERE})`, { target: WHERE });
        const arg = planExpression(inner.expr, ctx);
        const argType = typeOf(arg);
        const method = checkAggregatable(inner.method, argType, exprText(inner.expr), inner.position);
        const column = columnOf(inner.alias);
        if (method === 'countdistinct') {
          throw new NotImplementedError(`countdistinct over a navigation's related entities (at position ${inner.position} in ${WHERE})`, { target: WHERE });
        }
        // the related rows of different input rows are different rows (a reverse foreign key), so the
        // group's average is the sum of their per-row sums over the sum of their per-row counts
        if (method === 'average') {
          return [
            { kind: 'related-aggregate', column: averagePart(column, 'sum'), method: 'sum', arg, argType, averageOf: column, ...base },
            { kind: 'related-aggregate', column: averagePart(column, 'count'), method: 'count', arg, argType: INT64, averageOf: column, ...base },
          ];
        }
        return [{ kind: 'related-aggregate', column, method, arg, argType, ...base }];
      }
      case 'navigation': throw new NotImplementedError(`nested navigation aggregates (at position ${inner.position} in ${WHERE})`, { target: WHERE });
    }
  });
}

/** The per-row column of one part of an average over related rows (`$` cannot start an alias, so no name collides). */
function averagePart(column: string, part: 'sum' | 'count'): string {
  return `${column}/$${part}`;
}

/** The read on top of aggregated rows: `$filter`, `$orderby`, paging, `$select` and `$compute` over the dynamic properties. */
