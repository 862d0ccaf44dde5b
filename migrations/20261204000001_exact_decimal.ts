/**
 * Knex migration: Edm.Decimal columns on SQLite hold canonical decimal text instead of REAL (binary
 * floating point is not exact; see src/decimal.ts). SQLite cannot change a column's type in place,
 * so each table that still has a REAL decimal column is rebuilt (SQLite's documented procedure:
 * foreign keys off, create, copy, drop, rename, indexes, foreign_key_check), its values rounded to
 * the column's scale on the way. Tables created after this change already have text columns and are
 * left alone. PostgreSQL stores numeric: nothing to do there.
 */
import type { Knex } from 'knex';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';
import { describeExpectedSchema, engineOfKnex, sqliteDecimalType, type ColumnSpec } from '../src/db/schema';
import { SQLITE_DECIMAL } from '../src/db/sqlite-decimal';

/** Foreign-key enforcement can only be switched off outside a transaction; the migration opens its own. */
export const config = { transaction: false };

interface ColumnChange {
  readonly name: string;
  readonly declaredType: string;
  /** SQL reading the old column's value as the new column's value */
  readonly convert: string;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  await changeDecimalColumns(knex, model, (declared) => !/text/i.test(declared), (c) => ({
    name: c.name, declaredType: sqliteDecimalType(c), convert: `${SQLITE_DECIMAL.scaled}(${quote(c.name)}, ${c.scale ?? 0})`,
  }));
}

/** Back to REAL columns (as knex's `decimal` creates them on SQLite). */
export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  await changeDecimalColumns(knex, model, (declared) => /text/i.test(declared), (c) => ({
    name: c.name, declaredType: 'float', convert: `CAST(${quote(c.name)} AS REAL)`,
  }));
}

async function changeDecimalColumns(knex: Knex, model: EdmModel, needsChange: (declaredType: string) => boolean, change: (c: ColumnSpec) => ColumnChange): Promise<void> {
  if (engineOfKnex(knex) !== 'sqlite') return;
  const plans: { table: string; changes: ColumnChange[] }[] = [];
  for (const spec of describeExpectedSchema(model).values()) {
    const decimals = spec.columns.filter((c) => c.kind === 'Edm.Decimal');
    if (decimals.length === 0) continue;
    const declared = new Map((await knex.raw(`PRAGMA table_info(${quote(spec.name)})`) as { name: string; type: string }[]).map((r) => [r.name, r.type]));
    const changes = decimals.filter((c) => declared.has(c.name) && needsChange(declared.get(c.name) ?? '')).map(change);
    if (changes.length > 0) plans.push({ table: spec.name, changes });
  }
  if (plans.length === 0) return;
  await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    await knex.raw('BEGIN');
    try {
      for (const plan of plans) await rebuild(knex, plan.table, plan.changes);
      const violations = await knex.raw('PRAGMA foreign_key_check') as unknown[];
      if (violations.length > 0) throw new Error(`exact_decimal: ${violations.length} foreign key violations after the rebuild`);
      await knex.raw('COMMIT');
    } catch (err) {
      await knex.raw('ROLLBACK');
      throw err;
    }
  } finally {
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}

async function rebuild(knex: Knex, table: string, changes: readonly ColumnChange[]): Promise<void> {
  const [definition] = await knex.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]) as { sql: string }[];
  const indexes = await knex.raw("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [table]) as { sql: string }[];
  const columns = (await knex.raw(`PRAGMA table_info(${quote(table)})`) as { name: string }[]).map((r) => r.name);
  const scratch = `${table}__exact_decimal`;
  let createSql = definition.sql.replace(/^CREATE TABLE\s+(?:[`"][^`"]+[`"]|\S+)/i, `CREATE TABLE ${quote(scratch)}`);
  for (const c of changes) {
    // `"Name" <type>` (knex quotes with backticks on SQLite): only the declared type changes.
    const column = new RegExp(`([\`"]${c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\`"]\\s+)[A-Za-z_]+(?:\\s*\\([^)]*\\))?`);
    if (!column.test(createSql)) throw new Error(`exact_decimal: cannot find column ${table}.${c.name} in its definition`);
    createSql = createSql.replace(column, `$1${c.declaredType}`);
  }
  const byName = new Map(changes.map((c) => [c.name, c.convert]));
  const select = columns.map((c) => byName.get(c) ?? quote(c)).join(', ');
  await knex.raw(createSql);
  await knex.raw(`INSERT INTO ${quote(scratch)} (${columns.map(quote).join(', ')}) SELECT ${select} FROM ${quote(table)}`);
  await knex.raw(`DROP TABLE ${quote(table)}`);
  await knex.raw(`ALTER TABLE ${quote(scratch)} RENAME TO ${quote(table)}`);
  for (const index of indexes) await knex.raw(index.sql);
}
