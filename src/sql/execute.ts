/**
 * The only stage that talks to the database: runs a ReadPlan's statements and returns rows as a
 * tree (each row with its expanded children). Driver errors become DbError here and nowhere else.
 */
import type { Knex } from 'knex';
import { DbError, ODataError } from '../errors/odata-error';
import { INLINE_MEASURED_MS, INLINE_READ_MS, StatementTimeoutError, type ReadPool } from '../db/read-pool';
import { statementObserverOf } from '../db/statement-observer';
import { performance } from 'node:perf_hooks';
import { runPg, type PgConnection } from '../db/prepared-statements';
import { readRowObjects, type RawReadableStatement } from '../db/row-objects';
import { holdsSnapshot, readOn, type ReadSnapshot } from '../db/read-snapshot';
import type { ExpandPlan, PathSource, ReadPlan } from '../plan/plan';
import { canonicalDecimal, DIVISION_BY_ZERO } from '../decimal';
import type { RecordAccess } from '../auth/access';
import type { Dialect } from './dialect/dialect';
import { compileExpand, compileExpandCount, compileSum, orderValueField, parentField, PARENT } from './compile-read';
import { countStatement, pageStatement } from './compiled-reads';
import { pathKeys, visibleRows, type SqlTarget } from './compile-expression';
import { equalsKey, inSubquery } from './key-columns';
import { expandShapeOf, type ExpandShape } from './joined-expands';
import { id, raw, sql, type Fragment } from './fragment';

export type Row = Record<string, unknown>;

export interface RowNode {
  readonly row: Row;
  /** navigation name → child rows (collection) or the single child (or null) */
  readonly children: Map<string, RowNode[] | RowNode | null>;
  readonly counts: Map<string, number>;
}

export interface ReadResult {
  readonly nodes: RowNode[];
  readonly count?: number;
  /** present when more rows follow: the last row's order values */
  readonly nextKeyset?: readonly (string | number | boolean | null)[];
  /** rows still allowed by $top after this page */
  readonly remainingTop?: number;
}

export interface Executor {
  readonly knex: Knex | Knex.Transaction;
  readonly dialect: Dialect;
  /** SQLite: where reads outside a transaction run (off the event loop, with the time budget); absent: on `knex`. */
  readonly reads?: ReadPool;
  /** which rows of each table the caller may see: every statement compiled for this executor applies it */
  readonly access: RecordAccess;
  /**
   * SQLite, reads in the pool: the most CPU a statement's last run may have taken for it to run inline
   * (ReadPool.runMeasured); default INLINE_READ_MS, an aggregation's INLINE_MEASURED_MS.
   */
  readonly inlineBudgetMs?: number;
  /** SqlTarget.exactSums: statements compiled for this executor sum decimals exactly only */
  readonly exactSums?: boolean;
  /** SQLite, a `$batch`'s reads: the read transaction they share on the service's connection (db/read-snapshot.ts) */
  readonly readSnapshot?: ReadSnapshot;
}

export async function run(ex: Executor, f: Fragment): Promise<Row[]> {
  try {
    return rowsOf(await timedQuery(ex, f));
  } catch (err) {
    throw translateDbError(err, ex, f.sql);
  }
}

/**
 * A read statement compiled for the executor. Where a native decimal sum in it could not prove itself exact
 * (DecimalDialect.nativeSum), the statement is compiled again with exact sums and run once more.
 */
async function runCompiled(ex: Executor, compile: (target: SqlTarget) => Fragment): Promise<Row[]> {
  const statement = compile(ex);
  try {
    return rowsOf(await timedQuery(ex, statement));
  } catch (err) {
    const exact = ex.exactSums !== true && ex.dialect.decimal.nativeSum?.unproven(err) === true ? compile(Object.assign({}, ex, { exactSums: true })) : undefined;
    if (exact === undefined || exact.sql === statement.sql) throw translateDbError(err, ex, statement.sql);
    return run(ex, exact);
  }
}

function rowsOf(result: unknown): Row[] {
  return Array.isArray(result) ? result as Row[] : (result as { rows: Row[] }).rows;
}

/**
 * A write statement; returns how many rows it changed. Not an async function: a statement that ran at
 * once (SQLite) answers with a settled promise, one promise and no suspension for each of a change
 * set's thousand inserts.
 */
