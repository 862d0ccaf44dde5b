/**
 * Brings a database's tables to the storage description of the model to serve (src/db/schema.ts
 * `describeExpectedSchema`). What the database holds is read from the database itself (tables,
 * columns, index names) and, for what introspection cannot tell reliably across engines (declared
 * types, facets, nullability, what used to belong to the model), from the storage description the
 * database recorded when it last migrated (src/db/model-store.ts).
 *
 * Safe differences become DDL (new tables, link tables, columns, indexes; a new MaxLength or a higher
 * decimal Precision that the stored values fit; empty columns and tables the model dropped; a column
 * the model now names otherwise, `ColumnSpec.renamedFrom`, renamed with its values and indexes). Anything
 * else (a type change, a MaxLength shorter than stored values, a column becoming required while rows
 * hold null in it, a dropped column or table that holds data, a new required column without a default on a table with
 * rows) is a problem: the caller stops and nothing is applied.
 */
import type { Knex } from 'knex';
import type { Engine } from './connect';
import { setSqliteNullability } from './sqlite-table-change';
import { addColumn, addForeignKeys, defineTable, indexColumns, type ColumnSpec, type ForeignKeySpec, type IndexSpec, type TableSpec } from './schema';

export type MigrationStep =
  | { readonly kind: 'create-table'; readonly spec: TableSpec }
  | { readonly kind: 'add-column'; readonly table: string; readonly column: ColumnSpec; readonly foreignKey?: ForeignKeySpec }
  /** a new MaxLength or Precision that every stored value fits */
  | { readonly kind: 'resize-column'; readonly table: string; readonly column: ColumnSpec }
  /** NOT NULL set (no row holds null: the planner counted) or dropped; SQLite: src/db/sqlite-table-change.ts */
  | { readonly kind: 'set-nullability'; readonly table: string; readonly column: string; readonly nullable: boolean }
  | { readonly kind: 'create-index'; readonly table: string; readonly index: IndexSpec }
  | { readonly kind: 'drop-index'; readonly table: string; readonly index: IndexSpec }
  | { readonly kind: 'drop-column'; readonly table: string; readonly column: string }
  /** a column the model now names otherwise (`ColumnSpec.renamedFrom`: a custom field's bare-named column → `cf_<Name>`), values and indexes kept */
  | { readonly kind: 'rename-column'; readonly table: string; readonly from: string; readonly to: string }
  /** an index that follows a renamed column (PostgreSQL renames it; SQLite, which cannot, drops and creates it) */
  | { readonly kind: 'rename-index'; readonly table: string; readonly from: string; readonly index: IndexSpec }
  | { readonly kind: 'drop-table'; readonly table: string };

export interface MigrationPlan {
  readonly steps: readonly MigrationStep[];
  /** Differences that cannot be applied without losing or reinterpreting data; any of them stops the migration. */
  readonly problems: readonly string[];
}

/** Thrown when the model to serve differs from the database in a way the migrator does not apply. */
export class ModelMigrationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super('The database cannot be brought to the model to serve without changing or losing data; nothing was changed:\n'
      + problems.map((p) => `  - ${p}`).join('\n')
      + '\nChange the data or the model (or migrate these by hand), then start again.');
    this.name = 'ModelMigrationError';
  }
}

/**
 * Compares what the database holds with `expected`; reads the database (inside the caller's
 * transaction). `dropsAllowed` names columns (`Table.Column`) and tables (`Table`) whose values may
 * go: a schema change that removes a property or a custom table on purpose.
 */
