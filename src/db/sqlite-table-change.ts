/**
 * SQLite's share of the migrator's DDL that its ALTER TABLE does not spell like PostgreSQL's: a
 * column's NOT NULL set or dropped (`set-nullability`).
 *
 * SQLite ≥ 3.53 changes NOT NULL in place (`ALTER TABLE … ALTER COLUMN … SET NOT NULL`: one scan
 * for a null, then an edit of the stored CREATE TABLE; `DROP NOT NULL`: the edit alone). Older
 * libraries, or a test that asks for it, rebuild the table as https://www.sqlite.org/lang_altertable.html
 * ("Making Other Kinds Of Table Schema Changes") describes: a new table from the old one's CREATE
 * TABLE with the column's definition changed, the rows copied, the old table dropped, the new one
 * renamed, then its indexes, triggers and the views that name it created again from their stored SQL,
 * and `PRAGMA foreign_key_check` on it — all inside the caller's transaction, so a failure changes
 * nothing. The rebuild needs foreign keys off (dropping a parent table would cascade its implicit
 * DELETE to every referencing row), which SQLite only lets a connection change outside a
 * transaction: it throws ForeignKeysOnError, and `schemaTransaction` runs the work once more with
 * knex's `enforceForeignCheck: false` (foreign keys off around BEGIN … COMMIT, a whole-database
 * `PRAGMA foreign_key_check` before the COMMIT).
 *
 * Declared lengths need nothing: SQLite ignores `varchar(n)` (text columns are declared `text`; the
 * service checks MaxLength), so the migrator's `resize-column` is PostgreSQL's alone.
 */
import type { Knex } from 'knex';

export type SqliteNullabilityMethod = 'in-place' | 'rebuild';

let forcedMethod: SqliteNullabilityMethod | undefined;

/** Test seam: make every SQLite nullability change use `method` (undefined: by library version). */
export function forceSqliteNullabilityMethod(method: SqliteNullabilityMethod | undefined): void {
  forcedMethod = method;
}

/** A table rebuild met a transaction with foreign keys on; `schemaTransaction` runs the work again with them off. */
export class ForeignKeysOnError extends Error {
  constructor(table: string) {
    super(`rebuilding ${table} needs foreign keys off (SQLite changes them outside a transaction only)`);
    this.name = 'ForeignKeysOnError';
  }
}

/**
 * Runs a schema change's transaction; on SQLite, when a step had to rebuild a table with foreign
 * keys on, the whole work is run again (the first attempt rolled back) with foreign keys off.
 */
export async function schemaTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  try {
    return await knex.transaction(work);
  } catch (err) {
    if (!(err instanceof ForeignKeysOnError)) throw err;
  }
  try {
    return await knex.transaction(work, { enforceForeignCheck: false });
  } finally {
    // knex puts the pragma back without waiting for it; the next statement must not run without foreign keys
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}

async function libraryChangesNotNullInPlace(trx: Knex.Transaction): Promise<boolean> {
  const [row] = await trx.raw('SELECT sqlite_version() AS v') as { v: string }[];
  const [major, minor] = row.v.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 53);
}

/** Makes `table.column` required (its rows hold no null: the planner counted them) or nullable. */
export async function setSqliteNullability(trx: Knex.Transaction, table: string, column: string, nullable: boolean): Promise<void> {
  const method = forcedMethod ?? (await libraryChangesNotNullInPlace(trx) ? 'in-place' : 'rebuild');
  if (method === 'in-place') {
    await trx.raw(`ALTER TABLE ?? ALTER COLUMN ?? ${nullable ? 'DROP NOT NULL' : 'SET NOT NULL'}`, [table, column]);
    return;
  }
  await rebuildSqliteTable(trx, table, (sql) => withNullability(sql, column, nullable));
}

interface SchemaRow {
  readonly type: string;
  readonly name: string;
  readonly tableName: string;
  readonly sql: string;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Whether `sql` names `table` as an identifier (bare or quoted), ignoring case. */
function mentions(sql: string, table: string): boolean {
  const escaped = table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_$])["\`[]?${escaped}["\`\\]]?(?![A-Za-z0-9_$])`, 'i').test(sql);
}

/**
 * The documented rebuild of `table` with `edit` applied to its CREATE TABLE text, inside the
 * caller's transaction (which must have foreign keys off).
 */
