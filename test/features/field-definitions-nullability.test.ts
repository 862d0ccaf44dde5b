/**
 * PATCH FieldDefinitions IsNullable (issue 17, item 4) on both engines, and on SQLite both ways the
 * migrator has of changing NOT NULL (in place, SQLite ≥ 3.53; the documented table rebuild): false
 * with null rows and no DefaultValue → 409 counting them; with a DefaultValue the nulls are filled
 * and the column is NOT NULL in the database; true relaxes it again. The table keeps its indexes,
 * other columns' data, the rows that reference it and the view over group members; a failure
 * injected after the DDL leaves nothing changed.
 */
import type { Knex } from 'knex';
import { forceSqliteNullabilityMethod, type SqliteNullabilityMethod } from '../../src/db/sqlite-table-change';
import { ENGINES, type EngineTarget } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';

type Json = Record<string, unknown>;

type Case = [string, EngineTarget, SqliteNullabilityMethod | undefined];
const CASES: Case[] = ENGINES.flatMap((e): Case[] => (e.name === 'sqlite' ? [['sqlite in place', e, 'in-place'], ['sqlite rebuild', e, 'rebuild']] : [[e.name, e, undefined]]));

async function columnRequired(knex: Knex, engine: string, table: string, column: string): Promise<boolean> {
  if (engine === 'sqlite') {
    const rows = await knex.raw(`PRAGMA table_info("${table}")`) as { name: string; notnull: number }[];
    const row = rows.find((r) => r.name === column);
    if (!row) throw new Error(`no column ${column}`);
    return row.notnull === 1;
  }
  const { rows } = await knex.raw('SELECT is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?', [table, column]) as { rows: { is_nullable: string }[] };
  return rows[0].is_nullable === 'NO';
}

async function indexesOf(knex: Knex, engine: string, table: string): Promise<string[]> {
  const rows = engine === 'sqlite'
    ? await knex.raw(`PRAGMA index_list("${table}")`) as { name: string }[]
    : (await knex.raw('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?', [table]) as { rows: { name: string }[] }).rows;
  return rows.map((r) => r.name).sort();
}

/** Rows of the tables whose foreign keys name Contacts (a rebuild with foreign keys on would have cascaded). */
async function referencingRows(knex: Knex): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['Contact_Group', 'Contact_Note', 'Contact_Opportunity', 'Contact_History', 'Users']) {
    const [row] = await knex(table).count({ n: '*' }) as { n: number | string }[];
    counts[table] = Number(row.n);
  }
  return counts;
}

