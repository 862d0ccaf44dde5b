/**
 * Opens a Knex instance for the configured database: SQLite (better-sqlite3, the embedded default)
 * or PostgreSQL (pg). Driver settings that make both engines return the same JS values live here.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  readonly knex: Knex;
  readonly engine: Engine;
}

export function engineOf(url: string): Engine {
  return /^postgres(ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
}

// Dates (1082) stay 'YYYY-MM-DD' strings, int8 (20) and numeric (1700) stay strings and are converted by the serializer.
pg.types.setTypeParser(1082, (v: string) => v);

export function openDatabase(url: string, options: { pool?: number } = {}): Database {
  const engine = engineOf(url);
  if (engine === 'postgres') {
    const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: options.pool ?? 10 } });
    return { knex, engine };
  }
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    pool: {
      min: 1, max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        cachePreparedStatements(conn);
        registerUnicodeCaseFunctions(conn);
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
  return { knex, engine };
}

interface SqliteConnection {
  pragma(s: string): unknown;
  prepare(sqlText: string): unknown;
  function(name: string, options: { deterministic: boolean }, fn: (value: unknown) => unknown): unknown;
}

/** SQLite's upper()/lower() change ASCII letters only; tolower/toupper must handle 'é' too. */
export const SQLITE_UNICODE_UPPER = 'odata_upper';
export const SQLITE_UNICODE_LOWER = 'odata_lower';

function registerUnicodeCaseFunctions(conn: SqliteConnection): void {
  const text = (f: (s: string) => string) => (value: unknown) => (value === null || value === undefined ? null : f(String(value)));
  conn.function(SQLITE_UNICODE_UPPER, { deterministic: true }, text((s) => s.toUpperCase()));
  conn.function(SQLITE_UNICODE_LOWER, { deterministic: true }, text((s) => s.toLowerCase()));
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Knex prepares every statement anew; SQL text is a function of the query's shape (values are
 * bindings), so statements are cached per connection by text. The oldest entry goes when the cache
 * is full (a hit costs one lookup; a hot statement evicted by 500 new shapes is prepared once more).
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sqlText: string) => {
    let statement = cache.get(sqlText);
    if (statement === undefined) {
      statement = prepare(sqlText);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sqlText, statement);
    }
    return statement;
  };
}
