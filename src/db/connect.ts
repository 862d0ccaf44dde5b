/**
 * Opens a Knex instance for the configured database: SQLite (better-sqlite3, the embedded default)
 * or PostgreSQL (pg). Driver settings that make both engines return the same JS values live here.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { configureSqliteConnection, type SqliteConnection } from './sqlite-connection';
import { INLINE_ALWAYS_MS, ReadPool } from './read-pool';
import { endSnapshotOn, type SnapshotConnection } from './read-snapshot';
import { DEFAULT_STATEMENTS_PER_CONNECTION, emptyStatementCounts, registerPgConnection, StatementRegistry, type PgConnection, type StatementCounts } from './prepared-statements';
import { readInt64Exactly } from './sqlite-int64';

export { SQLITE_UNICODE_LOWER, SQLITE_UNICODE_UPPER } from './sqlite-connection';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  readonly knex: Knex;
  readonly engine: Engine;
  /** SQLite: the processes that run reads outside transactions (absent: every statement runs on `knex`'s connection). */
  readonly reads?: ReadPool;
  /** prepared statements over the service's connections (the read processes keep their own) */
  readonly statements: StatementCounts;
}

export interface DatabaseOptions {
  readonly pool?: number;
  /** Longest a statement may run (0: no limit): PostgreSQL's statement_timeout; on SQLite, reads on `reads`. */
  readonly statementTimeoutMs?: number;
  /** SQLite: processes in the read pool (0: none). */
  readonly readProcesses?: number;
  /** SQLite: a read measured at most this many ms runs inline even while the read processes are busy (default INLINE_ALWAYS_MS) */
  readonly inlineAlwaysMs?: number;
  /** Prepared statements kept per connection (least recently used dropped first). */
  readonly statementsPerConnection?: number;
}

export function engineOf(url: string): Engine {
  return /^postgres(ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
}

// Dates (1082) stay 'YYYY-MM-DD' strings, int8 (20) and numeric (1700) stay strings and are converted by the serializer.
pg.types.setTypeParser(1082, (v: string) => v);

const TIMESTAMPTZ = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => unknown;
/** PostgreSQL's text of a UTC timestamptz with at most milliseconds (the service's sessions run in UTC). */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?\+00$/;

/**
 * timestamptz as the ISO 8601 UTC text the service answers with (`2026-12-04T21:58:44.450Z`), written
 * straight from PostgreSQL's text: through a Date and back (pg's default) was ~9 % of a page's CPU.
 * Any other text (another session time zone, finer precision, a year past 9999, infinity) goes the
 * default way; the dialect formats the Date it gives.
 */
export function timestamptzText(text: string): unknown {
  const m = UTC_TIMESTAMP.exec(text);
  if (m === null) return parseTimestamptz(text);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0')}Z`;
}
pg.types.setTypeParser(TIMESTAMPTZ, timestamptzText);

export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  const engine = engineOf(url);
  const statementTimeoutMs = options.statementTimeoutMs ?? 0;
  const statementLimit = options.statementsPerConnection ?? DEFAULT_STATEMENTS_PER_CONNECTION;
  if (!(Number.isInteger(statementLimit) && statementLimit >= 1)) throw new Error(`statements per connection must be a whole number >= 1, got ${statementLimit}`);
  const statements = emptyStatementCounts();
  if (engine === 'postgres') {
    const connection = statementTimeoutMs > 0 ? { connectionString: url, statement_timeout: statementTimeoutMs } : url;
    const knex = knexFactory({
      client: 'pg', connection,
      pool: {
        min: 0, max: options.pool ?? 10,
        afterCreate(conn: PgConnection, done: (err: Error | null, conn: unknown) => void) {
          registerPgConnection(conn, statementLimit, statements);
          // timestamps come back as UTC text (timestamptzText); functions name their zone anyway
          conn.query({ text: "SET TIME ZONE 'UTC'" }).then(() => done(null, conn), (err: Error) => done(err, conn));
        },
      },
    });
    return { knex, engine, statements };
  }
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  let serviceConnection: SnapshotConnection | undefined;
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    pool: {
      min: 1, max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        serviceConnection = conn as unknown as SnapshotConnection;
        cachePreparedStatements(conn, statementLimit, statements);
        conn.pragma('journal_mode = WAL');
        configureSqliteConnection(conn);
        // A statement that fires a trigger (the visible-row counts, db/sqlite-visible-counts.ts) or may
        // abort midway keeps a statement journal; in a temporary file that cost ~30 us per INSERT (a
        // 1000-part change set 74 → 163-206 ms). In memory it is a few pages per statement. This
        // connection's reads are the ones measured cheap (db/read-pool.ts): the large sorts, which
        // would also spill to memory, run in the read processes, which keep temporary files.
        conn.pragma('temp_store = MEMORY');
        done(null, conn);
      },
    },
  });
  // Whoever takes the connection through the pool (a write's transaction, Knex's queries) first ends a
  // batch's read transaction left open on it (db/read-snapshot.ts).
  const client = knex.client as { acquireConnection(): Promise<unknown> };
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = () => {
    if (serviceConnection !== undefined) endSnapshotOn(serviceConnection);
    return acquire();
  };
  // ":memory:" is private to its connection: another process cannot read it, so it keeps every statement.
  const processes = file === ':memory:' ? 0 : (options.readProcesses ?? 0);
  const reads = processes > 0 ? new ReadPool({ file, processes, statementTimeoutMs, inlineAlwaysMs: options.inlineAlwaysMs ?? INLINE_ALWAYS_MS }) : undefined;
  return { knex, engine, reads, statements };
}

/**
 * Knex prepares every statement anew; SQL text is a function of the query's shape (values are
 * bindings), so statements are kept per connection by text (db/prepared-statements.ts).
 */
function cachePreparedStatements(conn: SqliteConnection, limit: number, counts: StatementCounts): void {
  const prepare = conn.prepare.bind(conn);
  const registry = new StatementRegistry<ReturnType<SqliteConnection['prepare']>>(limit, counts);
  conn.prepare = (sqlText: string) => registry.lookup(sqlText, () => readInt64Exactly(prepare(sqlText)));
}
