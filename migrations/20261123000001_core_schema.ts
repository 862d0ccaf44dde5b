/** Knex migration: creates (and drops) the tables of the built-in model being served (metadata/crm.csdl.json unless configured); later model changes reach a database through src/db/model-migrator.ts. */
import type { Knex } from 'knex';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';
import { createSchemaForModel, dropSchemaForModel } from '../src/db/schema';

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  await createSchemaForModel(knex, model);
}

export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  await dropSchemaForModel(knex, model);
}
