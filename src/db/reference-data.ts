/**
 * Reference data the model's tables start with: the 249 ISO 3166-1 countries (metadata/countries.json).
 * Loading inserts only the IsoCodes a table lacks, so it can run after every model migration however
 * the Countries table came into being (the knex migration or the model migrator), and never duplicates.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { DEFAULT_CSDL_PATH } from '../edm/load-csdl';
import type { EdmModel } from '../edm/model';
import { describeExpectedSchema } from './schema';

const COUNTRIES_TABLE = 'Countries';
export const COUNTRIES_FILE = path.join(path.dirname(DEFAULT_CSDL_PATH), 'countries.json');
/** When the data file was written (Created and Edited of the loaded rows). */
const COUNTRIES_AS_OF = '2026-12-04T00:00:00.000Z';
const INSERT_CHUNK = 100;

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
export function countryId(isoCode: string): string {
  const h = createHash('sha256').update(`Crm.Country/${isoCode}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Inserts the countries whose IsoCode the Countries table lacks (nothing when the model has no such table). */
export async function loadReferenceData(knex: Knex, model: EdmModel): Promise<void> {
  if (!describeExpectedSchema(model).has(COUNTRIES_TABLE) || !(await knex.schema.hasTable(COUNTRIES_TABLE))) return;
  const present = new Set((await knex(COUNTRIES_TABLE).select('IsoCode') as { IsoCode: string }[]).map((r) => r.IsoCode.toUpperCase()));
  // reference data: the same rows (stamps included) in every database, as seeded demo data is
  const rows = readCountries().filter((c) => !present.has(c.IsoCode.toUpperCase())).map((c) => ({
    Id: countryId(c.IsoCode), Created: COUNTRIES_AS_OF, Edited: COUNTRIES_AS_OF, Name: c.Name, IsoCode: c.IsoCode,
    CallingCode: c.CallingCode, PhoneMask: c.PhoneMask ?? null, IsActive: true,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await knex(COUNTRIES_TABLE).insert(rows.slice(i, i + INSERT_CHUNK));
}
