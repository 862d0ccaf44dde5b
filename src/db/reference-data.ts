/**
 * Reference data the model's tables start with: the 249 ISO 3166-1 countries (metadata/countries.json)
 * and the system picklists with their first items (metadata/picklists.json). Loading inserts only the
 * IsoCodes and picklist Names a table lacks, so it can run after every model migration however the
 * tables came into being (the knex migration or the model migrator), and never duplicates. A system
 * picklist's items are loaded with it, once: later edits (items added, changed, removed) stay.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { DEFAULT_CSDL_PATH } from '../edm/load-csdl';
import type { EdmModel } from '../edm/model';
import { ITEM_COLUMNS, PICKLIST_COLUMNS, picklistStorageOf } from '../edm/picklists';
import { tableOf } from '../edm/storage';
import { describeExpectedSchema } from './schema';

const COUNTRIES_TABLE = 'Countries';
export const COUNTRIES_FILE = path.join(path.dirname(DEFAULT_CSDL_PATH), 'countries.json');
export const PICKLISTS_FILE = path.join(path.dirname(DEFAULT_CSDL_PATH), 'picklists.json');
/** When the data files were written (Created and Edited of the loaded rows). */
const COUNTRIES_AS_OF = '2026-12-04T00:00:00.000Z';
const PICKLISTS_AS_OF = COUNTRIES_AS_OF;
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

interface SystemPicklist {
  readonly Name: string;
  readonly Description: string;
  readonly Items: readonly string[];
}

export function readSystemPicklists(file: string = PICKLISTS_FILE): SystemPicklist[] {
  return JSON.parse(readFileSync(file, 'utf8')) as SystemPicklist[];
}

export function countryId(isoCode: string): string {
  return referenceId(`Crm.Country/${isoCode}`);
}

/** The stable Id of a system picklist, and of one of its shipped items. */
export function systemPicklistId(name: string): string {
  return referenceId(`Crm.Picklist/${name}`);
}

export function systemPicklistItemId(picklist: string, value: string): string {
  return referenceId(`Crm.PicklistItem/${picklist}/${value}`);
}

/**
 * The same Id for a reference row in every database: hash bits laid out as a version-4 UUID, like every
 * key the service makes (a version-5 layout would be the only one of its kind in the database).
 */
function referenceId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Inserts the countries whose IsoCode the Countries table lacks (nothing when the model has no such table). */
export async function loadReferenceData(knex: Knex, model: EdmModel): Promise<void> {
  await loadCountries(knex, model);
  await loadSystemPicklists(knex, model);
}

async function loadCountries(knex: Knex, model: EdmModel): Promise<void> {
  if (!describeExpectedSchema(model).has(COUNTRIES_TABLE) || !(await knex.schema.hasTable(COUNTRIES_TABLE))) return;
  const present = new Set((await knex(COUNTRIES_TABLE).select('IsoCode') as { IsoCode: string }[]).map((r) => r.IsoCode.toUpperCase()));
  // reference data: the same rows (stamps included) in every database, as seeded demo data is
  const rows = readCountries().filter((c) => !present.has(c.IsoCode.toUpperCase())).map((c) => ({
    Id: countryId(c.IsoCode), Created: COUNTRIES_AS_OF, Edited: COUNTRIES_AS_OF, Name: c.Name, IsoCode: c.IsoCode,
    CallingCode: c.CallingCode, PhoneMask: c.PhoneMask ?? null, IsActive: true,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await knex(COUNTRIES_TABLE).insert(rows.slice(i, i + INSERT_CHUNK));
}

/** Inserts the system picklists (IsSystem) whose Name, ignoring case, the picklist table lacks, each with its items. */
async function loadSystemPicklists(knex: Knex, model: EdmModel): Promise<void> {
  const storage = picklistStorageOf(model);
  if (!storage) return;
  const [picklists, items] = [tableOf(storage.picklists), tableOf(storage.items)];
  if (!(await knex.schema.hasTable(picklists)) || !(await knex.schema.hasTable(items))) return;
  const present = new Set((await knex(picklists).select(PICKLIST_COLUMNS.name) as Record<string, string>[]).map((r) => r[PICKLIST_COLUMNS.name].toLowerCase()));
  const stamps = { Created: PICKLISTS_AS_OF, Edited: PICKLISTS_AS_OF };
  for (const p of readSystemPicklists().filter((p) => !present.has(p.Name.toLowerCase()))) {
    const id = systemPicklistId(p.Name);
    await knex(picklists).insert({
      [storage.picklists.entityType.key[0]]: id, ...stamps, [PICKLIST_COLUMNS.name]: p.Name, Description: p.Description,
      [PICKLIST_COLUMNS.limited]: true, [PICKLIST_COLUMNS.allowBlank]: true, [PICKLIST_COLUMNS.system]: true,
    });
    await knex(items).insert(p.Items.map((value, i) => ({
      [storage.items.entityType.key[0]]: systemPicklistItemId(p.Name, value), ...stamps, [ITEM_COLUMNS.picklist]: id, [ITEM_COLUMNS.value]: value,
      [ITEM_COLUMNS.sequence]: i + 1, [ITEM_COLUMNS.removed]: null,
    })));
  }
}