export async function planMigration(trx: Knex.Transaction, engine: Engine, expected: ReadonlyMap<string, TableSpec>, recorded: ReadonlyMap<string, TableSpec> | undefined, dropsAllowed: ReadonlySet<string> = new Set()): Promise<MigrationPlan> {
  const steps: MigrationStep[] = [];
  const problems: string[] = [];
  for (const spec of expected.values()) {
    // a table described exactly as the database recorded it is taken to be as recorded (no introspection)
    const before = recorded?.get(spec.name);
    if (before && JSON.stringify(before) === JSON.stringify(spec)) continue;
    if (!(await trx.schema.hasTable(spec.name))) {
      steps.push({ kind: 'create-table', spec });
      continue;
    }
    await planTable(trx, engine, spec, before, dropsAllowed, steps, problems);
  }
  // link tables first: they refer to the entity tables (PostgreSQL refuses to drop a referenced table)
  const gone = [...recorded?.values() ?? []].filter((old) => !expected.has(old.name)).sort((a, b) => Number(a.kind === 'entity') - Number(b.kind === 'entity'));
  for (const old of gone) {
    if (!(await trx.schema.hasTable(old.name))) continue;
    const rows = dropsAllowed.has(old.name) ? 0 : await countRows(trx, old.name);
    if (rows > 0) problems.push(`${old.name}: the model no longer has this table, which holds ${rows} rows`);
    else steps.push({ kind: 'drop-table', table: old.name });
  }
  return { steps, problems };
}

async function planTable(trx: Knex.Transaction, engine: Engine, spec: TableSpec, old: TableSpec | undefined, dropsAllowed: ReadonlySet<string>, steps: MigrationStep[], problems: string[]): Promise<void> {
  const table = spec.name;
  const actual = new Set(Object.keys(await trx(table).columnInfo()));
  /** old column name → new, for the columns renamed below */
  const renamed = new Map<string, string>();
  if (old && old.primaryKey.join() !== spec.primaryKey.join()) {
    problems.push(`${table}: key (${old.primaryKey.join(', ')}) → (${spec.primaryKey.join(', ')}) (a key change is not applied automatically)`);
  }
  const renames = plannedRenames(spec, old, actual);
  if (renames === undefined) problems.push(`${table}: custom columns to rename take each other's names in a cycle (not applied automatically)`);
  for (const column of renames ?? []) {
    const from = column.renamedFrom!;
    planRename(table, old?.columns.find((c) => c.name === from), column, from, steps, problems);
    renamed.set(from, column.name);
  }
  for (const column of spec.columns) {
    const where = `${table}.${column.name}`;
    if (renamed.get(column.renamedFrom ?? '') === column.name) continue;
    if (!actual.has(column.name)) {
      if (spec.primaryKey.includes(column.name)) {
        problems.push(`${where}: a new key column is not added automatically`);
      } else if (!column.nullable && column.defaultValue === undefined) {
        const rows = await countRows(trx, table);
        if (rows > 0) problems.push(`${where}: a required column without a default cannot be added to ${rows} existing rows`);
        else if (engine === 'sqlite') problems.push(`${where}: SQLite cannot add a required column without a default in place`);
        else steps.push({ kind: 'add-column', table, column, foreignKey: foreignKeyAddedWith(spec, column.name, engine) });
      } else {
        steps.push({ kind: 'add-column', table, column, foreignKey: foreignKeyAddedWith(spec, column.name, engine) });
      }
      continue;
    }
    const before = old?.columns.find((c) => c.name === column.name);
    if (before) await planColumnChange(trx, table, before, column, steps, problems);
  }
  for (const before of old?.columns ?? []) {
    if (spec.columns.some((c) => c.name === before.name) || !actual.has(before.name) || renamed.has(before.name)) continue;
    const where = `${table}.${before.name}`;
    const values = dropsAllowed.has(where) ? 0 : await countNonNull(trx, table, before.name);
    if (values > 0) { problems.push(`${where}: the model no longer has this column, which holds ${values} values`); continue; }
    if (engine === 'sqlite' && old?.foreignKeys.some((fk) => fk.columns.includes(before.name))) {
      problems.push(`${where}: SQLite cannot drop a referencing column in place`);
      continue;
    }
    for (const ix of old?.indexes ?? []) if (ix.columns.includes(before.name)) steps.push({ kind: 'drop-index', table, index: ix });
    steps.push({ kind: 'drop-column', table, column: before.name });
  }
  const indexNames = await indexNamesOf(trx, engine, table);
  const dropped = new Set(steps.filter((s) => s.kind === 'drop-index').map((s) => (s.kind === 'drop-index' ? s.index.name : '')));
  const moved = new Set<string>();
  // an index of a renamed column follows it under the name the model gives it now
  for (const ix of renamed.size > 0 ? old?.indexes ?? [] : []) {
    if (!indexNames.has(ix.name) || spec.indexes.some((i) => i.name === ix.name)) continue;
    const columns = ix.columns.map((c) => renamed.get(c) ?? c).join();
    const follows = spec.indexes.find((i) => i.columns.join() === columns && !indexNames.has(i.name));
    if (!follows) continue;
    steps.push({ kind: 'rename-index', table, from: ix.name, index: follows });
    dropped.add(ix.name);
    moved.add(follows.name);
  }
  for (const ix of spec.indexes) if (!indexNames.has(ix.name) && !moved.has(ix.name)) steps.push({ kind: 'create-index', table, index: ix });
  for (const ix of old?.indexes ?? []) {
    if (spec.indexes.some((i) => i.name === ix.name) || !indexNames.has(ix.name) || dropped.has(ix.name)) continue;
    steps.push({ kind: 'drop-index', table, index: ix });
  }
}

