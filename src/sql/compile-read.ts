/**
 * Compiles a ReadPlan into SQL: the page query, the count query, and one query per expanded
 * navigation level (never one per row); single-valued expansions through a foreign key are LEFT JOINs
 * of the page query instead (joined-expands.ts). Per-parent $top/$skip inside $expand use ROW_NUMBER().
 *
 *   Companies?$expand=Contacts($top=5)
 *   → SELECT … FROM "Companies" AS "s0" ORDER BY "s0"."Id" LIMIT 101
 *   → SELECT * FROM (SELECT …, "s1"."CompanyId" AS "__parent",
 *        ROW_NUMBER() OVER (PARTITION BY "s1"."CompanyId" ORDER BY "s1"."Id") AS "__rn"
 *        FROM "Contacts" AS "s1" WHERE "s1"."CompanyId" IN (?, ?, …)) AS "x" WHERE "__rn" <= ?
 */
import type { ExpandPlan, OrderPlan, PlanExpr, ReadPlan } from '../plan/plan';
import { decimalSum, ExpressionCompiler, isDecimal, JoinRegistry, scopeAlias, visibleRows, type SqlTarget } from './compile-expression';
import { typeOf } from '../plan/plan-expression';
import { id, join, raw, rowCount, sql, type Fragment } from './fragment';
import { columnsEqual, qualified } from './key-columns';
import { memoizedByObject } from '../memo';
import { compileLevel } from './compile-apply';
import { compileDeepSkipPage, skipsByKey } from './compile-deep-skip';
import { expandShapeOf, joinedParts } from './joined-expands';

export const PARENT = '__parent';
export const ORDER_PREFIX = '__o';

export function orderTerm(o: OrderPlan, c: ExpressionCompiler, name?: string): Fragment {
  const value = name ? id(name) : c.compile(o.expr);
  const expr = isDecimal(typeOf(o.expr)) ? c.dialect.decimal.comparable(value) : value;
  // OData sorts null lowest; a column that cannot hold null needs no null ordering, and without one
  // PostgreSQL walks the column's plain B-tree index instead of sorting the whole table
  if (o.expr.kind === 'column' && o.expr.notNull) return o.descending ? sql`${expr} DESC` : sql`${expr} ASC`;
  return o.descending ? sql`${expr} DESC NULLS LAST` : sql`${expr} ASC NULLS FIRST`;
}

/** The plan's conditions and the caller's access predicate on the read's own table. */
function whereClause(plan: ReadPlan, conditions: readonly PlanExpr[], c: ExpressionCompiler): Fragment {
  // a $apply relation applied the caller's access where it read the table
  const visible = plan.source ? undefined : visibleRows(c.target, plan.table, scopeAlias(plan.scope));
  const all = [...conditions.map((x) => c.condition(x)), ...(visible ? [visible] : [])];
  if (all.length === 0) return raw('');
  return sql` WHERE ${join(all, ' AND ')}`;
}

/**
 * `"s0"."A", "s0"."B", …`, compiled once per column array and alias: the planner hands out one shared
 * array per entity type (per model version) when every column is read, the common case.
 */
function columnList(alias: string, columns: readonly string[]): Fragment {
  const byAlias = columnListsByAlias(columns);
  let list = byAlias.get(alias);
  if (list === undefined) {
    list = join(columns.map((col) => id(`${alias}.${col}`)), ', ');
    byAlias.set(alias, list);
  }
  return list;
}

const columnListsByAlias = memoizedByObject((_columns: readonly string[]) => new Map<string, Fragment>());

/** What a read's rows come from: its table, or its `$apply` relation as a subquery. */
function sourceOf(plan: ReadPlan, target: SqlTarget): Fragment {
  return plan.source ? sql`(${compileLevel(plan.source, target)})` : id(plan.table);
}

/** The selected columns and the dynamic properties (`$compute`, aggregates), each under its column alias. */
function selectList(plan: ReadPlan, alias: string, c: ExpressionCompiler): Fragment[] {
  const list = plan.columns.length ? [columnList(alias, plan.columns)] : [];
  for (const d of plan.dynamic ?? []) list.push(sql`${c.compile(d.expr)} AS ${id(d.column)}`);
  return list;
}

/**
 * The field of a page row that holds its i-th order value (for the next $skiptoken): the selected column
 * itself when the order term is one of the read's own selected columns, otherwise `__o<i>`. Repeating a
 * selected column under another name is not free: PostgreSQL then projects every row it sorts (a page
 * deep in `$orderby=LastName` took twice as long).
 */
