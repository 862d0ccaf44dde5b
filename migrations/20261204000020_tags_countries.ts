/**
 * Knex migration: Tags (with their link tables to Contacts, Companies, Opportunities and Notes),
 * Countries (loaded from metadata/countries.json by src/db/reference-data.ts: the 249 ISO 3166-1 codes), Contact.Categories (a
 * collection of strings) and the unique indexes of every alternate key (Core.AlternateKeys). A
 * database created from the current model has the tables and the column; an older one gets them
 * here, each as the model's schema describes it (src/db/schema.ts).
 */
import type { Knex } from 'knex';
import { createTableFromSpec, describeExpectedSchema } from '../src/db/schema';
import { createAlternateKeyIndexes, alternateKeyIndexes } from '../src/db/alternate-key-indexes';
import { loadModelFromFile } from '../src/edm/load-csdl';
import { loadReferenceData } from '../src/db/reference-data';
import type { EdmModel } from '../src/edm/model';

const NEW_TABLES = ['Tags', 'Countries', 'Contact_Tag', 'Company_Tag', 'Opportunity_Tag', 'Note_Tag'] as const;
const CATEGORIES = { table: 'Contacts', column: 'Categories' } as const;

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const expected = describeExpectedSchema(model);
  // entity tables before the link tables that reference them
  for (const name of NEW_TABLES) {
    const spec = expected.get(name);
    if (spec && !(await knex.schema.hasTable(name))) await createTableFromSpec(knex, spec);
  }
  if (expected.get(CATEGORIES.table)?.columns.some((c) => c.name === CATEGORIES.column) && !(await knex.schema.hasColumn(CATEGORIES.table, CATEGORIES.column))) {
    await knex.schema.alterTable(CATEGORIES.table, (t) => t.text(CATEGORIES.column).notNullable().defaultTo('[]'));
  }
  await createAlternateKeyIndexes(knex, model);
  await loadReferenceData(knex, model);
}

export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  for (const ix of alternateKeyIndexes(model)) await knex.raw('DROP INDEX IF EXISTS ??', [ix.name]);
  if (await knex.schema.hasColumn(CATEGORIES.table, CATEGORIES.column)) await knex.schema.alterTable(CATEGORIES.table, (t) => t.dropColumn(CATEGORIES.column));
  for (const name of [...NEW_TABLES].reverse()) await knex.schema.dropTableIfExists(name);
}