/**
 * The columns to rename, in an order where none takes a name still in use: a column still named as its
 * property (`renamedFrom`) moves to the name the model gives it now. A new name may be the old name of
 * another field's column (fields `X` and `cf_X`: `cf_X` → `cf_cf_X` must run before `X` → `cf_X`).
 * With a recorded model, the column `from` must be that property's own (recorded without a mapping);
 * without one, the new name must be free. Undefined: the renames form a cycle.
 */
function plannedRenames(spec: TableSpec, old: TableSpec | undefined, actual: ReadonlySet<string>): ColumnSpec[] | undefined {
  let moving = spec.columns.filter((c) => {
    const from = c.renamedFrom;
    if (from === undefined || from === c.name || !actual.has(from)) return false;
    if (old === undefined) return !spec.columns.some((o) => o.name === from);
    const recorded = old.columns.find((o) => o.name === from);
    return recorded !== undefined && recorded.renamedFrom === undefined;
  });
  // a column whose new name is held by a column that does not move cannot move
  for (let changed = true; changed;) {
    const vacated = new Set(moving.map((c) => c.renamedFrom));
    const next = moving.filter((c) => !actual.has(c.name) || vacated.has(c.name));
    changed = next.length !== moving.length;
    moving = next;
  }
  const ordered: ColumnSpec[] = [];
  for (let pending = moving; pending.length > 0;) {
    const sources = new Set(pending.map((c) => c.renamedFrom));
    const ready = pending.filter((c) => !sources.has(c.name));
    if (ready.length === 0) return undefined;
    ordered.push(...ready);
    pending = pending.filter((c) => !ready.includes(c));
  }
  return ordered;
}

/**
 * A column renamed as it was: the definition it was recorded with must be the one the model gives it
 * now (a rename and a change at once are not applied automatically).
 */
function planRename(table: string, before: ColumnSpec | undefined, after: ColumnSpec, from: string, steps: MigrationStep[], problems: string[]): void {
  const definition = (c: ColumnSpec) => JSON.stringify({ ...c, name: undefined, renamedFrom: undefined });
  if (before && definition(before) !== definition(after)) {
    problems.push(`${table}.${from} → ${after.name}: ${describeType(before)} → ${describeType(after)} or its facets change with the rename (not applied automatically)`);
    return;
  }
  steps.push({ kind: 'rename-column', table, from, to: after.name });
}

