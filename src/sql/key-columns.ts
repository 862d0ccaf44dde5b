/**
 * SQL over keys of one or more columns (composite keys, and the foreign keys and link-table columns
 * that refer to them). Both engines take row values: `("a"."x", "a"."y") IN (SELECT …)`; a list of
 * literal keys is an OR of AND-ed equalities (SQLite's IN with a row value needs a subquery).
 *
 *   Lines whose (OrderYear, OrderNo) refer to an order a path reaches:
 *   ("s0"."OrderYear", "s0"."OrderNo") IN (SELECT "p0"."Year", "p0"."No" FROM …)
 */
import type { PrimitiveTypeName } from '../edm/model';
import type { Dialect } from './dialect/dialect';
import { id, join, raw, sql, type Fragment } from './fragment';

/** The columns of `alias`, qualified: `"a"."x"`. */
export function qualified(alias: string, columns: readonly string[]): Fragment[] {
  return columns.map((c) => id(`${alias}.${c}`));
}

/** One column as it is, several as a row value `("a"."x", "a"."y")`. */
export function rowValue(alias: string, columns: readonly string[]): Fragment {
  const parts = qualified(alias, columns);
  return parts.length === 1 ? parts[0] : sql`(${join(parts, ', ')})`;
}

/** A select list of the columns: `"a"."x", "a"."y"`. */
export function selectColumns(alias: string, columns: readonly string[]): Fragment {
  return join(qualified(alias, columns), ', ');
}

/** `left.l[i] = right.r[i]` for every part, AND-ed. */
export function columnsEqual(left: string, leftColumns: readonly string[], right: string, rightColumns: readonly string[]): Fragment {
  if (leftColumns.length !== rightColumns.length) throw new Error(`key of ${leftColumns.length} columns matched with ${rightColumns.length}`);
  return join(leftColumns.map((c, i) => sql`${id(`${left}.${c}`)} = ${id(`${right}.${rightColumns[i]}`)}`), ' AND ');
}

/** Whether the columns are one of the rows a subquery selects (as many columns, in the same order). */
export function inSubquery(alias: string, columns: readonly string[], subquery: Fragment, negated = false): Fragment {
  return sql`${rowValue(alias, columns)} ${raw(negated ? 'NOT IN' : 'IN')} (${subquery})`;
}

export interface KeyColumnType {
  readonly column: string;
  readonly type: PrimitiveTypeName;
}

/** `c = ?` per part, AND-ed: one key's values. */
export function equalsKey(dialect: Dialect, alias: string, parts: readonly KeyColumnType[], values: readonly (string | number | boolean)[]): Fragment {
  return join(parts.map((p, i) => sql`${id(`${alias}.${p.column}`)} = ${dialect.bind(values[i], p.type)}`), ' AND ');
}

/** The rows whose columns hold one of these keys: `c IN (…)`, or `((c1 = ? AND c2 = ?) OR …)`. */
export function inKeys(dialect: Dialect, alias: string, parts: readonly KeyColumnType[], keys: readonly (readonly (string | number | boolean)[])[]): Fragment {
  if (keys.length === 0) return raw('(1 = 0)');
  if (parts.length === 1) return sql`${id(`${alias}.${parts[0].column}`)} IN (${join(keys.map((k) => dialect.bind(k[0], parts[0].type)), ', ')})`;
  return sql`(${join(keys.map((k) => sql`(${equalsKey(dialect, alias, parts, k)})`), ' OR ')})`;
}

/** `c IS NOT NULL` per part, AND-ed. */
export function notNull(alias: string, columns: readonly string[]): Fragment {
  return join(columns.map((c) => sql`${id(`${alias}.${c}`)} IS NOT NULL`), ' AND ');
}
