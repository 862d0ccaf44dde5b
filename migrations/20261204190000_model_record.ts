/**
 * Knex migration: the model a database holds (src/db/model-store.ts, src/db/model-migrator.ts).
 * `odata_model` has one row per model version the database was migrated to: the digest of the CSDL
 * served, the CSDL itself and the storage description (tables, columns, keys, indexes) it was given;
 * the row with the highest version is what the database holds now. `odata_schema_changes` holds the
 * run-time additions to the built-in model (definition rows, applied in id order). One row in
 * `odata_schema_lock` serializes migrations and schema changes across processes and nodes: each
 * updates it first in its transaction.
 */
import type { Knex } from 'knex';

export const MODEL_TABLE = 'odata_model';
export const SCHEMA_CHANGES_TABLE = 'odata_schema_changes';
export const SCHEMA_LOCK_TABLE = 'odata_schema_lock';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(MODEL_TABLE, (t) => {
    t.integer('version').primary();
    t.string('digest', 64).notNullable();
    t.text('csdl').notNullable();
    t.text('storage').notNullable();
    t.bigInteger('applied_at').notNullable();
  });
  await knex.schema.createTable(SCHEMA_CHANGES_TABLE, (t) => {
    t.integer('id').primary();
    t.text('change').notNullable();
    t.bigInteger('applied_at').notNullable();
  });
  await knex.schema.createTable(SCHEMA_LOCK_TABLE, (t) => {
    t.integer('id').primary();
    t.bigInteger('taken').notNullable();
  });
  await knex(SCHEMA_LOCK_TABLE).insert({ id: 1, taken: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(SCHEMA_LOCK_TABLE);
  await knex.schema.dropTableIfExists(SCHEMA_CHANGES_TABLE);
  await knex.schema.dropTableIfExists(MODEL_TABLE);
}