async function planColumnChange(trx: Knex.Transaction, table: string, before: ColumnSpec, after: ColumnSpec, steps: MigrationStep[], problems: string[]): Promise<void> {
  // messages name the field a user knows (a custom field's column is cf_<Name>; renamedFrom is its property's name)
  const where = after.renamedFrom === undefined ? `${table}.${after.name}` : `${table}.${after.renamedFrom} (column ${after.name})`;
  // a decimal with more digits before the point holds every value it held: the one type change applied
  const morePrecision = before.kind === 'Edm.Decimal' && after.kind === 'Edm.Decimal' && before.scale === after.scale
    && before.precision !== undefined && (after.precision === undefined || after.precision > before.precision);
  if (before.kind !== after.kind || (before.precision !== after.precision && !morePrecision) || before.scale !== after.scale) {
    problems.push(`${where}: ${describeType(before)} → ${describeType(after)} (a type change is not applied automatically)`);
    return;
  }
  // a collection's MaxLength is its elements' and its column JSON text: nothing to resize
  if ((before.maxLength !== after.maxLength && after.kind !== 'JsonCollection') || morePrecision) {
    const narrower = after.maxLength !== undefined && (before.maxLength === undefined || after.maxLength < before.maxLength);
    const tooLong = narrower ? await countLongerThan(trx, table, after.name, after.maxLength ?? 0) : 0;
    if (tooLong > 0) problems.push(`${where}: MaxLength ${before.maxLength ?? 'unbounded'} → ${after.maxLength}: ${tooLong} rows hold longer values`);
    else steps.push({ kind: 'resize-column', table, column: after });
  }
  if (before.nullable !== after.nullable) {
    const nulls = after.nullable ? 0 : await countNulls(trx, table, after.name);
    if (nulls > 0) problems.push(`${where}: becomes required but ${nulls} rows hold null (a default value would fill them)`);
    else steps.push({ kind: 'set-nullability', table, column: after.name, nullable: after.nullable });
  }
}

function describeType(c: ColumnSpec): string {
  const facets = [c.precision, c.scale].filter((x) => x !== undefined);
  return facets.length ? `${c.kind}(${facets.join(',')})` : c.kind;
}

/** Runs the steps in order (inside the caller's transaction); new tables get their foreign keys once all exist. */
export async function applyMigration(trx: Knex.Transaction, engine: Engine, steps: readonly MigrationStep[]): Promise<void> {
  const created: TableSpec[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case 'create-table':
        await trx.schema.createTable(step.spec.name, (t) => defineTable(t, step.spec, engine, engine === 'sqlite'));
        created.push(step.spec);
        break;
      case 'add-column': await addColumnStep(trx, engine, step.table, step.column, step.foreignKey); break;
      case 'resize-column':
        // SQLite ignores declared lengths (text columns are declared `text`) and keeps decimals as text
        // (`decimal_text(p,s)`, whose facets it ignores too): only PostgreSQL's types carry the facets.
        if (engine === 'postgres') await trx.schema.alterTable(step.table, (t) => { addColumn(t, step.column, engine).alter({ alterNullable: false }); });
        break;
      case 'set-nullability':
        if (engine === 'sqlite') await setSqliteNullability(trx, step.table, step.column, step.nullable);
        else await trx.schema.alterTable(step.table, (t) => { if (step.nullable) t.setNullable(step.column); else t.dropNullable(step.column); });
        break;
      case 'create-index': await trx.schema.alterTable(step.table, (t) => { t.index(indexColumns(step.index, engine), step.index.name); }); break;
      case 'drop-index': await trx.raw('DROP INDEX ??', [step.index.name]); break;
      case 'drop-column': await trx.raw('ALTER TABLE ?? DROP COLUMN ??', [step.table, step.column]); break;
      case 'rename-column': await trx.raw('ALTER TABLE ?? RENAME COLUMN ?? TO ??', [step.table, step.from, step.to]); break;
      case 'rename-index':
        if (engine === 'postgres') {
          await trx.raw('ALTER INDEX ?? RENAME TO ??', [step.from, step.index.name]);
        } else {
          await trx.raw('DROP INDEX ??', [step.from]);
          await trx.schema.alterTable(step.table, (t) => { t.index(indexColumns(step.index, engine), step.index.name); });
        }
        break;
      case 'drop-table': await trx.raw('DROP TABLE ??', [step.table]); break;
    }
  }
  if (engine === 'postgres') {
    for (const spec of created) if (spec.foreignKeys.length > 0) await trx.schema.alterTable(spec.name, (t) => addForeignKeys(t, spec));
  }
}

