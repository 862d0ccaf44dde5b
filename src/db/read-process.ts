/**
 * One read process of the SQLite read pool (db/read-pool.ts): its own connection to the database
 * file, read-only, configured like the service's (same SQL functions), prepared statements cached
 * by SQL text. Answers each request with the rows or SQLite's error.
 *
 * Rows leave as arrays in the statement's column order, the column names once per answer, and as
 * JSON text when every value is a string, a finite number or null (nearly always): a string crosses
 * the process boundary as one copy, and JSON.parse plus building the objects from the names costs
 * the service about half of decoding structured-cloned objects (bench/README.md, "The read-process hop").
 */
import Database from 'better-sqlite3';
import { configureSqliteConnection } from './sqlite-connection';
import { readInt64Exactly } from './sqlite-int64';
import { cpuMsSince, type ReadReply, type ReadRequest } from './read-pool';

const STATEMENT_CACHE_SIZE = 500;
/**
 * A process that has answered nothing for this long gives back what its last reads left behind:
 * SQLite's page cache (PRAGMA shrink_memory) and, through a full collection, the V8 pages its rows
 * took. After the benchmark's read scenarios the two processes held 43-56 MB of private memory while
 * the service then ran ten concurrent 1000-part change sets beside them; 38-41 MB with this (four runs each).
 */
const IDLE_RELEASE_MS = 1000;

interface RawStatement {
  readonly columns: readonly string[];
  /** a column name that would not survive as a plain property (`__proto__`): answer with cloned rows */
  readonly cloneOnly: boolean;
  all(bindings: readonly unknown[]): unknown[][];
}

function main(file: string): void {
  const db = new Database(file);
  configureSqliteConnection(db);
  db.pragma('query_only = ON');
  const statements = new Map<string, RawStatement>();
  const prepared = (sqlText: string): RawStatement => {
    let statement = statements.get(sqlText);
    if (statement === undefined) {
      statement = rawStatement(db.prepare(sqlText));
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      statements.set(sqlText, statement);
    }
    return statement;
  };
  const reply = (message: ReadReply) => process.send?.(message);
  const release = whenIdle(IDLE_RELEASE_MS, () => {
    db.pragma('shrink_memory');
    collectGarbage();
  });
  process.on('message', (request: ReadRequest) => {
    release.busy();
    try {
      const statement = prepared(request.sql);
      const started = process.cpuUsage();
      const values = statement.all(request.bindings);
      // the CPU the statement itself took here (the pool's measured-inline rule reads it)
      const cpuMs = cpuMsSince(started);
      const { id } = request;
      const { columns } = statement;
      reply(!statement.cloneOnly && jsonSafe(values) ? { kind: 'json', id, columns, text: JSON.stringify(values), cpuMs } : { kind: 'arrays', id, columns, values, cpuMs });
    } catch (err) {
      const e = err as { message?: string; code?: string };
      reply({ kind: 'error', id: request.id, message: e.message ?? String(err), code: e.code });
    }
  });
  // the service went away (even killed): nothing is left to answer
  process.on('disconnect', () => process.exit(0));
  reply({ kind: 'ready' });
}

/** Runs `release` once the process has been idle for `ms` after being busy (per request a timer is re-armed, not made). */
function whenIdle(ms: number, release: () => void): { busy(): void } {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    timer = undefined;
    release();
  };
  return { busy: () => void (timer ? timer.refresh() : (timer = setTimeout(fire, ms).unref())) };
}

/** A full collection, where the process was started with --expose-gc (read-pool.ts starts it so). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}

function rawStatement(statement: Database.Statement): RawStatement {
  // a statement that returns no rows (none are sent here) cannot be put in raw mode
  if (!statement.reader) return { columns: [], cloneOnly: false, all: (bindings) => (statement.run(bindings), []) };
  statement.raw(true);
  const columns = statement.columns().map((c) => c.name);
  const exact = readInt64Exactly(statement);
  return { columns, cloneOnly: columns.includes('__proto__'), all: (bindings) => exact.all(bindings) as unknown[][] };
}

/** Every value comes back from JSON text as it was (no Buffer, no NaN or Infinity). */
function jsonSafe(rows: readonly unknown[][]): boolean {
  for (const row of rows) {
    for (const v of row) {
      if (v === null || typeof v === 'string') continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    }
  }
  return true;
}

main(process.argv[2]);
