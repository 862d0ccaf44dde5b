/**
 * What every SQLite connection needs, the service's own (db/connect.ts) and each read process's
 * (db/read-process.ts): the SQL functions the compiler calls, and the connection settings. Kept apart
 * from connect.ts so a read process starts without loading knex and pg.
 */
import { DIVISION_BY_ZERO } from '../decimal';
import { registerDecimalFunctions, type SqliteFunctionHost } from './sqlite-decimal';

/** Register new SQL functions here: read processes then have them too. */
export function configureSqliteConnection(conn: SqliteConnection): void {
  registerUnicodeCaseFunctions(conn);
  registerDecimalFunctions(conn);
  registerDivisorCheck(conn);
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
}

export interface SqliteConnection extends SqliteFunctionHost {
  pragma(s: string): unknown;
  prepare(sqlText: string): unknown;
}

/** SQLite's upper()/lower() change ASCII letters only; tolower/toupper must handle 'é' too. */
export const SQLITE_UNICODE_UPPER = 'odata_upper';
export const SQLITE_UNICODE_LOWER = 'odata_lower';

function registerUnicodeCaseFunctions(conn: SqliteConnection): void {
  const text = (f: (s: string) => string) => (value: unknown) => (value === null || value === undefined ? null : f(String(value)));
  conn.function(SQLITE_UNICODE_UPPER, { deterministic: true }, text((s) => s.toUpperCase()));
  conn.function(SQLITE_UNICODE_LOWER, { deterministic: true }, text((s) => s.toLowerCase()));
}

/** SQLite answers null for `x / 0` and `x % 0`; OData (and PostgreSQL) make it an error (URL Conventions §5.1.1.2.4). */
export const SQLITE_DIVISION_BY_ZERO = 'odata_division_by_zero';

function registerDivisorCheck(conn: SqliteConnection): void {
  conn.function(SQLITE_DIVISION_BY_ZERO, { deterministic: true }, () => {
    throw new RangeError(DIVISION_BY_ZERO);
  });
}
