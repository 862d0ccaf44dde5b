/**
 * Knex migration: who did what (issue 14, item 5) and private activities and opportunities (item 4).
 * Every entity table gets `CreatedById` and `EditedById` (nullable references to Users, SET NULL on
 * delete; existing rows keep null: who made them is not known), and Activities and Opportunities get
 * `IsPrivate` (false). A database created from the current model has them already; an older one
 * gets them here, each column as the model's schema describes it (src/db/schema.ts).
 */
import type { Knex } from 'knex';
import { describeExpectedSchema, engineOfKnex } from '../src/db/schema';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';

const AUDIT_COLUMNS = ['CreatedById', 'EditedById'] as const;
const PRIVATE_FLAGS = [{ table: 'Activities', column: 'IsPrivate' }, { table: 'Opportunities', column: 'IsPrivate' }] as const;

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const engine = engineOfKnex(knex);
  for (const spec of describeExpectedSchema(model).values()) {
    if (spec.kind !== 'entity' || !(await knex.schema.hasTable(spec.name))) continue;
    for (const column of AUDIT_COLUMNS) {
      const fk = spec.foreignKeys.find((f) => f.columns.length === 1 && f.columns[0] === column);
      if (!fk || (await knex.schema.hasColumn(spec.name, column))) continue;
      const index = spec.indexes.find((ix) => ix.columns.length === 1 && ix.columns[0] === column);
      if (engine === 'sqlite') {
        // SQLite adds a referencing column in place when its default is null (no table rebuild)
        await knex.raw(`ALTER TABLE ?? ADD COLUMN ?? text(36) NULL REFERENCES ?? (??) ON DELETE ${fk.onDelete}`, [spec.name, column, fk.referencedTable, fk.referencedColumns[0]]);
        if (index) await knex.raw('CREATE INDEX ?? ON ?? (??)', [index.name, spec.name, column]);
      } else {
        await knex.schema.alterTable(spec.name, (t) => {
          t.uuid(column).nullable();
          t.foreign(column, `fk_${spec.name}_${column}`).references(fk.referencedColumns[0]).inTable(fk.referencedTable).onDelete(fk.onDelete);
          if (index) t.index([column], index.name);
        });
      }
    }
  }
  for (const { table, column } of PRIVATE_FLAGS) {
    if (!(await knex.schema.hasTable(table)) || (await knex.schema.hasColumn(table, column))) continue;
    await knex.schema.alterTable(table, (t) => t.boolean(column).notNullable().defaultTo(false));
  }
}

export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const engine = engineOfKnex(knex);
  for (const { table, column } of PRIVATE_FLAGS) {
    if (await knex.schema.hasColumn(table, column)) await knex.schema.alterTable(table, (t) => t.dropColumn(column));
  }
  for (const spec of describeExpectedSchema(model).values()) {
    if (spec.kind !== 'entity') continue;
    for (const column of AUDIT_COLUMNS) {
      if (!(await knex.schema.hasTable(spec.name)) || !(await knex.schema.hasColumn(spec.name, column))) continue;
      const index = spec.indexes.find((ix) => ix.columns.length === 1 && ix.columns[0] === column);
      if (engine === 'sqlite') {
        if (index) await knex.raw('DROP INDEX IF EXISTS ??', [index.name]);
        // SQLite drops a column only once no foreign key names it (Knex rebuilds the table for that)
        await knex.schema.alterTable(spec.name, (t) => t.dropForeign([column]));
      }
      await knex.schema.alterTable(spec.name, (t) => t.dropColumn(column));
    }
  }
}
