/**
 * Compiles the statements writes need: row lookups (locked for update where the engine can),
 * INSERT, UPDATE and DELETE by key, link-table rows, and the lookups behind delete rules and derived
 * sums. Table and column names come from the model; every value is bound.
 */
import type { PrimitiveTypeName } from '../edm/model';
import type { Dialect } from './dialect/dialect';
import { id, join, param, raw, rowCount, sql, type Fragment } from './fragment';
import { visibleRows, type SqlTarget } from './compile-expression';

export type BindableValue = string | number | boolean | Buffer | null;

export interface ColumnBinding {
  readonly column: string;
  readonly value: BindableValue;
  readonly type: PrimitiveTypeName | 'enum';
}

export interface KeyBinding {
  readonly column: string;
  readonly type: PrimitiveTypeName;
}

/** A table's key: one column, or the columns of a composite key in key order. */
export type RowKeyBinding = KeyBinding | readonly KeyBinding[];

/** One row's key: a value, or one value per column of a composite key. */
export type RowKeyValue = BindableValue | readonly BindableValue[];

export function bindValue(dialect: Dialect, value: BindableValue, type: PrimitiveTypeName | 'enum'): Fragment {
  if (value === null) return raw('NULL');
  if (Buffer.isBuffer(value)) return param(value);
  return dialect.bind(value, type);
}

function keyList(dialect: Dialect, key: KeyBinding, values: readonly BindableValue[]): Fragment {
  return join(values.map((v) => bindValue(dialect, v, key.type)), ', ');
}

/** The rows with these keys: `k IN (…)`, or `((k1 = … AND k2 = …) OR …)` for a composite key. */
function rowsWithKeys(dialect: Dialect, key: RowKeyBinding, keys: readonly RowKeyValue[]): Fragment {
  if (!isComposite(key)) return sql`${id(key.column)} IN (${keyList(dialect, key, keys as readonly BindableValue[])})`;
  const one = (values: RowKeyValue) => {
    const parts = values as readonly BindableValue[];
    return join(key.map((k, i) => sql`${id(k.column)} = ${bindValue(dialect, parts[i], k.type)}`), ' AND ');
  };
  return keys.length === 1 ? one(keys[0]) : sql`(${join(keys.map((k) => sql`(${one(k)})`), ' OR ')})`;
}

function isComposite(key: RowKeyBinding): key is readonly KeyBinding[] {
  return Array.isArray(key);
}

/** The caller's access predicate on an unaliased table, as ` AND …`, when `target` restricts it. */
function andVisible(target: SqlTarget | undefined, table: string): Fragment {
  const visible = target && visibleRows(target, table, table);
  return visible ? sql` AND ${visible}` : raw('');
}

/**
 * Whole rows by key; locked against concurrent writers until the transaction ends where the engine supports it.
 * With `visibleTo`, only rows that caller may see.
 */
export function compileSelectRows(dialect: Dialect, table: string, key: RowKeyBinding, keys: readonly RowKeyValue[], lock: boolean, visibleTo?: SqlTarget): Fragment {
  const query = sql`SELECT * FROM ${id(table)} WHERE ${rowsWithKeys(dialect, key, keys)}${andVisible(visibleTo, table)}`;
  return lock ? sql`${query}${raw(dialect.lockForUpdate)}` : query;
}

/**
 * The INSERT's text depends only on the table, the columns in order and how each value is bound (its
 * placeholder: a type's cast, or NULL); the last text is kept per table and dialect, so a change set's
 * thousand inserts of one shape build it once and only bind their values.
 */
export function compileInsert(dialect: Dialect, table: string, values: readonly ColumnBinding[]): Fragment {
  const placeholders: string[] = new Array<string>(values.length);
  const bindings: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const bound = bindValue(dialect, v.value, v.type);
    placeholders[i] = bound.sql;
    for (const b of bound.bindings) bindings.push(b);
  }
  let texts = insertTexts.get(dialect);
  if (texts === undefined) insertTexts.set(dialect, (texts = new Map()));
  const last = texts.get(table);
  if (last !== undefined && sameInsert(last, values, placeholders)) return { sql: last.sql, bindings };
  const columns = values.map((v) => id(v.column).sql).join(', ');
  const text: InsertText = { columns: values.map((v) => v.column), placeholders, sql: `INSERT INTO ${id(table).sql} (${columns}) VALUES (${placeholders.join(', ')})` };
  if (texts.size >= MAX_INSERT_TEXTS) texts.clear();
  texts.set(table, text);
  return { sql: text.sql, bindings };
}

interface InsertText {
  readonly columns: readonly string[];
  readonly placeholders: readonly string[];
  readonly sql: string;
}

const insertTexts = new WeakMap<Dialect, Map<string, InsertText>>();
const MAX_INSERT_TEXTS = 1000;