async function addColumnStep(trx: Knex.Transaction, engine: Engine, table: string, column: ColumnSpec, foreignKey: ForeignKeySpec | undefined): Promise<void> {
  const define = (t: Knex.AlterTableBuilder) => {
    const c = addColumn(t, column, engine);
    if (column.nullable) c.nullable(); else c.notNullable();
    if (column.defaultValue !== undefined) c.defaultTo(column.defaultValue);
    if (foreignKey && engine === 'postgres') addForeignKeys(t, { name: table, foreignKeys: [foreignKey] });
  };
  if (!foreignKey || engine === 'postgres') {
    await trx.schema.alterTable(table, define);
    return;
  }
  // SQLite adds a referencing column in place when its default is null; Knex would rebuild the table
  // for a foreign key (outside this transaction's control), so the clause is appended to its ADD COLUMN.
  const statements = trx.schema.alterTable(table, define).toSQL();
  if (statements.length !== 1) throw new Error(`${table}.${column.name}: unexpected DDL for a referencing column`);
  await trx.raw(`${statements[0].sql} REFERENCES ?? (??) ON DELETE ${foreignKey.onDelete}`, [foreignKey.referencedTable, foreignKey.referencedColumns[0]]);
}

/**
 * The foreign key to create with an added column: a one-column foreign key on it; a composite one (several
 * columns referring to a composite key) with the last of its columns the table declares, on PostgreSQL only
 * (SQLite's ADD COLUMN takes a one-column REFERENCES; there the service's binds check such references).
 */
function foreignKeyAddedWith(spec: TableSpec, column: string, engine: Engine): ForeignKeySpec | undefined {
  return spec.foreignKeys.find((fk) => {
    if (fk.columns.length === 1) return fk.columns[0] === column;
    if (engine !== 'postgres') return false;
    const positions = fk.columns.map((c) => spec.columns.findIndex((x) => x.name === c));
    return spec.columns[Math.max(...positions)]?.name === column;
  });
}

async function countRows(trx: Knex.Transaction, table: string): Promise<number> {
  const [row] = await trx(table).count({ n: '*' }) as { n: number | string }[];
  return Number(row.n);
}

async function countNonNull(trx: Knex.Transaction, table: string, column: string): Promise<number> {
  const [row] = await trx(table).whereNotNull(column).count({ n: '*' }) as { n: number | string }[];
  return Number(row.n);
}

async function countLongerThan(trx: Knex.Transaction, table: string, column: string, maxLength: number): Promise<number> {
  const [row] = await trx(table).whereRaw('length(??) > ?', [column, maxLength]).count({ n: '*' }) as { n: number | string }[];
  return Number(row.n);
}

async function countNulls(trx: Knex.Transaction, table: string, column: string): Promise<number> {
  const [row] = await trx(table).whereNull(column).count({ n: '*' }) as { n: number | string }[];
  return Number(row.n);
}

async function indexNamesOf(trx: Knex.Transaction, engine: Engine, table: string): Promise<ReadonlySet<string>> {
  const rows = engine === 'sqlite'
    ? await trx.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]) as { name: string }[]
    : (await trx.raw('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?', [table]) as { rows: { name: string }[] }).rows;
  return new Set(rows.map((r) => r.name));
}
