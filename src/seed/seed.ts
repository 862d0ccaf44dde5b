/** Loads the generated demo data into a migrated database fast (raw better-sqlite3 prepared statements / chunked PostgreSQL inserts), one transaction per table. */
import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Database } from '../db/connect';
import { describeExpectedSchema, type TableSpec } from '../db/schema';
import type { EdmModel } from '../edm/model';
import { hasDynamicMembership, tableOf } from '../edm/storage';
import { dialectOf } from '../sql/dialect/dialect-of';
import { recomputeAllDynamicGroups } from '../write/dynamic-groups';
import { UNRESTRICTED_ACCESS } from '../auth/access';
import type { SeedRow, SeedTable, SeedUpdate, SeedValue } from './dataset';
import { generateDataset } from './generate';
import { canonicalDecimal } from '../decimal';

export interface SeedProgress {
  /** The table being written. */
  readonly table: string;
  /** Rows written so far, over all tables. */
  readonly done: number;
  readonly total: number;
}

export interface SeedDatabaseOptions {
  readonly contacts: number;
  readonly seed?: number;
  readonly onProgress?: (progress: SeedProgress) => void;
}

export interface SeedResult {
  /** Rows inserted per table. */
  readonly rows: Readonly<Record<string, number>>;
  readonly total: number;
}

/** SQLite's default limit on bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
const SQLITE_MAX_PARAMS = 32766;
const SQLITE_ROWS_PER_STATEMENT = 50;
/** PostgreSQL's wire protocol caps parameters per statement at 65535. */
const PG_MAX_PARAMS = 65535;
/** Rows per transaction step between progress reports on SQLite. */
const SQLITE_CHUNK = 20_000;

type Value = string | number | null;

export async function seedDatabase(db: Database, model: EdmModel, options: SeedDatabaseOptions): Promise<SeedResult> {
  const dataset = generateDataset({ contacts: options.contacts, seed: options.seed });
  const specs = describeExpectedSchema(model);
  const total = dataset.tables.reduce((n, t) => n + t.rows.length, 0) + dataset.updates.reduce((n, u) => n + u.rows.length, 0);
  let done = 0;
  const progress = (table: string, rows: number): void => {
    done += rows;
    options.onProgress?.({ table, done, total });
  };
  const writer = db.engine === 'sqlite' ? await sqliteWriter(db.knex) : postgresWriter(db.knex);
  const rows: Record<string, number> = {};
  try {
    for (const table of dataset.tables) {
      const spec = tableSpec(specs, table.table);
      const columns = seedColumns(spec, table);
      await writer.insert(spec, columns, table.rows, (n) => progress(spec.name, n));
      rows[spec.name] = table.rows.length;
    }
    for (const update of dataset.updates) {
      const spec = tableSpec(specs, update.table);
      await writer.update(spec, update);
      progress(spec.name, update.rows.length);
    }
    await writer.analyze();
  } finally {
    writer.release();
  }
  // Not analysed afterwards on purpose: with one dynamic group, SQLite's statistics say a lookup by
  // group returns every row, and it would then scan the matches for every static group's `any`.
  if (hasDynamicMembership(model)) {
    await recomputeAllDynamicGroups({ knex: db.knex, dialect: dialectOf(db.engine), access: UNRESTRICTED_ACCESS }, model);
  }
  return { rows, total: Object.values(rows).reduce((a, b) => a + b, 0) };
}

/** Seeds the demo data set when the Contacts table is empty; returns whether it did. */
export async function ensureDemoData(db: Database, model: EdmModel, contacts: number): Promise<boolean> {
  const set = model.entitySets.get('Contacts');
  if (!set) throw new Error('the model has no Contacts entity set; demo data needs the CRM model');
  const existing = await db.knex(tableOf(set)).select(set.entityType.key[0]).limit(1);
  if (existing.length > 0) return false;
  await seedDatabase(db, model, { contacts });
  return true;
}

function tableSpec(specs: ReadonlyMap<string, TableSpec>, table: string): TableSpec {
  const spec = specs.get(table);
  if (!spec) throw new Error(`the model has no table ${table}; the demo data needs the CRM model`);
  return spec;
}

/** The generated columns, checked against the model so a renamed property fails loudly here. */
function seedColumns(spec: TableSpec, table: SeedTable): string[] {
  const columns = table.rows.length > 0 ? Object.keys(table.rows[0]) : [];
  const known = new Set(spec.columns.map((c) => c.name));
  for (const c of columns) if (!known.has(c)) throw new Error(`demo data column ${spec.name}.${c} is not in the model`);
  for (const c of spec.columns) {
    if (!c.nullable && c.defaultValue === undefined && table.rows.length > 0 && !columns.includes(c.name)) {
      throw new Error(`demo data for ${spec.name} lacks required column ${c.name}`);
    }
  }
  return columns;
}

interface Writer {
  insert(spec: TableSpec, columns: readonly string[], rows: readonly SeedRow[], progress: (rows: number) => void): Promise<void>;
  update(spec: TableSpec, update: SeedUpdate): Promise<void>;
  analyze(): Promise<void>;
  release(): void;
}

