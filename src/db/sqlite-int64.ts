/**
 * Exact Edm.Int64 reads on SQLite. better-sqlite3 returns an INTEGER as a JavaScript number, which
 * rounds values beyond 2^53; with `safeIntegers` it returns BigInts, but for every integer column,
 * and the rest of the service expects numbers (booleans, enums, Int32, counts). So only a statement
 * that reads a column declared `bigint` (how Edm.Int64 columns are created) turns safe integers on,
 * and its rows carry those columns as exact decimal text (as PostgreSQL's driver gives int8) and every
 * other integer as a number again. Statements without such a column are left exactly as they were.
 */
interface ColumnInfo {
  readonly name: string;
  readonly type: string | null;
}

export interface SqliteReadStatement {
  readonly reader: boolean;
  columns(): ColumnInfo[];
  safeIntegers(toggle?: boolean): unknown;
  all(...params: unknown[]): unknown[];
}

const INT64_DECLARATION = /^(?:bigint|int8)\b/i;

/**
 * Makes `statement` (just prepared) read Int64 columns exactly; returns it. Rows as objects (Int64
 * columns found by name) or, in raw mode, as arrays (by position): the service reads its own statements
 * raw (db/row-objects.ts) while Knex's queries on the same connection read objects.
 */
export function readInt64Exactly<S>(statement: S): S {
  const s = statement as unknown as SqliteReadStatement;
  if (!s.reader) return statement;
  const names = new Set<string>();
  const positions = new Set<number>();
  s.columns().forEach((c, i) => {
    if (c.type !== null && INT64_DECLARATION.test(c.type)) {
      names.add(c.name);
      positions.add(i);
    }
  });
  if (names.size === 0) return statement;
  s.safeIntegers(true);
  const all = s.all.bind(s);
  s.all = (...params: unknown[]) => all(...params).map((row) => (Array.isArray(row) ? withNumbersAt(row, positions) : withNumbers(row as Record<string, unknown>, names)));
  return statement;
}

function withNumbersAt(row: unknown[], exact: ReadonlySet<number>): unknown[] {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v === 'bigint') row[i] = exact.has(i) ? v.toString() : Number(v);
  }
  return row;
}

function withNumbers(row: Record<string, unknown>, exact: ReadonlySet<string>): Record<string, unknown> {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = exact.has(key) ? v.toString() : Number(v);
  }
  return row;
}
