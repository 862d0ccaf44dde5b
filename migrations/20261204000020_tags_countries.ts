/**
 * Knex migration: Tags (with their link tables to Contacts, Companies, Opportunities and Notes),
 * Countries (loaded from metadata/countries.json: the 249 ISO 3166-1 codes), Contact.Categories (a
 * collection of strings) and the unique indexes of every alternate key (Core.AlternateKeys). A
 * database created from the current model has the tables and the column; an older one gets them
 * here, each as the model's schema describes it (src/db/schema.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { createTableFromSpec, describeExpectedSchema } from '../src/db/schema';
import { createAlternateKeyIndexes, alternateKeyIndexes } from '../src/db/alternate-key-indexes';
import { DEFAULT_CSDL_PATH, loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';

const NEW_TABLES = ['Tags', 'Countries', 'Contact_Tag', 'Company_Tag', 'Opportunity_Tag', 'Note_Tag'] as const;
const CATEGORIES = { table: 'Contacts', column: 'Categories' } as const;
export const COUNTRIES_FILE = path.join(path.dirname(DEFAULT_CSDL_PATH), 'countries.json');
/** When the data file was written (Created and Edited of the loaded rows). */
const COUNTRIES_AS_OF = '2026-12-04T00:00:00.000Z';

interface CountryRow {
  readonly IsoCode: string;
  readonly Name: string;
  readonly CallingCode: string;
  readonly PhoneMask?: string;
}

export function readCountries(file: string = COUNTRIES_FILE): CountryRow[] {
  return JSON.parse(readFileSync(file, 'utf8')) as CountryRow[];
}

/**
 * The same Id for a country in every database: hash bits laid out as a version-4 UUID, like every key
 * the service makes (a version-5 layout would be the only one of its kind in the database).
 */
function countryId(isoCode: string): string {
  const h = createHash('sha256').update(`Crm.Country/${isoCode}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

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
  if (expected.has('Countries')) {
    const [{ n }] = await knex('Countries').count({ n: '*' }) as { n: string | number }[];
    if (Number(n) === 0) {
      // reference data: the same rows (stamps included) in every database, as seeded demo data is
      const now = COUNTRIES_AS_OF;
      const rows = readCountries().map((c) => ({
        Id: countryId(c.IsoCode), Created: now, Edited: now, Name: c.Name, IsoCode: c.IsoCode,
        CallingCode: c.CallingCode, PhoneMask: c.PhoneMask ?? null, IsActive: true,
      }));
      await knex.batchInsert('Countries', rows, 100);
    }
  }
}

export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  for (const ix of alternateKeyIndexes(model)) await knex.raw('DROP INDEX IF EXISTS ??', [ix.name]);
  if (await knex.schema.hasColumn(CATEGORIES.table, CATEGORIES.column)) await knex.schema.alterTable(CATEGORIES.table, (t) => t.dropColumn(CATEGORIES.column));
  for (const name of [...NEW_TABLES].reverse()) await knex.schema.dropTableIfExists(name);
}