export function orderValueField(plan: ReadPlan, i: number): string {
  const { expr } = plan.orderby[i];
  const own = expr.kind === 'column' && expr.scope === plan.scope && expr.joins.length === 0 && plan.source === undefined;
  return own && plan.columns.includes(expr.column) ? expr.column : `${ORDER_PREFIX}${i}`;
}

/** The page query: selected columns, the order values (for the next $skiptoken), one row beyond the page. */
export function compilePage(plan: ReadPlan, target: SqlTarget, limit: number | undefined, offset: number | undefined): Fragment {
  const joins = new JoinRegistry(target);
  const c = new ExpressionCompiler(target, joins);
  const alias = scopeAlias(plan.scope);
  const orderValues: Fragment[] = [];
  plan.orderby.forEach((o, i) => {
    const field = orderValueField(plan, i);
    if (field.startsWith(ORDER_PREFIX)) orderValues.push(sql`${c.compile(o.expr)} AS ${id(field)}`);
  });
  const where = whereClause(plan, plan.keyset ? [...plan.where, plan.keyset] : plan.where, c);
  const order = join(plan.orderby.map((o) => orderTerm(o, c)), ', ');
  const selected = selectList(plan, alias, c);
  // single-valued expansions joined into this statement (joined-expands.ts)
  const expanded = joinedParts(expandShapeOf(plan), alias, target);
  const from = expanded.joins.length
    ? sql`${sourceOf(plan, target)} AS ${id(alias)} ${joins.for(plan.scope)} ${join(expanded.joins, ' ')}`
    : sql`${sourceOf(plan, target)} AS ${id(alias)} ${joins.for(plan.scope)}`;
  const query = sql`SELECT ${join([...selected, ...expanded.columns, ...orderValues], ', ')} FROM ${from}${where} ORDER BY ${order}`;
  if (limit === undefined) {
    // only the entities an action returns are read unbounded, and they are never skipped
    if (offset) throw new Error('an unbounded read cannot skip rows');
    return query;
  }
  if (skipsByKey(plan, target.dialect, offset)) {
    // a deep $skip: the page's keys first, from what an index covers, then its rows (compile-deep-skip.ts)
    const keyFrom = sql`${sourceOf(plan, target)} AS ${id(alias)} ${joins.for(plan.scope)}`;
    const select = join([...selected, ...expanded.columns, ...orderValues], ', ');
    return compileDeepSkipPage(plan, { select, from, keyFrom, where, order, alias }, limit, offset);
  }
  return offset ? sql`${query} LIMIT ${rowCount(limit)} OFFSET ${rowCount(offset)}` : sql`${query} LIMIT ${rowCount(limit)}`;
}

/** The exact sum of a decimal column (of declared Scale `scale`, if any) over the rows a plan selects (0 when none). */
export function compileSum(plan: ReadPlan, target: SqlTarget, column: string, scale?: number): Fragment {
  return compileAggregate(plan, target, sql`COALESCE(${decimalSum(id(`${scopeAlias(plan.scope)}.${column}`), scale, target)}, 0) AS "total"`);
}

export function compileCount(plan: ReadPlan, target: SqlTarget): Fragment {
  const rule = plan.source === undefined && plan.where.length === 0 ? target.access.get(plan.table) : undefined;
  if (rule?.kind === 'owner-or-public' && target.dialect.countVisible) {
    // the whole set under the caller's access: the engine may keep that count
    return target.dialect.countVisible(plan.table, rule, compileAggregate(plan, target, raw('COUNT(*)')));
  }
  return compileAggregate(plan, target, raw('COUNT(*) AS "count"'));
}

function compileAggregate(plan: ReadPlan, target: SqlTarget, aggregate: Fragment): Fragment {
  const joins = new JoinRegistry(target);
  const c = new ExpressionCompiler(target, joins);
  const where = whereClause(plan, plan.where, c);
  return sql`SELECT ${aggregate} FROM ${sourceOf(plan, target)} AS ${id(scopeAlias(plan.scope))} ${joins.for(plan.scope)}${where}`;
}

/** The field of an expansion's rows holding part `i` of the parent's value (`__parent`, `__parent1`, …). */
export function parentField(i: number): string {
  return i === 0 ? PARENT : `${PARENT}${i}`;
}