export function runWrite(ex: Executor, f: Fragment): Promise<number> {
  let result: unknown;
  try {
    result = timedQuery(ex, f);
  } catch (err) {
    return Promise.reject(translateDbError(err, ex, f.sql));
  }
  if (result instanceof Promise) return result.then(changesOf, (err: unknown) => { throw translateDbError(err, ex, f.sql); });
  return Promise.resolve(changesOf(result));
}

function changesOf(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const r = result as { changes?: number; rowCount?: number | null };
  return Number(r.changes ?? r.rowCount ?? 0);
}

/**
 * `rawQuery`, its duration told to the database's statement observer (the metrics), if it has one. Like
 * `rawQuery`, a value when the statement ran at once, a promise of it otherwise.
 */
function timedQuery(ex: Executor, f: Fragment): unknown {
  const observe = statementObserverOf(ex.knex);
  if (observe === undefined) return rawQuery(ex, f);
  const started = performance.now();
  const pooled = ex.reads !== undefined && !ex.knex.isTransaction;
  let result: unknown;
  try {
    result = rawQuery(ex, f);
  } catch (err) {
    observe((performance.now() - started) / 1000, pooled);
    throw err;
  }
  if (result instanceof Promise) {
    // observed beside the statement's promise, not in the chain its caller waits on
    const observed = () => observe((performance.now() - started) / 1000, pooled);
    result.then(observed, observed);
  } else observe((performance.now() - started) / 1000, pooled);
  return result;
}

/**
 * One statement. On SQLite the statement runs on the connection Knex holds (pool or transaction)
 * without Knex's per-query machinery, which costs more than the SQLite step of a small statement;
 * our SQL has no `??` identifier placeholders, so Knex would pass it through unchanged anyway.
 * A statement that runs at once gives its result, not a promise of it: a change set's thousand inserts
 * each save the promises of two async functions.
 */
function rawQuery(ex: Executor, f: Fragment): unknown {
  const client = ex.knex.client as KnexClient<SqliteConnection | PgConnection>;
  // Knex's 'query' event still fires (tests count statements with it; loggers listen to it).
  if (client.listenerCount('query') > 0) client.emit('query', { method: 'raw', sql: f.sql, bindings: f.bindings });
  // A transaction holds one connection for its whole life: after its first statement, the rest run
  // on it straight away (a change set of a thousand inserts saves two promise round trips each).
  const held = ex.knex.isTransaction && !(ex.knex as Knex.Transaction).isCompleted() ? transactionConnections.get(ex.knex) : undefined;
  if (ex.dialect.name !== 'sqlite') {
    return held !== undefined ? runPg(held as PgConnection, f.sql, f.bindings) : runOnPg(client as KnexClient<PgConnection>, ex.knex, f);
  }
  if (ex.reads !== undefined && !ex.knex.isTransaction) {
    const sqlite = client as KnexClient<SqliteConnection>;
    const bindings = sqliteBindings(f);
    return ex.reads.runMeasured(f.sql, bindings, ex.inlineBudgetMs ?? INLINE_READ_MS, () => {
      const idle = idleConnection(sqlite, ex.readSnapshot);
      return idle === undefined ? undefined : runStatement(idle, f.sql, bindings) as Row[];
    });
  }
  if (held !== undefined) return runStatement(held as SqliteConnection, f.sql, sqliteBindings(f));
  const sqlite = client as KnexClient<SqliteConnection>;
  // Outside a transaction, with the pool's one connection lying idle, the statement runs on it at once:
  // the statement is synchronous, so nothing can take the connection meanwhile, and acquiring it through
  // the pool costs a promise, a timer and a release (~8 % of a by-key read's CPU).
  const idle = ex.knex.isTransaction ? undefined : idleConnection(sqlite, ex.readSnapshot);
  if (idle !== undefined) return runStatement(idle, f.sql, sqliteBindings(f));
  return runOnAcquired(sqlite, ex.knex, f);
}

async function runOnAcquired(sqlite: KnexClient<SqliteConnection>, knex: Knex | Knex.Transaction, f: Fragment): Promise<unknown> {
  const connection = await sqlite.acquireConnection();
  try {
    if (knex.isTransaction) transactionConnections.set(knex, connection);
    return runStatement(connection, f.sql, sqliteBindings(f));
  } finally {
    await sqlite.releaseConnection(connection);
  }
}

