/** Proves that the migrated database and the metadata agree: tables, columns, nullability, keys, foreign keys, indexes. */
import { openDatabase, type Database } from '../../src/db/connect';
import { migrateToLatest, rollbackAll } from '../../src/db/migrate';
import { describeExpectedSchema } from '../../src/db/schema';
import { loadModelFromFile } from '../../src/edm/load-csdl';
import type { EdmProperty } from '../../src/edm/model';
import { linkTables, tableOf } from '../../src/edm/storage';
import { ENGINES, type EngineTarget } from '../helpers/engines';

interface DbForeignKey { readonly column: string; readonly table: string; readonly refColumn: string; readonly onDelete: string }
interface DbTable {
  readonly columns: Map<string, { nullable: boolean }>;
  readonly primaryKey: string[];
  readonly foreignKeys: DbForeignKey[];
  /** Column lists of every index, the primary key's included. */
  readonly indexes: string[][];
}

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);

async function rowsOf(db: Database, sql: string, bindings: readonly string[] = []): Promise<Row[]> {
  const result: unknown = await db.knex.raw(sql, bindings);
  const rows = db.engine === 'postgres' ? (result as { rows: unknown[] }).rows : (result as unknown[]);
  return rows as Row[];
}

async function introspectSqlite(db: Database): Promise<Map<string, DbTable>> {
  const out = new Map<string, DbTable>();
  const tables = await rowsOf(db, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'knex_%'");
  for (const { name } of tables) {
    const table = str(name);
    const info = await rowsOf(db, 'select name, "notnull", pk from pragma_table_info(?)', [table]);
    const fks = await rowsOf(db, 'select "from", "table", "to", on_delete from pragma_foreign_key_list(?)', [table]);
    const indexes: string[][] = [];
    for (const ix of await rowsOf(db, 'select name from pragma_index_list(?)', [table])) {
      const cols = await rowsOf(db, 'select name from pragma_index_info(?) order by seqno', [str(ix.name)]);
      indexes.push(cols.map((c) => str(c.name)));
    }
    out.set(table, {
      columns: new Map(info.map((c) => [str(c.name), { nullable: Number(c.notnull) === 0 }])),
      primaryKey: info.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((c) => str(c.name)),
      foreignKeys: fks.map((f) => ({ column: str(f.from), table: str(f.table), refColumn: str(f.to), onDelete: str(f.on_delete) })),
      indexes,
    });
  }
  return out;
}

async function introspectPostgres(db: Database): Promise<Map<string, DbTable>> {
  const out = new Map<string, DbTable>();
  const columns = await rowsOf(db, `select table_name, column_name, is_nullable from information_schema.columns
    where table_schema = current_schema() and table_name not like 'knex_%' order by table_name, ordinal_position`);
  for (const c of columns) {
    const table = str(c.table_name);
    if (!out.has(table)) out.set(table, { columns: new Map(), primaryKey: [], foreignKeys: [], indexes: [] });
    out.get(table)!.columns.set(str(c.column_name), { nullable: c.is_nullable === 'YES' });
  }
  const keys = await rowsOf(db, `select kcu.table_name, kcu.column_name from information_schema.table_constraints tc
    join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.constraint_schema = tc.constraint_schema
    where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = current_schema() order by kcu.table_name, kcu.ordinal_position`);
  for (const k of keys) out.get(str(k.table_name))?.primaryKey.push(str(k.column_name));
  const fks = await rowsOf(db, `select kcu.table_name, kcu.column_name, ccu.table_name as ref_table, ccu.column_name as ref_column, rc.delete_rule
    from information_schema.referential_constraints rc
    join information_schema.key_column_usage kcu on kcu.constraint_name = rc.constraint_name and kcu.constraint_schema = rc.constraint_schema
    join information_schema.constraint_column_usage ccu on ccu.constraint_name = rc.constraint_name and ccu.constraint_schema = rc.constraint_schema
    where rc.constraint_schema = current_schema()`);
  for (const f of fks) {
    out.get(str(f.table_name))?.foreignKeys.push({
      column: str(f.column_name), table: str(f.ref_table), refColumn: str(f.ref_column), onDelete: str(f.delete_rule),
    });
  }
  const indexes = await rowsOf(db, `select t.relname as table_name, array_agg(a.attname::text order by k.ord) as columns
    from pg_index x join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace
    cross join lateral unnest(x.indkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
    where n.nspname = current_schema() group by t.relname, x.indexrelid`);
  for (const ix of indexes) out.get(str(ix.table_name))?.indexes.push((ix.columns as unknown[]).map(str));
  return out;
}

/** Columns a property occupies with the nullability the metadata implies, computed here independently of src/db/schema.ts. */
function expectedColumns(props: readonly EdmProperty[], prefix = '', parentNullable = false): [string, boolean][] {
  const out: [string, boolean][] = [];
  for (const p of props) {
    const name = `${prefix}${p.name}`;
    if (p.type.kind === 'complex' && !p.collection) out.push(...expectedColumns(p.type.type.properties, `${name}_`, parentNullable || p.nullable));
    else out.push([name, parentNullable || (p.nullable && !p.collection)]);
  }
  return out;
}

const model = loadModelFromFile();
const DELETE_RULES: Record<string, string> = { Cascade: 'CASCADE', SetNull: 'SET NULL', None: 'NO ACTION', SetDefault: 'SET DEFAULT' };

describe.each(ENGINES.map((e): [string, EngineTarget] => [e.name, e]))('the migrated schema on %s', (_name, engine) => {
  let url = '';
  let db: Database;
  let tables: Map<string, DbTable>;

  beforeAll(async () => {
    url = await engine.freshUrl();
    db = openDatabase(url);
    await migrateToLatest(db);
    tables = db.engine === 'postgres' ? await introspectPostgres(db) : await introspectSqlite(db);
  });
  afterAll(async () => {
    await db.knex.destroy();
    await engine.dispose(url);
  });

  const table = (name: string): DbTable => {
    const t = tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  };

  it('has a table for every entity set', () => {
    for (const set of model.entitySets.values()) expect(tables.has(tableOf(set))).toBe(true);
  });

  it('has a column for every property, with the nullability the metadata declares', () => {
    for (const set of model.entitySets.values()) {
      const actual = table(tableOf(set)).columns;
      for (const [column, nullable] of expectedColumns(set.entityType.properties)) {
        expect([set.name, column, actual.get(column)?.nullable]).toEqual([set.name, column, nullable]);
      }
    }
  });

  it('has no columns the metadata does not declare', () => {
    for (const set of model.entitySets.values()) {
      const expected = expectedColumns(set.entityType.properties).map(([c]) => c).sort();
      expect([set.name, [...table(tableOf(set)).columns.keys()].sort()]).toEqual([set.name, expected]);
    }
  });

  it('keys every entity table on its EDM key', () => {
    for (const set of model.entitySets.values()) expect([set.name, table(tableOf(set)).primaryKey]).toEqual([set.name, set.entityType.key]);
  });

  it('has a link table keyed on both ids for every many-to-many navigation pair, and no other tables', () => {
    const links = linkTables(model);
    for (const link of links) {
      const t = table(link.table);
      expect([link.table, [...t.columns.keys()].sort()]).toEqual([link.table, link.columns.flat().sort()]);
      expect([...t.columns.values()].every((c) => !c.nullable)).toBe(true);
      expect(t.primaryKey).toEqual(link.columns.flat());
    }
    expect(links.map((l) => l.table)).toEqual(expect.arrayContaining(['Contact_Group', 'Team_User', 'Company_Opportunity']));
    // beside the model's tables: dynamic groups' matches, and their view (PostgreSQL's catalogue lists views' columns too)
    const dynamicGroups = ['Contact_Group_Dynamic', ...(db.engine === 'postgres' ? ['Contact_Group_Members'] : [])];
    // and the service's own table of asynchronous requests (migration 20261204000002_async_jobs)
    // and sign-in's session tokens and failed sign-ins (migration 20261204000004_auth)
    // and on PostgreSQL the rate limiter's buckets (migration 20261204000006_rate_limit; SQLite keeps them in a file of their own)
    const expected = [...model.entitySets.values()].map(tableOf)
      .concat(links.map((l) => l.table), dynamicGroups, ['odata_async_jobs', 'odata_auth_tokens', 'odata_auth_failures', 'odata_model', 'odata_schema_changes', 'odata_schema_lock', ...(db.engine === 'postgres' ? ['odata_rate_buckets'] : [])]).sort();
    expect([...tables.keys()].sort()).toEqual(expected);
  });

  it('backs every foreign-key navigation with a constraint whose delete rule follows $OnDelete', () => {
    for (const set of model.entitySets.values()) {
      for (const nav of set.entityType.navigations) {
        if (!nav.foreignKeys) continue;
        const target = model.entitySets.get(set.navigationBindings.get(nav.name) ?? '');
        const fk = table(tableOf(set)).foreignKeys.find((f) => f.column === nav.foreignKeys?.[0]);
        expect([set.name, nav.name, fk]).toEqual([set.name, nav.name, {
          column: nav.foreignKeys[0], table: target?.name, refColumn: 'Id', onDelete: DELETE_RULES[nav.onDelete ?? 'None'],
        }]);
      }
    }
  });

  it('cascades deletes from both sides of every link table', () => {
    for (const link of linkTables(model)) {
      const fks = table(link.table).foreignKeys.map((f) => [f.column, f.onDelete]).sort();
      expect([link.table, fks]).toEqual([link.table, link.columns.flat().map((c) => [c, 'CASCADE']).sort()]);
    }
  });

  it('indexes every foreign-key column as the leading column of some index', () => {
    for (const [name, t] of tables) {
      for (const fk of t.foreignKeys) expect([name, fk.column, t.indexes.some((ix) => ix[0] === fk.column)]).toEqual([name, fk.column, true]);
    }
  });

  it('indexes the common sorts and filters on Contacts, Companies and Groups', () => {
    expect(table('Contacts').indexes).toEqual(expect.arrayContaining([['LastName', 'FirstName', 'Id'], ['BusinessAddress_State']]));
    expect(table('Companies').indexes).toEqual(expect.arrayContaining([['Name']]));
    expect(table('Groups').indexes).toEqual(expect.arrayContaining([['Name']]));
  });

  it('agrees with describeExpectedSchema, the description the schema was built from', () => {
    for (const [name, spec] of describeExpectedSchema(model)) {
      const t = table(name);
      expect([name, spec.columns.map((c) => [c.name, c.nullable])]).toEqual([name, spec.columns.map((c) => [c.name, t.columns.get(c.name)?.nullable])]);
    }
  });

  it('stores enum defaults as the member value and leaves absent complex values all null', async () => {
    const now = '2026-01-01T00:00:00.000Z';
    await db.knex('Opportunities').insert({ Id: '00000000-0000-4000-8000-000000000001', Created: now, Edited: now, Name: 'Default check' });
    await db.knex('Activities').insert({ Id: '00000000-0000-4000-8000-000000000002', Created: now, Edited: now, Subject: 'No recurrence' });
    const [opp] = await db.knex('Opportunities').select('Status', 'Amount');
    expect([Number(opp.Status), Number(opp.Amount)]).toEqual([0, 0]);
    const [activity] = await db.knex('Activities').select('Priority', 'IsCleared', 'Recurrence_Frequency', 'Recurrence_Interval', 'Recurrence_ClearedDates');
    expect([Number(activity.Priority), Boolean(activity.IsCleared)]).toEqual([1, false]);
    expect([activity.Recurrence_Frequency, activity.Recurrence_Interval, activity.Recurrence_ClearedDates]).toEqual([null, null, null]);
  });

  it('sets a contact\'s CompanyId to null when its company is deleted and drops its link rows when it is deleted', async () => {
    const now = '2026-01-01T00:00:00.000Z';
    const company = '00000000-0000-4000-8000-0000000000c1';
    const contact = '00000000-0000-4000-8000-0000000000c2';
    const group = '00000000-0000-4000-8000-0000000000c3';
    await db.knex('Companies').insert({ Id: company, Created: now, Edited: now, Name: 'Doomed Inc.' });
    await db.knex('Contacts').insert({ Id: contact, Created: now, Edited: now, LastName: 'Linked', CompanyId: company });
    await db.knex('Groups').insert({ Id: group, Created: now, Edited: now, Name: 'Linked group' });
    await db.knex('Contact_Group').insert({ ContactId: contact, GroupId: group });
    await db.knex('Companies').where('Id', company).delete();
    expect((await db.knex('Contacts').where('Id', contact).select('CompanyId'))[0].CompanyId).toBeNull();
    await db.knex('Contacts').where('Id', contact).delete();
    expect(await db.knex('Contact_Group').where('GroupId', group).select('ContactId')).toEqual([]);
  });

  it('migrates idempotently and rolls back to a database without the model\'s tables', async () => {
    await migrateToLatest(db);
    await rollbackAll(db);
    const after = db.engine === 'postgres' ? await introspectPostgres(db) : await introspectSqlite(db);
    expect([...after.keys()]).toEqual([]);
    await migrateToLatest(db);
  });
});