/** How child rows of an expand relate to parent values: the child columns (or link columns) holding the parent's value, one per part. */
function childSource(e: ExpandPlan, alias: string): { from: Fragment; parentAlias: string; parent: readonly string[] } {
  const child = e.read;
  switch (e.storage.kind) {
    case 'foreign-key':
      return { from: sql`${id(child.table)} AS ${id(alias)}`, parentAlias: alias, parent: child.entityType.key };
    case 'reverse-foreign-key':
      return { from: sql`${id(child.table)} AS ${id(alias)}`, parentAlias: alias, parent: e.storage.targetColumns };
    case 'link-table': {
      const link = `${alias}_link`;
      return {
        from: sql`${id(e.storage.readTable)} AS ${id(link)} JOIN ${id(child.table)} AS ${id(alias)} ON ${columnsEqual(alias, child.entityType.key, link, e.storage.targetColumns)}`,
        parentAlias: link, parent: e.storage.sourceColumns,
      };
    }
  }
}

interface ExpandScope {
  readonly c: ExpressionCompiler;
  readonly joins: JoinRegistry;
  readonly alias: string;
  readonly from: Fragment;
  /** the child-side columns holding the parent's value, qualified */
  readonly parent: readonly Fragment[];
  /** parent IN (…) plus the child's own filters */
  readonly conditions: readonly Fragment[];
}

/** `parentValues`: each parent's value, one entry per part (ExpandPlan.parentColumns). */
function expandScope(e: ExpandPlan, parentValues: readonly (readonly unknown[])[], target: SqlTarget): ExpandScope {
  const joins = new JoinRegistry(target);
  const c = new ExpressionCompiler(target, joins);
  const alias = scopeAlias(e.read.scope);
  const { from, parentAlias, parent: parentColumns } = childSource(e, alias);
  const parent = qualified(parentAlias, parentColumns);
  const inList = parent.length === 1
    ? sql`${parent[0]} IN (${join(parentValues.map((v) => sql`${v[0]}`), ', ')})`
    : sql`(${join(parentValues.map((v) => sql`(${join(parent.map((col, i) => sql`${col} = ${v[i]}`), ' AND ')})`), ' OR ')})`;
  const visible = visibleRows(target, e.read.table, alias);
  return { c, joins, alias, from, parent, conditions: [inList, ...e.read.where.map((x) => c.condition(x)), ...(visible ? [visible] : [])] };
}

/** Children of all given parents in one statement, each row tagged with its parent's value. */
export function compileExpand(e: ExpandPlan, parentValues: readonly (readonly unknown[])[], target: SqlTarget): Fragment {
  const child = e.read;
  const { c, joins, alias, from, parent, conditions } = expandScope(e, parentValues, target);
  const where = sql` WHERE ${join(conditions, ' AND ')}`;
  const order = join(child.orderby.map((o) => orderTerm(o, c)), ', ');
  const tagged = join(parent.map((col, i) => sql`${col} AS ${id(parentField(i))}`), ', ');
  const byParent = join(parent.map((_, i) => id(parentField(i))), ', ');
  const columns = sql`${join(selectList(child, alias, c), ', ')}, ${tagged}`;
  const fullFrom = sql`${from} ${joins.for(child.scope)}`;
  const paged = (e.collection && (child.top !== undefined || child.skip !== undefined));
  if (!paged) return sql`SELECT ${columns} FROM ${fullFrom}${where} ORDER BY ${byParent}, ${order}`;
  const rn = sql`ROW_NUMBER() OVER (PARTITION BY ${join(parent, ', ')} ORDER BY ${order}) AS "__rn"`;
  const skip = child.skip ?? 0;
  const bounds = child.top !== undefined ? sql`"__rn" > ${skip} AND "__rn" <= ${skip + child.top}` : sql`"__rn" > ${skip}`;
  return sql`SELECT * FROM (SELECT ${columns}, ${rn} FROM ${fullFrom}${where}) AS "x" WHERE ${bounds} ORDER BY ${byParent}, "__rn"`;
}

/** Per-parent counts for `$expand=Nav/$count` or `$expand=Nav($count=true)`. */
export function compileExpandCount(e: ExpandPlan, parentValues: readonly (readonly unknown[])[], target: SqlTarget): Fragment {
  const { joins, from, parent, conditions } = expandScope(e, parentValues, target);
  const tagged = join(parent.map((col, i) => sql`${col} AS ${id(parentField(i))}`), ', ');
  return sql`SELECT ${tagged}, COUNT(*) AS "count" FROM ${from} ${joins.for(e.read.scope)} WHERE ${join(conditions, ' AND ')} GROUP BY ${join(parent, ', ')}`;
}
