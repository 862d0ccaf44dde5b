/**
 * Compiles a `$apply` relation (plan/plan-apply.ts) to one SELECT with nested subqueries: each level
 * reads the one below as `(…) AS "sN"`; the bottom level reads the table with the caller's record
 * access, so hidden rows never reach a group. Aggregates are the engine's own (decimals exact through
 * the dialect): nothing is aggregated outside the database.
 */
import type { ApplyLevel, LevelOutput, PlanExpr, ValueType } from '../plan/plan';
import { decimalSum, ExpressionCompiler, isDecimal, JoinRegistry, scopeAlias, visibleRows, type SqlTarget } from './compile-expression';
import { orderTerm } from './compile-read';
import { typeOf } from '../plan/plan-expression';
import { id, join, raw, rowCount, sql, type Fragment } from './fragment';
import { columnsEqual } from './key-columns';

export function compileLevel(level: ApplyLevel, target: SqlTarget): Fragment {
  const joins = new JoinRegistry(target);
  const c = new ExpressionCompiler(target, joins);
  const alias = scopeAlias(level.scope);
  const from = level.from.kind === 'table' ? id(level.from.table) : sql`(${compileLevel(level.from.level, target)})`;
  const items: Fragment[] = level.keepAll ? [raw(`${id(alias).sql}.*`)] : [];
  for (const o of level.outputs) items.push(sql`${output(o, c)} AS ${id(o.column)}`);
  const visible = level.from.kind === 'table' ? visibleRows(target, level.from.table, alias) : undefined;
  const conditions = [...level.where.map((x) => c.condition(x)), ...(visible ? [visible] : [])];
  const groupBy = level.groupBy?.length ? sql` GROUP BY ${join(level.groupBy.map((g) => c.compile(g)), ', ')}` : raw('');
  const order = level.orderby.length ? sql` ORDER BY ${join(level.orderby.map((o) => orderTerm(o, c)), ', ')}` : raw('');
  // every expression is compiled above: the joins they need are all registered now
  const where = conditions.length ? sql` WHERE ${join(conditions, ' AND ')}` : raw('');
  let query = sql`SELECT ${join(items, ', ')} FROM ${from} AS ${id(alias)} ${joins.for(level.scope)}${where}${groupBy}${order}`;
  if (level.top !== undefined) query = sql`${query} LIMIT ${rowCount(level.top)}`;
  // OFFSET needs a LIMIT before it on SQLite: an unreachable one where skip() comes alone
  if (level.skip !== undefined) query = level.top === undefined ? sql`${query} LIMIT ${rowCount(Number.MAX_SAFE_INTEGER)} OFFSET ${rowCount(level.skip)}` : sql`${query} OFFSET ${rowCount(level.skip)}`;
  return query;
}

function output(o: LevelOutput, c: ExpressionCompiler): Fragment {
  switch (o.kind) {
    case 'value': return c.compile(o.expr);
    case 'aggregate': return aggregate(o.method, o.arg && c.compile(o.arg), decimalArgument(o.arg, o.argType), c);
    case 'running-total': {
      const x = c.compile(o.expr);
      const sum = isDecimal(typeOf(o.expr)) ? c.dialect.decimal.sum(x) : sql`SUM(${x})`;
      return sql`${sum} OVER (ORDER BY ${join(o.orderby.map((t) => orderTerm(t, c)), ', ')} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;
    }
    case 'average-of-parts': {
      const counted = sql`SUM(${c.compile(o.counts)})`;
      const total = aggregate('sum', c.compile(o.sums), decimalArgument(o.sums, typeOf(o.sums)), c);
      const quotient = isDecimal(o.argType) ? c.dialect.decimal.arithmetic('div', total, counted) : c.dialect.divide(total, counted);
      return sql`(CASE WHEN COALESCE(${counted}, 0) = 0 THEN NULL ELSE ${quotient} END)`;
    }
    case 'related-aggregate': {
      const child = scopeAlias(o.scope);
      const value = aggregate(o.method, o.arg && c.compile(o.arg), decimalArgument(o.arg, o.argType), c);
      const visible = visibleRows(c.target, o.table, child);
      const holder = columnsEqual(child, o.holder, scopeAlias(o.outerScope), o.outerKey);
      return sql`(SELECT ${value} FROM ${id(o.table)} AS ${id(child)} ${c.joins.for(o.scope)} WHERE ${holder}${visible ? sql` AND ${visible}` : raw('')})`;
    }
  }
}

/** How an aggregate's argument is a decimal: not at all, of unknown scale, or a column of a declared Scale. */
type DecimalArgument = false | { readonly scale?: number };

function decimalArgument(arg: PlanExpr | undefined, type: ValueType): DecimalArgument {
  if (!isDecimal(type)) return false;
  return arg?.kind === 'column' && arg.scale !== undefined ? { scale: arg.scale } : {};
}

function aggregate(method: string, x: Fragment | undefined, decimal: DecimalArgument, c: ExpressionCompiler): Fragment {
  const { decimal: d } = c.dialect;
  if (method === 'count') return x === undefined ? raw('COUNT(*)') : sql`COUNT(${x})`;
  if (x === undefined) return raw('COUNT(*)');
  switch (method) {
    case 'sum': return decimal ? decimalSum(x, decimal.scale, c.target) : sql`SUM(${x})`;
    case 'min': return decimal ? d.min(x) : sql`MIN(${x})`;
    case 'max': return decimal ? d.max(x) : sql`MAX(${x})`;
    case 'countdistinct': return sql`COUNT(DISTINCT ${x})`;
    // exact for decimals: the exact sum divided by the count (the dialect's decimal quotient)
    case 'average': return decimal ? sql`(CASE WHEN COUNT(${x}) = 0 THEN NULL ELSE ${d.arithmetic('div', decimalSum(x, decimal.scale, c.target), sql`COUNT(${x})`)} END)` : sql`AVG(${x})`;
    default: throw new Error(`unknown aggregation method ${method}`);
  }
}
