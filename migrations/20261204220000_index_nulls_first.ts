/**
 * Knex migration: on PostgreSQL, the model's indexes over nullable columns are rebuilt with those
 * columns NULLS FIRST, the order the compiler sorts them in (src/db/schema.ts indexColumns). An
 * index built before kept PostgreSQL's default (NULLS LAST), so `$orderby=LastName` sorted the whole
 * table. Indexes already in that form, or absent, are left alone; SQLite has nothing to change.
 */
import type { Knex } from 'knex';
import { describeExpectedSchema, engineOfKnex, indexColumns } from '../src/db/schema';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const engine = engineOfKnex(knex);
  if (engine !== 'postgres') return;
  const definitions = await indexDefinitions(knex);
  for (const spec of describeExpectedSchema(model).values()) {
    for (const ix of spec.indexes) {
      const definition = definitions.get(ix.name);
      if (!ix.nullable?.length || definition === undefined || definition.includes('NULLS FIRST')) continue;
      await knex.raw('DROP INDEX ??', [ix.name]);
      await knex.schema.alterTable(spec.name, (t) => { t.index(indexColumns(ix, engine), ix.name); });
    }
  }
}

/** Back to PostgreSQL's default null order (the form before this migration). */
export async function down(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  if (engineOfKnex(knex) !== 'postgres') return;
  const definitions = await indexDefinitions(knex);
  for (const spec of describeExpectedSchema(model).values()) {
    for (const ix of spec.indexes) {
      if (!ix.nullable?.length || !definitions.get(ix.name)?.includes('NULLS FIRST')) continue;
      await knex.raw('DROP INDEX ??', [ix.name]);
      await knex.schema.alterTable(spec.name, (t) => { t.index([...ix.columns], ix.name); });
    }
  }
}

async function indexDefinitions(knex: Knex): Promise<ReadonlyMap<string, string>> {
  const result = await knex.raw('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()') as { rows: { indexname: string; indexdef: string }[] };
  return new Map(result.rows.map((r) => [r.indexname, r.indexdef]));
}