describe.each(CASES)('FieldDefinitions IsNullable on %s', (_name, engine, method) => {
  let svc: TestService;
  let contactId: string;
  const path = "/FieldDefinitions(EntityType='Contact',Name='Tier')";

  beforeAll(async () => {
    forceSqliteNullabilityMethod(method);
    svc = await startTestService(engine, { contacts: 30 });
    contactId = String((await svc.get('/Contacts?$top=1&$orderby=Id&$select=Id')).json<{ value: Json[] }>().value[0].Id);
    expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Tier', FieldType: 'Text', Length: 10, IsIndexed: true })).status).toBe(201);
    expect((await send('PATCH', `/Contacts(${contactId})`, { Tier: 'Gold' })).status).toBe(204);
  });
  afterAll(async () => {
    forceSqliteNullabilityMethod(undefined);
    await svc?.close();
  });

  const send = (method: string, url: string, body?: unknown) =>
    svc.request(method, url, { headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const contactType = async (): Promise<Json> => ((await svc.get('/$metadata?$format=json')).json<Json>().Crm as Json).Contact as Json;
  const nullTiers = async (): Promise<number> => Number((await svc.get('/Contacts/$count?$filter=Tier eq null')).text);
  /** what a rebuild must keep: other columns, the group members (a view), the referencing rows, the indexes */
  const snapshot = async () => ({
    contacts: (await svc.get('/Contacts?$select=Id,LastName,EmailAddress,BirthDate,IsPrivate,Categories&$orderby=Id&$top=100')).json<{ value: Json[] }>().value,
    members: (await svc.get('/Groups?$select=Id&$expand=Contacts($select=Id;$orderby=Id)&$orderby=Id&$top=100')).json<{ value: Json[] }>().value,
    referencing: await referencingRows(svc.knex),
    indexes: await indexesOf(svc.knex, engine.name, 'Contacts'),
  });

  it('false with null rows and no DefaultValue → 409 saying how many rows hold null; nothing changes', async () => {
    const nulls = await nullTiers();
    expect(nulls).toBe(29);
    const refused = await send('PATCH', path, { IsNullable: false });
    expect(refused.status).toBe(409);
    expect(refused.json<{ error: Json }>().error.message).toMatch(new RegExp(`Contacts\\.Tier \\(column cf_Tier\\): becomes required but ${nulls} rows hold null`));
    expect((await svc.get(path)).json<Json>().IsNullable).toBe(true);
    expect(await columnRequired(svc.knex, engine.name, 'Contacts', 'cf_Tier')).toBe(false);
  });

  it('a failure injected after the DDL (nulls filled, column made NOT NULL) leaves nothing changed', async () => {
    const before = await snapshot();
    const etag = (await svc.get('/$metadata')).headers.get('etag');
    const change = { kind: 'alter-property', entityType: 'Contact', property: 'Tier', definition: { $MaxLength: 10, $Nullable: false, $DefaultValue: 'Bronze' }, indexed: true } as const;
    await expect(svc.running.lifecycle.applySchemaChange(change, {
      beforeDdl: async (trx) => { await trx('Contacts').whereNull('cf_Tier').update({ cf_Tier: 'Bronze' }); },
      afterDdl: () => { throw new Error('injected failure after the DDL'); },
    })).rejects.toThrow('injected failure after the DDL');
    expect(await nullTiers()).toBe(29);
    expect(await columnRequired(svc.knex, engine.name, 'Contacts', 'cf_Tier')).toBe(false);
    expect((await svc.get('/$metadata')).headers.get('etag')).toBe(etag);
    expect((await contactType()).Tier).toEqual({ $MaxLength: 10, $Nullable: true });
    expect((await svc.get(path)).json<Json>()).toMatchObject({ IsNullable: true, DefaultValue: null });
    expect(await snapshot()).toEqual(before);
    if (engine.name === 'sqlite') {
      expect(await svc.knex.schema.hasTable('Contacts__rebuild')).toBe(false);
      expect(await svc.knex.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    }
  });

  it('false with a DefaultValue fills the nulls; the column is NOT NULL in the database; indexes, data, members kept', async () => {
    const before = await snapshot();
    expect(before.indexes).toContain('ix_Contacts_cf_Tier');
    expect(before.members.some((g) => (g.Contacts as unknown[]).length > 0)).toBe(true);
    const res = await send('PATCH', path, { IsNullable: false, DefaultValue: 'Bronze' });
    expect([res.status, res.text]).toEqual([204, '']);
    expect(await nullTiers()).toBe(0);
    expect((await svc.get(`/Contacts(${contactId})?$select=Tier`)).json<Json>().Tier).toBe('Gold');
    expect((await svc.get('/Contacts/$count?$filter=Tier eq \'Bronze\'')).text).toBe('29');
    expect(await columnRequired(svc.knex, engine.name, 'Contacts', 'cf_Tier')).toBe(true);
    expect((await contactType()).Tier).toEqual({ $MaxLength: 10, $Nullable: false, $DefaultValue: 'Bronze' });
    expect((await svc.get(path)).json<Json>()).toMatchObject({ IsNullable: false, DefaultValue: 'Bronze', IsIndexed: true });
    expect(await snapshot()).toEqual(before);
    expect((await svc.get("/Contacts?$filter=Tier eq 'Gold'&$select=Id")).json<Json>().value).toEqual([expect.objectContaining({ Id: contactId })]);
    // a POST without the value gets the default; an explicit null → 400
    const created = await send('POST', '/Contacts', { FirstName: 'Req', LastName: 'Uired' });
    expect(created.status).toBe(201);
    expect(created.json<Json>().Tier).toBe('Bronze');
    const nulled = await send('POST', '/Contacts', { FirstName: 'No', LastName: 'Tier', Tier: null });
    expect(nulled.status).toBe(400);
    // the database itself refuses a null now
    await expect(svc.knex('Contacts').where('Id', contactId).update({ cf_Tier: null })).rejects.toMatchObject({ message: expect.stringMatching(/null/i) });
    if (engine.name === 'sqlite') {
      expect(await svc.knex.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
      expect(await svc.knex.raw('PRAGMA foreign_key_check')).toEqual([]);
      expect(await svc.knex.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    }
  });

  it('true relaxes it again (column nullable in the database, null accepted)', async () => {
    const before = await snapshot();
    expect((await send('PATCH', path, { IsNullable: true })).status).toBe(204);
    expect(await columnRequired(svc.knex, engine.name, 'Contacts', 'cf_Tier')).toBe(false);
    expect((await contactType()).Tier).toMatchObject({ $Nullable: true });
    expect((await send('PATCH', `/Contacts(${contactId})`, { Tier: null })).status).toBe(204);
    expect((await svc.get(`/Contacts(${contactId})?$select=Tier`)).json<Json>().Tier).toBeNull();
    const after = await snapshot();
    expect(after).toEqual({ ...before, contacts: after.contacts });
    expect(after.contacts).toHaveLength(before.contacts.length);
    // and the field drops with its index
    expect((await send('DELETE', path)).status).toBe(204);
    expect(await indexesOf(svc.knex, engine.name, 'Contacts')).not.toContain('ix_Contacts_cf_Tier');
  });
});
