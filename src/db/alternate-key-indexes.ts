/**
 * One unique index per alternate key (Core.AlternateKeys), so an alternate key identifies at most one
 * entity. String parts are indexed lower-cased: alternate keys match ignoring case (edm/alternate-keys),
 * and the lookup `lower(col) = lower(?)` uses the same expression on both engines.
 */
import type { Knex } from 'knex';
import { alternateKeysOf, matchesIgnoringCase } from '../edm/alternate-keys';
import type { EdmModel } from '../edm/model';
import { propertyColumn, tableOf } from '../edm/storage';

export interface AlternateKeyIndex {
  readonly name: string;
  readonly table: string;
  /** column names; `lowered` marks those indexed as lower(column) */
  readonly columns: readonly { readonly column: string; readonly lowered: boolean }[];
}

export function alternateKeyIndexes(model: EdmModel): AlternateKeyIndex[] {
  const out: AlternateKeyIndex[] = [];
  for (const set of model.entitySets.values()) {
    const table = tableOf(set);
    for (const key of alternateKeysOf(set.entityType)) {
      const columns = key.parts.map((p) => ({ column: propertyColumn(p.property), lowered: matchesIgnoringCase(p) }));
      const name = `ux_${table}_${columns.map((c) => c.column).join('_')}`;
      out.push({ name: name.length <= 63 ? name : name.slice(0, 63), table, columns });
    }
  }
  return out;
}

/** Creates the alternate-key indexes of the model's tables that exist and lack them (both engines know IF NOT EXISTS). */
export async function createAlternateKeyIndexes(knex: Knex, model: EdmModel): Promise<void> {
  for (const ix of alternateKeyIndexes(model)) {
    if (!(await knex.schema.hasTable(ix.table))) continue;
    const parts = ix.columns.map((c) => (c.lowered ? 'lower(??)' : '??')).join(', ');
    await knex.raw(`CREATE UNIQUE INDEX IF NOT EXISTS ?? ON ?? (${parts})`, [ix.name, ix.table, ...ix.columns.map((c) => c.column)]);
  }
}