export async function rebuildSqliteTable(trx: Knex.Transaction, table: string, edit: (createSql: string) => string): Promise<void> {
  const [fk] = await trx.raw('PRAGMA foreign_keys') as { foreign_keys: number }[];
  if (fk.foreign_keys) throw new ForeignKeysOnError(table);
  const schema = await trx.raw('SELECT type, name, tbl_name AS tableName, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid') as SchemaRow[];
  const own = schema.find((r) => r.type === 'table' && r.name.toLowerCase() === table.toLowerCase());
  if (!own) throw new Error(`no table ${table}`);
  const temporary = `${own.name}__rebuild`;
  if (schema.some((r) => r.name.toLowerCase() === temporary.toLowerCase())) throw new Error(`${temporary} exists (left by an earlier rebuild?)`);
  // indexes and triggers go with the table; views that name it are dropped and made again from their SQL
  const attached = schema.filter((r) => (r.type === 'index' || r.type === 'trigger') && r.tableName.toLowerCase() === own.name.toLowerCase());
  const views = schema.filter((r) => r.type === 'view' && mentions(r.sql, own.name));
  for (const view of views) await trx.raw(`DROP VIEW ${quote(view.name)}`);
  await trx.raw(renamedCreate(edit(own.sql), temporary));
  const columns = (await trx.raw(`PRAGMA table_info(${quote(own.name)})`) as { name: string }[]).map((c) => quote(c.name)).join(', ');
  await trx.raw(`INSERT INTO ${quote(temporary)} (${columns}) SELECT ${columns} FROM ${quote(own.name)}`);
  await trx.raw(`DROP TABLE ${quote(own.name)}`);
  // legacy mode: the rename must not re-check other tables' triggers, which name the table just dropped
  const [legacy] = await trx.raw('PRAGMA legacy_alter_table') as { legacy_alter_table: number }[];
  await trx.raw('PRAGMA legacy_alter_table = ON');
  try {
    await trx.raw(`ALTER TABLE ${quote(temporary)} RENAME TO ${quote(own.name)}`);
  } finally {
    await trx.raw(`PRAGMA legacy_alter_table = ${legacy.legacy_alter_table ? 'ON' : 'OFF'}`);
  }
  for (const entry of [...attached, ...views]) await trx.raw(entry.sql);
  const violations = await trx.raw(`PRAGMA foreign_key_check(${quote(own.name)})`) as unknown[];
  if (violations.length > 0) throw new Error(`rebuilding ${own.name}: ${violations.length} rows break its foreign keys`);
}

/** A CREATE TABLE statement with its table name replaced. */
function renamedCreate(sql: string, name: string): string {
  const open = sql.indexOf('(');
  if (open < 0 || !/^\s*CREATE\s+TABLE\s/i.test(sql)) throw new Error(`not a CREATE TABLE: ${sql.slice(0, 60)}`);
  return `CREATE TABLE ${quote(name)} ${sql.slice(open)}`;
}

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly depth: number;
}

/** SQL tokens with their parenthesis depth (strings and quoted identifiers whole; whitespace dropped). */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    const close = c === "'" ? "'" : c === '"' ? '"' : c === '`' ? '`' : c === '[' ? ']' : undefined;
    if (close) {
      i++;
      while (i < sql.length && !(sql[i] === close && sql[i + 1] !== close)) i += sql[i] === close ? 2 : 1;
      i++;
    } else if (/[A-Za-z0-9_$.]/.test(c)) {
      while (i < sql.length && /[A-Za-z0-9_$.]/.test(sql[i])) i++;
    } else {
      i++;
    }
    const text = sql.slice(start, i);
    if (text === ')') depth--;
    tokens.push({ text, start, end: i, depth });
    if (text === '(') depth++;
  }
  return tokens;
}

const TABLE_CONSTRAINT = /^(CONSTRAINT|PRIMARY|FOREIGN|UNIQUE|CHECK)$/i;

const unquoted = (token: string) => (/^["`[]/.test(token) ? token.slice(1, -1).replace(/""/g, '"').replace(/``/g, '`') : token);

/**
 * The CREATE TABLE text with `column`'s NULL / NOT NULL constraint replaced by the one asked for
 * (`DEFAULT NULL` is a default, not a constraint, and stays).
 */
export function withNullability(sql: string, column: string, nullable: boolean): string {
  const tokens = tokenize(sql);
  // the column definitions are the comma-separated parts at depth 1
  const parts: Token[][] = [];
  let current: Token[] | undefined;
  for (const t of tokens) {
    if (t.depth === 0 && t.text === '(' && !current) { current = []; continue; }
    if (!current) continue;
    if (t.depth === 0 && t.text === ')') { parts.push(current); break; }
    if (t.depth === 1 && t.text === ',') { parts.push(current); current = []; continue; }
    current.push(t);
  }
  // a table constraint starts with a bare keyword; a column named like one is quoted
  const definition = parts.find((p) => p.length > 0 && !TABLE_CONSTRAINT.test(p[0].text) && unquoted(p[0].text).toLowerCase() === column.toLowerCase());
  if (!definition) throw new Error(`the CREATE TABLE has no column ${column}`);
  const from = definition[0].start;
  const to = definition[definition.length - 1].end;
  let text = '';
  let at = from;
  for (let k = 1; k < definition.length; k++) {
    const t = definition[k];
    const word = t.text.toUpperCase();
    const next = definition[k + 1];
    const notNull = t.depth === 1 && word === 'NOT' && next?.text.toUpperCase() === 'NULL';
    const nullConstraint = t.depth === 1 && word === 'NULL' && definition[k - 1].text.toUpperCase() !== 'DEFAULT';
    if (!notNull && !nullConstraint) continue;
    const last = notNull ? next : t;
    text += sql.slice(at, t.start).replace(/\s+$/, '');
    at = last.end;
    if (notNull) k++;
  }
  text += sql.slice(at, to);
  return `${sql.slice(0, from)}${text}${nullable ? '' : ' NOT NULL'}${sql.slice(to)}`;
}