/** SQLite has no boolean type: store 0/1, as knex does. */
function sqliteValue(value: SeedValue | undefined): Value {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** Decimal columns hold canonical decimal text on SQLite (a bound JS number would be stored as REAL text such as '5.0'). */
function sqliteDecimalValue(value: SeedValue | undefined): Value {
  return typeof value === 'number' || typeof value === 'string' ? canonicalDecimal(value) : sqliteValue(value);
}

/** Per column, how a seed value is bound on SQLite. */
function sqliteConverters(spec: TableSpec, columns: readonly string[]): ((value: SeedValue | undefined) => Value)[] {
  const decimals = new Set(spec.columns.filter((c) => c.kind === 'Edm.Decimal').map((c) => c.name));
  return columns.map((c) => (decimals.has(c) ? sqliteDecimalValue : sqliteValue));
}

function isBetterSqlite(conn: unknown): conn is BetterSqlite3.Database {
  return typeof conn === 'object' && conn !== null && typeof (conn as { prepare?: unknown }).prepare === 'function'
    && typeof (conn as { exec?: unknown }).exec === 'function';
}

/** An identifier quoted by knex (names come from the model; values are always bound). */
function quote(knex: Knex, name: string): string {
  return knex.raw('??', [name]).toQuery();
}

/** `insert into "T" ("a", "b") values (?, ?), (?, ?)`: columns in the given order, rowCount rows. */
function insertSql(knex: Knex, table: string, columns: readonly string[], rowCount: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return `insert into ${quote(knex, table)} (${columns.map((c) => quote(knex, c)).join(', ')}) values ${Array(rowCount).fill(tuple).join(', ')}`;
}

async function sqliteWriter(knex: Knex): Promise<Writer> {
  const acquired: unknown = await knex.client.acquireConnection();
  if (!isBetterSqlite(acquired)) {
    knex.client.releaseConnection(acquired);
    throw new Error('expected a better-sqlite3 connection');
  }
  const conn = acquired;
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    async insert(spec, columns, rows, progress) {
      if (rows.length === 0) return;
      const perStatement = Math.max(1, Math.min(SQLITE_ROWS_PER_STATEMENT, Math.floor(SQLITE_MAX_PARAMS / columns.length)));
      const many = conn.prepare(insertSql(knex, spec.name, columns, perStatement));
      const one = conn.prepare(insertSql(knex, spec.name, columns, 1));
      const params: Value[] = new Array<Value>(perStatement * columns.length);
      const convert = sqliteConverters(spec, columns);
      conn.exec('BEGIN');
      try {
        for (let start = 0; start < rows.length; start += SQLITE_CHUNK) {
          const end = Math.min(rows.length, start + SQLITE_CHUNK);
          let i = start;
          for (; i + perStatement <= end; i += perStatement) {
            let p = 0;
            for (let r = i; r < i + perStatement; r++) for (let c = 0; c < columns.length; c++) params[p++] = convert[c](rows[r][columns[c]]);
            many.run(params);
          }
          for (; i < end; i++) one.run(columns.map((c, k) => convert[k](rows[i][c])));
          progress(end - start);
          await nextTurn(); // lets a progress bar redraw; the connection stays ours
        }
        conn.exec('COMMIT');
      } catch (err) {
        if (conn.inTransaction) conn.exec('ROLLBACK');
        throw err;
      }
    },
    async update(spec, update) {
      if (update.rows.length === 0) return;
      const columns = Object.keys(update.rows[0]).filter((c) => c !== update.key);
      const assignments = columns.map((c) => `${quote(knex, c)} = ?`).join(', ');
      const stmt = conn.prepare(`update ${quote(knex, spec.name)} set ${assignments} where ${quote(knex, update.key)} = ?`);
      const convert = sqliteConverters(spec, columns);
      conn.transaction(() => {
        for (const row of update.rows) stmt.run([...columns.map((c, k) => convert[k](row[c])), sqliteValue(row[update.key])]);
      })();
    },
    async analyze() {
      conn.exec('ANALYZE');
    },
    release() {
      knex.client.releaseConnection(conn);
    },
  };
}

function postgresWriter(knex: Knex): Writer {
  return {
    async insert(spec, columns, rows, progress) {
      if (rows.length === 0) return;
      const chunk = Math.max(1, Math.min(5000, Math.floor(PG_MAX_PARAMS / columns.length)));
      await knex.transaction(async (trx) => {
        for (let start = 0; start < rows.length; start += chunk) {
          const slice = rows.slice(start, start + chunk);
          await trx(spec.name).insert(slice);
          progress(slice.length);
        }
      });
    },
    async update(spec, update) {
      await knex.transaction(async (trx) => {
        for (const row of update.rows) {
          const values = Object.fromEntries(Object.entries(row).filter(([c]) => c !== update.key));
          await trx(spec.name).where(update.key, row[update.key]).update(values);
        }
      });
    },
    async analyze() {
      // VACUUM as well: a bulk-loaded table has no visibility map yet, so an index-only scan reads the heap
      // for every entry (a page 5 000 contacts deep: 5 203 heap fetches, 18 ms → 4-6 ms after it)
      await knex.raw('VACUUM (ANALYZE)');
    },
    release() {
      // knex manages PostgreSQL connections per query.
    },
  };
}