/**
 * PostgreSQL: the statement runs on the connection Knex holds (pool, or the transaction's) as a named
 * prepared statement (db/prepared-statements.ts): parsed once per connection, then only bound.
 */
async function runOnPg(client: KnexClient<PgConnection>, knex: Knex | Knex.Transaction, f: Fragment): Promise<unknown> {
  const connection = await client.acquireConnection();
  try {
    if (knex.isTransaction) transactionConnections.set(knex, connection);
    return await runPg(connection, f.sql, f.bindings);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** the connection each transaction runs on (SQLite or PostgreSQL), known from its first statement */
const transactionConnections = new WeakMap<object, SqliteConnection | PgConnection>();

/** `prepare` answers from the connection's statement cache (db/connect.ts) for a text seen before. */
function runStatement(connection: SqliteConnection, text: string, bindings: readonly unknown[]): unknown {
  const statement = connection.prepare(text);
  return statement.reader ? readRowObjects(statement, bindings) : statement.run(bindings);
}

function sqliteBindings(f: Fragment): unknown[] {
  return f.bindings.map((b) => (typeof b === 'boolean' ? Number(b) : b instanceof Date ? b.valueOf() : b));
}

interface SqliteStatement extends RawReadableStatement {
  readonly reader: boolean;
  run(bindings: readonly unknown[]): { changes: number };
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  /** better-sqlite3: a transaction is open on the connection; the connection is open */
  readonly inTransaction?: boolean;
  readonly open?: boolean;
}

/** The tarn pool knex keeps its connections in; `free` (its idle connections) is only read here. */
interface TarnPool<C> {
  numUsed(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  readonly free?: readonly { readonly resource: C }[];
}

/**
 * SQLite's one pooled connection when nothing holds it, waits for it or is creating it; otherwise undefined.
 * A read transaction a batch left open on it (db/read-snapshot.ts) is kept for that batch's reads
 * (`owner`) and ended for anyone else's statement.
 */
function idleConnection(client: KnexClient<SqliteConnection>, owner?: ReadSnapshot): SqliteConnection | undefined {
  const pool = client.pool;
  if (pool === undefined || pool === null || pool.numUsed() !== 0 || pool.numPendingAcquires() !== 0 || pool.numPendingCreates() !== 0) return undefined;
  const free = pool.free;
  if (free === undefined || free.length !== 1) return undefined;
  const connection = free[0].resource;
  if (connection.open === false || (connection.inTransaction === true && !holdsSnapshot(connection))) return undefined;
  readOn(connection, owner);
  return connection;
}

interface KnexClient<C> {
  emit(event: 'query', data: { method: string; sql: string; bindings: readonly unknown[] }): unknown;
  listenerCount(event: 'query'): number;
  acquireConnection(): Promise<C>;
  releaseConnection(connection: C): Promise<unknown>;
  readonly pool?: TarnPool<C> | null;
}

/**
 * A driver error as an OData error. The database's own text never reaches the client: it stays in
 * the error's cause (with the statement), which the HTTP layer logs under the request id.
 */
export function translateDbError(err: unknown, ex?: Executor, statement?: string): ODataError {
  if (err instanceof ODataError) return err;
  if (err instanceof StatementTimeoutError) return statementTimeout(err.budgetMs);
  const e = err as { code?: string; message?: string };
  // 57014: cancelled; the service cancels PostgreSQL statements only through statement_timeout
  if (e.code === '57014') return statementTimeout(ex === undefined ? undefined : postgresStatementTimeout(ex.knex));
  const message = e.message ?? String(err);
  const logged = { cause: err, statement };
  if (e.code === '23505' || /UNIQUE constraint failed|PRIMARY KEY constraint failed/.test(message)) return new DbError('ALREADY_EXISTS', 'A record with this key already exists', logged);
  if (e.code === '23503' || /FOREIGN KEY constraint failed/.test(message)) return new DbError('CONFLICT', 'The change conflicts with related records (a reference to a record that does not exist)', logged);
  if (e.code === '23502' || /NOT NULL constraint failed/.test(message)) return new DbError('VALIDATION_FAILED', 'A required value is missing', logged);
  if (e.code === '22001' || e.code === '22003') return new DbError('VALIDATION_FAILED', 'A value does not fit its column', logged);
  if (e.code === '40001' || e.code === '40P01') return new DbError('CONFLICT', 'The write collided with a concurrent one; retry it', logged);
  if (e.code === '22012' || message.includes(DIVISION_BY_ZERO)) return new DbError('INVALID_ARGUMENTS', 'Division by zero while evaluating the request (div, divby or mod with a zero right operand)', logged);
  if (e.code === 'SQLITE_BUSY' || /database is locked/.test(message)) return new DbError('SERVICE_UNAVAILABLE', 'The database is busy; retry the request', logged);
  return new DbError('DATABASE_ERROR', 'The database could not run the query', logged);
}

function statementTimeout(budgetMs: number | undefined): ODataError {
  const budget = budgetMs === undefined ? 'its time budget' : `its time budget of ${budgetMs} ms`;
  return new DbError('QUERY_TIMEOUT', `The query ran longer than ${budget} (setting ODATA_STATEMENT_TIMEOUT_MS) and was cancelled; narrow it or ask for less`);
}

function postgresStatementTimeout(knex: Knex | Knex.Transaction): number | undefined {
  const connection = (knex.client as { config?: { connection?: unknown } }).config?.connection;
  const budget = typeof connection === 'object' && connection !== null ? (connection as { statement_timeout?: unknown }).statement_timeout : undefined;
  return typeof budget === 'number' ? budget : undefined;
}

export async function executeRead(ex: Executor, plan: ReadPlan, wantCount: boolean): Promise<ReadResult> {
  const bounds = [plan.pageSize, plan.top].filter((n): n is number => n !== undefined);
  const limit = bounds.length ? Math.min(...bounds) : undefined;
  // one row beyond the page tells whether another page follows; a page that $top ends has no next one
  const fetched = limit === undefined ? undefined : plan.top !== undefined && plan.top <= limit ? limit : limit + 1;
  // an aggregation's statement returns few rows and costs its scan: inline up to a larger measured cost (SQLite)
  const pageEx: Executor = plan.aggregated === true && ex.reads !== undefined ? Object.assign({}, ex, { inlineBudgetMs: INLINE_MEASURED_MS }) : ex;
  const rows = await runCompiled(pageEx, (target) => pageStatement(plan, target, fetched, plan.skip));
  const hasMore = limit !== undefined && rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const remainingTop = plan.top !== undefined ? plan.top - pageRows.length : undefined;
  let nextKeyset: ReadResult['nextKeyset'];
  if (hasMore && (remainingTop === undefined || remainingTop > 0)) {
    const last = pageRows[pageRows.length - 1];
    nextKeyset = plan.orderby.map((_, i) => ex.dialect.keysetValue(last[orderValueField(plan, i)]));
  }
  const shape = expandShapeOf(plan);
  const nodes = shape.joined.length === 0 ? pageRows.map(toNode) : pageRows.map((row) => joinedNode(row, row, shape));
  await expandShaped(ex, shape, nodes);
  let count: number | undefined;
  if (wantCount) count = await executeCount(ex, plan);
  return { nodes, count, nextKeyset, remainingTop };
}

/** The exact sum of a decimal column (of declared Scale `scale`, if any), as canonical decimal text. */
export async function executeSum(ex: Executor, plan: ReadPlan, column: string, scale?: number): Promise<string> {
  const [row] = await runCompiled(ex, (target) => compileSum(plan, target, column, scale));
  return canonicalDecimal(row.total) ?? '0';
}

export async function executeCount(ex: Executor, plan: ReadPlan): Promise<number> {
  const [row] = await runCompiled(ex, (target) => countStatement(plan, target));
  return Number(row.count);
}

/** Whether the entity a navigation path starts from (and its intermediate hops) exists. */
export async function parentExists(ex: Executor, source: PathSource): Promise<boolean> {
  const prefix: PathSource = Object.assign({}, source, { steps: source.steps.slice(0, -1) });
  const lastStep = prefix.steps[prefix.steps.length - 1];
  const table = lastStep ? lastStep.toTable : prefix.table;
  const target: SqlTarget = ex;
  const visible = visibleRows(target, table, 'e');
  // the start entity by every part of its key, or the keys the path reaches before its last hop (every part too)
  const found = lastStep === undefined
    ? equalsKey(ex.dialect, 'e', prefix.key.map((k) => ({ column: k.column, type: k.type })), prefix.key.map((k) => k.value))
    : inSubquery('e', lastStep.toKey, pathKeys(prefix, target));
  const rows = await run(ex, sql`SELECT 1 AS "found" FROM ${id(table)} AS "e" WHERE ${found}${visible ? sql` AND ${visible}` : raw('')} LIMIT 1`);
  return rows.length > 0;
}

function toNode(row: Row): RowNode {
  return { row, children: new Map(), counts: new Map() };
}

/**
 * A row of a statement that joined single-valued expansions (joined-expands.ts): `own` holds the
 * entity's columns; each joined target's are taken out of the statement's `flat` row into a row of
 * its own, or the navigation is null when the joined key is (no target, or one the caller may not read).
 */
function joinedNode(flat: Row, own: Row, shape: ExpandShape): RowNode {
  const node = toNode(own);
  for (const j of shape.joined) {
    const key = flat[j.keyField];
    if (key === null || key === undefined) {
      node.children.set(j.expand.navigation, null);
      continue;
    }
    const row: Row = {};
    for (const f of j.fields) row[f.column] = flat[f.field];
    node.children.set(j.expand.navigation, joinedNode(flat, row, j.shape));
  }
  return node;
}

/** The expansions of `parents` that their statement did not join, at every joined level. */
async function expandShaped(ex: Executor, shape: ExpandShape, parents: readonly RowNode[]): Promise<void> {
  for (const e of shape.separate) await expandOne(ex, e, parents);
  for (const j of shape.joined) {
    if (j.shape.separate.length === 0 && j.shape.joined.length === 0) continue;
    const targets: RowNode[] = [];
    for (const p of parents) {
      const child = p.children.get(j.expand.navigation);
      if (child !== null && child !== undefined && !Array.isArray(child)) targets.push(child);
    }
    await expandShaped(ex, j.shape, targets);
  }
}

async function expandAll(ex: Executor, expands: readonly ExpandPlan[], parents: readonly RowNode[]): Promise<void> {
  for (const e of expands) await expandOne(ex, e, parents);
}

async function expandOne(ex: Executor, e: ExpandPlan, parents: readonly RowNode[]): Promise<void> {
  const cols = e.parentColumns;
  // a parent's value: one column (the common case, kept cheap) or every part of a composite key
  const valueOf = cols.length === 1 ? (row: Row): unknown => row[cols[0]] : (row: Row): unknown => (cols.some((c) => row[c] == null) ? null : JSON.stringify(cols.map((c) => String(row[c]))));
  const fieldsOf = cols.length === 1 ? (row: Row): unknown => row[PARENT] : (row: Row): unknown => JSON.stringify(cols.map((_, i) => String(row[parentField(i)])));
  const key = (v: unknown) => String(v);
  const distinct = new Map<string, readonly unknown[]>();
  for (const p of parents) {
    const v = valueOf(p.row);
    if (v !== null && v !== undefined && !distinct.has(key(v))) distinct.set(key(v), cols.map((c) => p.row[c]));
  }
  const values = [...distinct.values()];
  if (e.countOnly || e.read.count) {
    const counts = new Map<string, number>();
    if (values.length) for (const r of await run(ex, compileExpandCount(e, values, ex))) counts.set(key(fieldsOf(r)), Number(r.count));
    for (const p of parents) p.counts.set(e.navigation, counts.get(key(valueOf(p.row))) ?? 0);
    if (e.countOnly) return;
  }
  const byParent = new Map<string, RowNode[]>();
  const children: RowNode[] = [];
  if (values.length) {
    for (const r of await run(ex, compileExpand(e, values, ex))) {
      const node = toNode(r);
      children.push(node);
      const k = key(fieldsOf(r));
      const list = byParent.get(k);
      if (list) list.push(node);
      else byParent.set(k, [node]);
    }
  }
  for (const p of parents) {
    const list = byParent.get(key(valueOf(p.row))) ?? [];
    p.children.set(e.navigation, e.collection ? list : (list[0] ?? null));
  }
  await expandAll(ex, e.read.expand, children);
}
