/** Knex migration: creates (and drops) the tables of the shipped CRM model from metadata/crm.csdl.json. */
import type { Knex } from 'knex';
import { loadModelFromFile } from '../src/edm/load-csdl';
import { createSchemaForModel, dropSchemaForModel } from '../src/db/schema';

export async function up(knex: Knex): Promise<void> {
  await createSchemaForModel(knex, loadModelFromFile());
}

export async function down(knex: Knex): Promise<void> {
  await dropSchemaForModel(knex, loadModelFromFile());
}
