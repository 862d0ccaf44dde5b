/**
 * Knex migration: dynamic groups. `Contact_Group_Dynamic` holds the contacts each group's Criteria
 * matches (kept up to date by the writes, src/write/dynamic-groups.ts); the view
 * `Contact_Group_Members` is what reads of Group/Contacts and Contact/Groups see: the static links
 * plus the matches that are not also static links (so no pair appears twice). Existing data gets its
 * matches computed here.
 */
import type { Knex } from 'knex';
import { engineOfKnex } from '../src/db/schema';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';
import { DYNAMIC_MEMBERSHIP } from '../src/edm/storage';
import { dialectOf } from '../src/sql/dialect/dialect-of';
import { recomputeAllDynamicGroups } from '../src/write/dynamic-groups';
import { UNRESTRICTED_ACCESS } from '../src/auth/access';

const { linkTable, matchTable, readView, groupColumn, contactColumn } = DYNAMIC_MEMBERSHIP;

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const engine = engineOfKnex(knex);
  const guid = (t: Knex.CreateTableBuilder, name: string) => (engine === 'postgres' ? t.uuid(name) : t.specificType(name, 'text(36)'));
  await knex.schema.createTable(matchTable, (t) => {
    guid(t, groupColumn).notNullable();
    guid(t, contactColumn).notNullable();
    t.primary([groupColumn, contactColumn], `pk_${matchTable}`);
    t.index([contactColumn], `ix_${matchTable}_${contactColumn}`);
    t.foreign(groupColumn, `fk_${matchTable}_${groupColumn}`).references('Id').inTable('Groups').onDelete('CASCADE');
    t.foreign(contactColumn, `fk_${matchTable}_${contactColumn}`).references('Id').inTable('Contacts').onDelete('CASCADE');
  });
  await knex.raw(`CREATE VIEW ?? AS
    SELECT ??, ?? FROM ??
    UNION ALL
    SELECT d.??, d.?? FROM ?? AS d
    WHERE NOT EXISTS (SELECT 1 FROM ?? AS l WHERE l.?? = d.?? AND l.?? = d.??)`, [
    readView, contactColumn, groupColumn, linkTable,
    contactColumn, groupColumn, matchTable,
    linkTable, contactColumn, contactColumn, groupColumn, groupColumn,
  ]);
  const dialect = dialectOf(engine);
  await recomputeAllDynamicGroups({ knex, dialect, access: UNRESTRICTED_ACCESS }, model);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP VIEW IF EXISTS ??', [readView]);
  await knex.schema.dropTableIfExists(matchTable);
}
