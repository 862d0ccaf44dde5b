/**
 * Plans a read of one entity set with its query options: filter, search, order (made stable),
 * paging, select and expand. Expand children are planned by the same function, recursively.
 */
import { LimitError, PlanError } from '../errors/odata-error';
import { resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { columnNamesOf, columnOfName, columnsOf, navigationStorage, tableOf } from '../edm/storage';
import type { QueryOptions, SearchExpr } from '../uri/ast';
import type { ExpandPlan, OrderPlan, PlanExpr, ReadPlan } from './plan';
import { planExpression, typeOf, type ExprContext, type QueryBudget, type Scope } from './plan-expression';
import { columnsOfSelection, planSelect } from './plan-select';
import type { RequestContext } from './request-context';
import { decodeSkiptoken, keysetCondition } from './paging';
import { keyPartsOf } from './keys';
import type { PathStep } from '../uri/ast';
import type { ApplyLevel, ValueType } from './plan';
import { contextOrder, planComputed, selectComputed } from './plan-compute';
import { planApply } from './plan-apply';

export interface ReadContext {
  readonly model: EdmModel;
  readonly request: RequestContext;
  readonly nextScope: () => number;
}

export interface ReadOptions {
  readonly where?: readonly PlanExpr[];
  readonly scope?: number;
  /** inside $expand: no server paging */
  readonly nested: boolean;
  readonly depth: number;
  /** `$apply`: the relation the rows come from (see plan-apply.ts) */
  readonly source?: ApplyLevel;
  /** `$apply`: names the relation adds to the entity (compute()), as its columns */
  readonly computed?: ReadonlyMap<string, { readonly column: string; readonly type: ValueType }>;
  /** `$apply`: the order the relation established, used when `$orderby` is absent */
  readonly defaultOrder?: readonly OrderPlan[];
}

export function planRead(ctx: ReadContext, set: EdmEntitySet, options: QueryOptions, read: ReadOptions): ReadPlan {
  if (options.apply !== undefined && options.apply.length > 0) return planApply(ctx, set, options, read);
  const type = set.entityType;
  const scope = read.scope ?? ctx.nextScope();
  const label = read.nested ? `$expand(${set.name})` : '';
  const budget: QueryBudget = { maxJoins: ctx.request.limits.maxJoins, joins: new Set(), maxInItems: ctx.request.limits.maxInItems, inItems: 0 };
  const computed = new Map<string, { readonly expr: PlanExpr; readonly type: ValueType; readonly column: string }>();
  const names = (segments: readonly PathStep[]): PlanExpr | undefined => (segments.length === 1 ? computed.get(segments[0].name)?.expr : undefined);
  const exprCtx = (where: string): ExprContext => ({
    model: ctx.model, scopes: [{ id: scope, set } as Scope], nextScope: ctx.nextScope, where: label ? `${label} ${where}` : where,
    maxNodes: ctx.request.limits.maxFilterNodes, maxNodesSetting: 'ODATA_MAX_FILTER_NODES', nodes: 0, budget, names,
  });
  for (const [name, c] of read.computed ?? []) {
    computed.set(name, { expr: { kind: 'column', scope, joins: [], column: c.column, type: c.type }, type: c.type, column: c.column });
  }
  if (options.compute) planComputed(options.compute, type, computed, exprCtx('$compute'));
  const where: PlanExpr[] = [...(read.where ?? [])];
  if (options.filter) {
    const f = planExpression(options.filter, exprCtx('$filter'));
    const t = typeOf(f);
    // the null literal is a valid condition that selects nothing
    if (!(t.kind === 'null' || (t.kind === 'primitive' && t.name === 'Edm.Boolean'))) throw new PlanError('TYPE_MISMATCH', `$filter must be a Boolean expression, got ${t.kind === 'primitive' ? t.name : t.kind}`, { target: '$filter' });
    where.push(f);
  }
  if (options.search) where.push(planSearch(options.search, scope, set, ctx.request.limits.maxFilterNodes));

  // one context for all keys: the node limit bounds the whole $orderby, not each key
  const orderCtx = exprCtx('$orderby');
  const orderby: OrderPlan[] = options.orderby === undefined && read.defaultOrder ? [...read.defaultOrder]
    : (options.orderby ?? []).map((item) => ({ expr: planExpression(item.expr, orderCtx), descending: item.descending }));
  // every key part last, so the order is total and a page boundary (keyset, $skiptoken) is exact
  for (const part of keyPartsOf(type)) {
    if (orderby.some((o) => o.expr.kind === 'column' && o.expr.joins.length === 0 && o.expr.column === part.column && o.expr.scope === scope)) continue;
    // a table's key cannot be null: its order then needs no null ordering and matches the primary key's
    // index (PostgreSQL sorted the whole table for ASC NULLS FIRST); an $apply relation's may be null
    orderby.push({ expr: { kind: 'column', scope, joins: [], column: part.column, type: { kind: 'primitive', name: part.type }, notNull: read.source === undefined }, descending: false });
  }

  const limits = ctx.request.limits;
  if (options.top !== undefined && options.top > limits.maxTop) {
    throw new LimitError('LIMIT_EXCEEDED', `$top may be at most ${limits.maxTop} (ODATA_MAX_TOP)`, { target: '$top' });
  }
  let pageSize: number | undefined;
  let keyset: PlanExpr | undefined;
  if (!read.nested) {
    pageSize = Math.min(ctx.request.preferredPageSize ?? limits.pageSize, limits.maxPageSize);
    if (options.skiptoken !== undefined) {
      keyset = keysetCondition(orderby, decodeSkiptoken(options.skiptoken, ctx.model.version, orderby.length));
    }
  }

  const dynamicSelection = selectComputed(options.select, computed);
  const selection = planSelect(type, dynamicSelection.declared, label ? `${label} $select` : '$select');
  const expand = planExpand(ctx, set, options, read);
  // The ETag's properties are always read: every entity in a response carries @odata.etag.
  const needed = new Set<string>([...type.key, ...set.concurrency].map((name) => columnOfName(type, name)).concat(columnsOfSelection(selection.properties)));
  for (const e of expand) for (const c of e.parentColumns) needed.add(c);
  const allColumns = columnNamesOf(type);
  // the shared array when every column is read, so compiled column lists can be reused (sql/compile-read)
  const columns = allColumns.every((c) => needed.has(c)) ? allColumns : allColumns.filter((c) => needed.has(c));

  // computed properties are named in the context URL even without $select (`Companies(*,Ratio)`), so strict readers expect them
  const dynamicNames = dynamicSelection.dynamic.map((d) => d.path.join('/'));
  const contextItems = options.select === undefined ? (dynamicNames.length ? ['*', ...dynamicNames] : selection.contextItems)
    : contextOrder(selection.contextItems, dynamicSelection.dynamic);
  const contextSelect = contextSelectList(contextItems, options.select !== undefined || dynamicNames.length > 0, expand);
  return {
    entitySet: set, entityType: type, table: tableOf(set), scope, where, orderby,
    top: options.top, skip: keyset ? undefined : options.skip, pageSize, keyset, count: options.count === true,
    select: selection.properties, explicitSelect: options.select !== undefined, columns, expand, contextSelect,
    source: read.source, dynamic: dynamicSelection.dynamic.length ? dynamicSelection.dynamic : undefined,
  };
}

/**
 * The select list of @odata.context, in the OData 4.0 form (JSON Format §10.9-10.10) that strict
 * readers such as Excel accept: an expansion without nested `$select`/`$expand` is left out rather
 * than written `Nav()`; `$ref` and `$count` expansions are not represented; without `$select`, an
 * `$expand` makes the list start with `*` (all structural properties), so a client does not take the
 * expanded navigations for the only columns. An empty list means no parentheses at all.
 */
function contextSelectList(selected: readonly string[], explicitSelect: boolean, expand: readonly ExpandPlan[]): string[] {
  const list = explicitSelect ? [...selected] : expand.length > 0 ? ['*'] : [];
  for (const e of expand) {
    if (e.refOnly || e.countOnly || e.read.contextSelect.length === 0) continue;
    list.push(`${e.navigation}(${e.read.contextSelect.join(',')})`);
  }
  return list;
}

function planExpand(ctx: ReadContext, set: EdmEntitySet, options: QueryOptions, read: ReadOptions): ExpandPlan[] {
  if (!options.expand) return [];
  const type = set.entityType;
  const out: ExpandPlan[] = [];
  for (const item of options.expand) {
    const navs = item.path === '*'
      ? type.navigations
      : (() => {
        if (item.path.length !== 1) throw new PlanError('UNKNOWN_PROPERTY', `$expand path '${item.path.map((p) => p.name).join('/')}' must be one navigation property`, { target: '$expand' });
        const found = resolveMember(type, item.path[0].name);
        if (!('found' in found) || found.found.kind !== 'navigation') {
          throw new PlanError('UNKNOWN_PROPERTY', `'${item.path[0].name}' is not a navigation property of ${type.qualifiedName} in $expand`, { target: '$expand', position: item.path[0].position });
        }
        return [found.found.navigation];
      })();
    const levels = item.options.levels === 'max' ? ctx.request.limits.maxExpandDepth : item.options.levels ?? 1;
    for (const nav of navs) {
      if (out.some((e) => e.navigation === nav.name)) throw new PlanError('INVALID_QUERY_OPTION', `'${nav.name}' is expanded twice`, { target: '$expand' });
      out.push(planExpandLevel(ctx, set, nav.name, item.options, read.depth + 1, levels, item.suffix));
    }
  }
  return out;
}

function planExpandLevel(ctx: ReadContext, set: EdmEntitySet, navName: string, options: QueryOptions, depth: number, levels: number, suffix?: '$ref' | '$count'): ExpandPlan {
  if (depth > ctx.request.limits.maxExpandDepth) {
    throw new LimitError('LIMIT_EXCEEDED', `$expand may nest at most ${ctx.request.limits.maxExpandDepth} levels (ODATA_MAX_EXPAND_DEPTH)`, { target: '$expand' });
  }
  const nav = set.entityType.navigations.find((n) => n.name === navName)!;
  const target = targetEntitySet(ctx.model, set, nav);
  const storage = navigationStorage(ctx.model, set.entityType, nav);
  // $levels=n re-expands the same navigation on the target, n times (OData URL Conventions §5.1.3).
  let childOptions: QueryOptions = Object.assign({}, options, { levels: undefined });
  if (levels > 1) {
    const again = target.entityType.navigations.find((n) => n.name === navName);
    if (again) childOptions = Object.assign({}, childOptions, { expand: [...(options.expand ?? []), { path: [{ name: navName, position: 0 }], options: Object.assign({}, options, { levels: levels - 1 }) }] });
  }
  const child = planRead(ctx, target, suffix === '$ref' ? Object.assign({}, childOptions, { select: [], expand: undefined }) : childOptions, { nested: true, depth });
  const parentColumns = storage.kind === 'foreign-key' ? storage.columns : set.entityType.key;
  return { navigation: nav.name, collection: nav.collection, storage, parentColumns, refOnly: suffix === '$ref', countOnly: suffix === '$count', read: child };
}

export function planSearch(search: SearchExpr, scope: number, set: EdmEntitySet, maxNodes: number): PlanExpr {
  // counted without recursion: the tree of a long $search is as deep as it has terms
  let nodes = 0;
  for (const pending: SearchExpr[] = [search]; pending.length > 0;) {
    const s = pending.pop()!;
    if (++nodes > maxNodes) throw new LimitError('LIMIT_EXCEEDED', `$search has more than ${maxNodes} terms and operators (ODATA_MAX_FILTER_NODES)`, { target: '$search' });
    if (s.kind === 'and' || s.kind === 'or') pending.push(s.left, s.right);
    else if (s.kind === 'not') pending.push(s.operand);
  }
  const columns = columnsOf(set.entityType)
    .filter((c) => c.property.type.kind === 'primitive' && c.property.type.name === 'Edm.String' && !c.property.collection)
    .map((c) => c.column);
  const walk = (s: SearchExpr): PlanExpr => {
    switch (s.kind) {
      case 'term': return { kind: 'search-term', scope, columns, text: s.text };
      case 'and': case 'or': return { kind: s.kind, left: walk(s.left), right: walk(s.right) };
      case 'not': return { kind: 'not', operand: walk(s.operand) };
    }
  };
  return walk(search);
}