function sameInsert(text: InsertText, values: readonly ColumnBinding[], placeholders: readonly string[]): boolean {
  if (text.columns.length !== values.length) return false;
  for (let i = 0; i < values.length; i++) {
    if (text.columns[i] !== values[i].column || text.placeholders[i] !== placeholders[i]) return false;
  }
  return true;
}

export function compileUpdate(dialect: Dialect, table: string, key: RowKeyBinding, keyValue: RowKeyValue, values: readonly ColumnBinding[]): Fragment {
  const assignments = join(values.map((v) => sql`${id(v.column)} = ${bindValue(dialect, v.value, v.type)}`), ', ');
  if (isComposite(key)) return sql`UPDATE ${id(table)} SET ${assignments} WHERE ${rowsWithKeys(dialect, key, [keyValue])}`;
  return sql`UPDATE ${id(table)} SET ${assignments} WHERE ${id(key.column)} = ${bindValue(dialect, keyValue as BindableValue, key.type)}`;
}

export function compileDelete(dialect: Dialect, table: string, key: RowKeyBinding, keys: readonly RowKeyValue[]): Fragment {
  return sql`DELETE FROM ${id(table)} WHERE ${rowsWithKeys(dialect, key, keys)}`;
}

/**
 * Keys of the rows of `table` whose `column` holds one of `values` (who refers to these rows); with
 * `visibleTo`, those that caller may see. `column` may be several (a foreign key to a composite key).
 */
export function compileKeysWhere(
  dialect: Dialect, table: string, key: RowKeyBinding, column: RowKeyBinding, values: readonly RowKeyValue[], limit?: number, visibleTo?: SqlTarget,
): Fragment {
  // a single key comes back as "key", a composite one as its columns
  const keys = isComposite(key) ? join(key.map((k) => id(k.column)), ', ') : sql`${id(key.column)} AS "key"`;
  const order = isComposite(key) ? join(key.map((k) => id(k.column)), ', ') : id(key.column);
  if (values.length === 0) return sql`SELECT ${keys} FROM ${id(table)} WHERE 1 = 0`;
  const query = sql`SELECT ${keys} FROM ${id(table)} WHERE ${rowsWithKeys(dialect, column, values)}${andVisible(visibleTo, table)} ORDER BY ${order}`;
  return limit === undefined ? query : sql`${query} LIMIT ${rowCount(limit)}`;
}

/**
 * How many rows of `table` have `column` in `values`, and how many of those `visibleTo` may see: a refused
 * delete counts the referrers the caller cannot see instead of naming them.
 */
export function compileReferrerCounts(dialect: Dialect, table: string, column: RowKeyBinding, values: readonly RowKeyValue[], visibleTo: SqlTarget): Fragment {
  const visible = visibleRows(visibleTo, table, table) ?? raw('1 = 1');
  return sql`SELECT COUNT(*) AS "total", COUNT(CASE WHEN ${visible} THEN 1 END) AS "visible" FROM ${id(table)} WHERE ${rowsWithKeys(dialect, column, values)}`;
}

/** One side of a link-table row: a column, or one per part of a composite key. */
export type LinkSide = ColumnBinding | readonly ColumnBinding[];

function sideColumns(side: LinkSide): readonly ColumnBinding[] {
  return Array.isArray(side) ? side : [side as ColumnBinding];
}

/** Adds a link-table row; adding a link that exists already changes nothing. */
export function compileLinkInsert(dialect: Dialect, table: string, from: LinkSide, to: LinkSide): Fragment {
  const all = [...sideColumns(from), ...sideColumns(to)];
  return sql`INSERT INTO ${id(table)} (${join(all.map((c) => id(c.column)), ', ')}) VALUES (${join(all.map((c) => bindValue(dialect, c.value, c.type)), ', ')}) ON CONFLICT DO NOTHING`;
}

export function compileLinkDelete(dialect: Dialect, table: string, from: LinkSide, to?: LinkSide): Fragment {
  const all = [...sideColumns(from), ...(to ? sideColumns(to) : [])];
  return sql`DELETE FROM ${id(table)} WHERE ${join(all.map((c) => sql`${id(c.column)} = ${bindValue(dialect, c.value, c.type)}`), ' AND ')}`;
}

/** The sum of `sumColumn` over the rows of `table` whose `column` equals `value` (0 when none). */
export function compileSum(dialect: Dialect, table: string, sumColumn: string, column: KeyBinding, value: BindableValue): Fragment {
  return sql`SELECT COALESCE(${dialect.decimal.sum(id(sumColumn))}, 0) AS "total" FROM ${id(table)} WHERE ${id(column.column)} = ${bindValue(dialect, value, column.type)}`;
}
