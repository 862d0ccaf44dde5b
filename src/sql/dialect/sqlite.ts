/**
 * SQLite (better-sqlite3): date-times are ISO 8601 UTC text of fixed width, booleans 0/1,
 * enums integers, decimals canonical decimal text computed on by the functions of db/sqlite-decimal.ts.
 */
import type { PrimitiveTypeName } from '../../edm/model';
import { SQLITE_UNICODE_LOWER, SQLITE_UNICODE_UPPER } from '../../db/connect';
import { SQLITE_DIVISION_BY_ZERO } from '../../db/sqlite-connection';
import { NATIVE_SUM_UNPROVEN, SQLITE_DECIMAL } from '../../db/sqlite-decimal';
import { canonicalDecimal } from '../../decimal';
import { formatUtc } from '../../uri/temporal';
import { id, join, raw, sql, type Fragment } from '../fragment';
import { VISIBLE_COUNT_TABLES, VISIBLE_COUNTS } from '../../db/sqlite-visible-counts';
import type { Dialect, DecimalDialect, FunctionArgument } from './dialect';

const INTEGER_TYPES: ReadonlySet<PrimitiveTypeName | 'enum'> = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'enum']);
const int = (f: Fragment) => sql`CAST(${f} AS INTEGER)`;
const part = (from: number, length: number) => ([a]: readonly FunctionArgument[]) => int(sql`substr(${a.sql}, ${raw(String(from))}, ${raw(String(length))})`);

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  functions: {
    contains: ([a, b]) => sql`(instr(${a.sql}, ${b.sql}) > 0)`,
    startswith: ([a, b]) => {
      const exact = sql`(substr(${a.sql}, 1, length(${b.sql})) = ${b.sql})`;
      const upper = typeof b.literal === 'string' ? prefixUpperBound(b.literal) : undefined;
      // A literal prefix becomes a range the column's index can serve. Under BINARY collation (UTF-8 bytes
      // order as code points) `p <= a < p'`, p' being p with its last code point one higher, holds for a text
      // exactly when a starts with p, and is null for a null a, as the substr test: no per-row test beside it.
      return upper === undefined ? exact : sql`(${a.sql} >= ${b.literal} AND ${a.sql} < ${upper})`;
    },
    // Not substr(a, -length(b)): with an empty b that is substr(a, 0), and `'' OR …` was true for a null a.
    endswith: ([a, b]) => sql`(length(${a.sql}) >= length(${b.sql}) AND substr(${a.sql}, length(${a.sql}) - length(${b.sql}) + 1) = ${b.sql})`,
    length: ([a]) => sql`length(${a.sql})`,
    indexof: ([a, b]) => sql`(instr(${a.sql}, ${b.sql}) - 1)`,
    substring: ([a, s, l]) => (l ? sql`substr(${a.sql}, ${s.sql} + 1, ${l.sql})` : sql`substr(${a.sql}, ${s.sql} + 1)`),
    tolower: ([a]) => sql`${raw(SQLITE_UNICODE_LOWER)}(${a.sql})`,
    toupper: ([a]) => sql`${raw(SQLITE_UNICODE_UPPER)}(${a.sql})`,
    trim: ([a]) => sql`trim(${a.sql})`,
    concat: ([a, b]) => sql`(${a.sql} || ${b.sql})`,
    year: part(1, 4), month: part(6, 2), day: part(9, 2),
    hour: part(12, 2), minute: part(15, 2), second: part(18, 2),
    fractionalseconds: ([a]) => sql`${raw(SQLITE_DECIMAL.canonical)}('0.' || substr(${a.sql}, 21, 3))`,
    date: ([a]) => sql`substr(${a.sql}, 1, 10)`,
    time: ([a]) => sql`substr(${a.sql}, 12, 12)`,
    totaloffsetminutes: () => raw('0'),
    now: () => raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`),
    mindatetime: () => sql`${'0001-01-01T00:00:00.000Z'}`,
    maxdatetime: () => sql`${'9999-12-31T23:59:59.999Z'}`,
    round: ([a]) => (a.type === 'Edm.Decimal' ? call(SQLITE_DECIMAL.round, a.sql) : sql`round(${a.sql})`),
    floor: ([a]) => (a.type === 'Edm.Decimal' ? call(SQLITE_DECIMAL.floor, a.sql)
      : sql`(CAST(${a.sql} AS INTEGER) - (${a.sql} < CAST(${a.sql} AS INTEGER)))`),
    ceiling: ([a]) => (a.type === 'Edm.Decimal' ? call(SQLITE_DECIMAL.ceiling, a.sql)
      : sql`(CAST(${a.sql} AS INTEGER) + (${a.sql} > CAST(${a.sql} AS INTEGER)))`),
  },
  countVisible(table, rule, scan) {
    const counts = id(VISIBLE_COUNTS);
    const kept = sql`SELECT 1 FROM ${id(VISIBLE_COUNT_TABLES)} WHERE tbl = ${table} AND owner_column = ${rule.ownerColumn} AND private_column = ${rule.privateColumn}`;
    const everyones = sql`SELECT n FROM ${counts} WHERE tbl = ${table} AND shared = 1 AND owner = ''`;
    const own = sql`SELECT n FROM ${counts} WHERE tbl = ${table} AND shared = 0 AND owner = ${rule.userId}`;
    return sql`SELECT CASE WHEN EXISTS (${kept}) THEN COALESCE((${everyones}), 0) + COALESCE((${own}), 0) ELSE (${scan}) END AS "count"`;
  },
  bind(value, type) {
    if (type === 'Edm.Boolean') return sql`${value ? 1 : 0}`;
    // better-sqlite3 binds every JS number as REAL; integer literals must stay integers (`5 div 2` is 2).
    if (INTEGER_TYPES.has(type)) return sql`CAST(${value} AS INTEGER)`;
    if (type === 'Edm.Decimal') return sql`${canonicalDecimal(value)}`;
    return sql`${value}`;
  },
  read(value, type) {
    if (value === null || value === undefined) return null;
    switch (type) {
      case 'Edm.Boolean': return value === 1 || value === true || value === '1';
      case 'Edm.DateTimeOffset': return typeof value === 'string' ? value : value instanceof Date ? formatUtc(value) : String(value);
      case 'Edm.Decimal': return canonicalDecimal(value);
      case 'Edm.Double': case 'Edm.Single': return typeof value === 'string' ? Number(value) : value;
      // the exact digits: a JavaScript number is exact only up to 2^53
      case 'Edm.Int64': return typeof value === 'bigint' ? value.toString() : String(value);
      default: return value;
    }
  },
  divide: (l, r) => sql`(CAST(${l} AS REAL) / ${nonzero(r)})`,
  divisor: (r) => nonzero(r),
  // One connection, and a transaction holds it: writers never interleave.
  lockForUpdate: '',
  // OFFSET 5000 on the LastName order: 20 ms whole rows, 4 ms keys from the covering index then 101 rows
  deepSkipByKey: true,
  keysetValue: (v) => (v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as string | number | boolean)),
  likeInsensitive: (column, pattern) => sql`(${raw(SQLITE_UNICODE_LOWER)}(${column}) LIKE ${raw(SQLITE_UNICODE_LOWER)}(${pattern}) ESCAPE '\\')`,
  arrayElements: (array, alias) => sql`json_each(${array}) AS ${alias}`,
  decimal: sqliteDecimal(),
};

// The divisor keeps its own type (a function's result would turn an integer into REAL); the error only for zero.
const nonzero = (r: Fragment): Fragment => sql`(CASE WHEN ${r} = 0 THEN ${raw(SQLITE_DIVISION_BY_ZERO)}() ELSE ${r} END)`;

function call(fn: string, ...args: Fragment[]): Fragment {
  return sql`${raw(fn)}(${join(args, ', ')})`;
}

/** Decimal text in, decimal text out: exact where SQLite's own arithmetic would use doubles. */
function sqliteDecimal(): DecimalDialect {
  return {
    arithmetic: (op, l, r) => call(SQLITE_DECIMAL[op], l, r),
    negate: (x) => call(SQLITE_DECIMAL.negate, x),
    comparable: (x) => call(SQLITE_DECIMAL.sortKey, x),
    sum: (x) => call(SQLITE_DECIMAL.sum, x),
    min: (x) => call(SQLITE_DECIMAL.min, x),
    max: (x) => call(SQLITE_DECIMAL.max, x),
    nativeSum: {
      sum: nativeScaledSum,
      // SUM over integers raises "integer overflow" rather than lose digits
      unproven: (err) => {
        const message = (err as { message?: unknown } | null)?.message;
        return typeof message === 'string' && (message.includes(NATIVE_SUM_UNPROVEN) || message === 'integer overflow');
      },
    },
  };
}

/**
 * SUM of canonical decimal text with at most `scale` fraction digits, in SQLite's own arithmetic: each value as
 * integer units (`round(x * 10^scale)`, a double) summed as 64-bit integers. A value below 10^(15 - scale) in
 * magnitude has at most 15 significant digits, so the double holds its units within a fraction of one and
 * `round` makes them exact; the group's largest magnitude proves that for every value, or the statement fails
 * (the exact JS aggregate then runs instead: `sum`). Only the few group results pass through JS.
 */
function nativeScaledSum(x: Fragment, scale: number): Fragment | undefined {
  if (!Number.isInteger(scale) || scale < 0 || scale > 15) return undefined;
  const largest = sql`MAX(abs(${x}))`;
  const units = sql`SUM(CAST(round(${x} * ${raw(`1${'0'.repeat(scale)}`)}) AS INTEGER))`;
  return sql`(CASE WHEN ifnull(${largest}, 0) < ${raw(`1e${15 - scale}`)} THEN ${call(SQLITE_DECIMAL.fromUnits, units, raw(String(scale)))} ELSE ${call(SQLITE_DECIMAL.unproven, largest)} END)`;
}

/** The smallest string greater than every string starting with `prefix`, when one is easy to name. */
function prefixUpperBound(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0xd7ff) return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
