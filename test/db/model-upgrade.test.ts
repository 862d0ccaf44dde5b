/**
 * Model changes reach existing databases (issue 17, item 1). A database made with the model file of
 * an earlier release (test/fixtures/crm-2026-12-04-before-audit.csdl.json: metadata/crm.csdl.json as
 * it was before the audit fields, commit 8807e7c^) opens with the current model and gains the new
 * columns with its data intact; a model that would change or lose data stops the start, names what
 * and changes nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OLD_MODEL, call, startOn, writeModel } from '../helpers/upgrade-service';
import { DEFAULT_CSDL_PATH } from '../../src/edm/load-csdl';
import { ENGINES } from '../helpers/engines';

type Json = Record<string, unknown>;

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  beforeEach(async () => { database = await engine.freshUrl(); });
  afterEach(() => engine.dispose(database));

  it('opens a database made by the previous model file and adds the new columns, data intact', async () => {
    const old = await startOn(database, { modelFile: OLD_MODEL, seedContacts: 30 });
    let contactId: string;
    let opportunityId: string;
    try {
      expect(Object.keys((await call(old, 'GET', '/Contacts?$top=1')).json.value as object[]).length).toBe(1);
      const contact = await call(old, 'POST', '/Contacts', { FirstName: 'Ada', LastName: 'Lovelace', Company: { Name: 'Analytical Engines' } });
      expect(contact.status).toBe(201);
      expect(contact.json).not.toHaveProperty('CreatedById');
      contactId = String(contact.json.Id);
      const opp = (await call(old, 'GET', '/Opportunities?$top=1&$orderby=Id')).json.value as Record<string, unknown>[];
      opportunityId = String(opp[0].Id);
      expect(await old.db.knex.schema.hasColumn('Contacts', 'CreatedById')).toBe(false);
    } finally {
      await old.close();
    }

    const current = await startOn(database);
    try {
      for (const table of ['Contacts', 'Companies', 'Opportunities', 'Notes', 'Users']) {
        expect(await current.db.knex.schema.hasColumn(table, 'CreatedById')).toBe(true);
        expect(await current.db.knex.schema.hasColumn(table, 'EditedById')).toBe(true);
      }
      const ada = await call(current, 'GET', `/Contacts(${contactId})?$expand=Company($select=Name)`);
      expect(ada.status).toBe(200);
      expect(ada.json).toMatchObject({ FirstName: 'Ada', LastName: 'Lovelace', FullName: 'Ada Lovelace', CreatedById: null, EditedById: null, Company: { Name: 'Analytical Engines' } });
      const count = await call(current, 'GET', '/Contacts/$count');
      expect(count.status).toBe(200);
      expect((await call(current, 'GET', `/Opportunities(${opportunityId})?$select=IsPrivate,CreatedById`)).json).toMatchObject({ IsPrivate: false, CreatedById: null });
      // the new columns work as columns: written by the service, filtered on, their foreign keys enforced
      const note = await call(current, 'POST', '/Notes', { Text: 'after the upgrade' });
      expect(note.status).toBe(201);
      expect(note.json.CreatedById).not.toBeNull();
      const mine = await call(current, 'GET', `/Notes?$filter=CreatedById eq ${String(note.json.CreatedById)}&$select=Text`);
      expect((mine.json.value as Record<string, unknown>[]).map((n) => n.Text)).toEqual(['after the upgrade']);
      // the added columns carry their foreign keys
      const references = engine.name === 'sqlite'
        ? (await current.db.knex.raw("SELECT \"from\" AS col, \"table\" AS ref FROM pragma_foreign_key_list('Notes')") as { col: string; ref: string }[])
        : (await current.db.knex.raw(`SELECT kcu.column_name AS col, ccu.table_name AS ref FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
            JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
            WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = 'Notes'`) as { rows: { col: string; ref: string }[] }).rows;
      expect(references).toEqual(expect.arrayContaining([{ col: 'CreatedById', ref: 'Users' }, { col: 'EditedById', ref: 'Users' }]));
      // matched by message: better-sqlite3 throws another module registry's Error class in later test files
      const refused = await current.db.knex('Notes').where('Id', String(note.json.Id)).update({ CreatedById: '00000000-0000-4000-8000-000000000001' }).then(() => 'accepted', (err: unknown) => err);
      expect(refused).toMatchObject({ message: expect.stringMatching(/foreign key/i) });
      // the database now records the model it holds
      const [record] = await current.db.knex('odata_model').orderBy('version', 'desc').limit(1).select('version', 'digest');
      expect(record.digest).toBe(current.lifecycle.model.version);
    } finally {
      await current.close();
    }
    // started again: nothing to do, same model version
    const again = await startOn(database);
    try {
      expect(again.lifecycle.version).toBe(current.lifecycle.version);
    } finally {
      await again.close();
    }
  });

  it('stops the start naming a type change and a dropped column that holds data, and changes nothing', async () => {
    const first = await startOn(database, { seedContacts: 20 });
    const versionBefore = first.lifecycle.version;
    await first.close();
    const csdl = JSON.parse(fs.readFileSync(DEFAULT_CSDL_PATH, 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
    csdl.Crm.Contact.FirstName = { $Type: 'Edm.Int32', $Nullable: true };
    delete csdl.Crm.Contact.JobTitle;
    csdl.Crm.Contact.Hobby = { $MaxLength: 50, $Nullable: true };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-model-'));
    const changed = path.join(dir, 'crm.csdl.json');
    fs.writeFileSync(changed, JSON.stringify(csdl));
    try {
      let error: Error | undefined;
      await startOn(database, { modelFile: changed }).then((s) => s.close(), (err: Error) => { error = err; });
      expect(error?.name).toBe('ModelMigrationError');
      expect(error?.message).toContain('Contacts.FirstName: Edm.String → Edm.Int32');
      expect(error?.message).toMatch(/Contacts\.JobTitle: the model no longer has this column, which holds \d+ values/);
      expect(error?.message).toContain('nothing was changed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // nothing applied: not even the safe part (Hobby); the built-in model still opens as it was
    const after = await startOn(database);
    try {
      expect(await after.db.knex.schema.hasColumn('Contacts', 'Hobby')).toBe(false);
      expect(after.lifecycle.version).toBe(versionBefore);
      const withJob = await call(after, 'GET', '/Contacts?$filter=JobTitle ne null&$count=true&$top=0');
      expect(withJob.json['@odata.count']).toBeGreaterThan(0);
    } finally {
      await after.close();
    }
  });

  it('applies safe changes: a longer MaxLength, an index the storage mapping adds, an empty column the model drops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-model-'));
    try {
      const before = writeModel(dir, 'before', (crm) => { crm.Contact.Spare = { $MaxLength: 20, $Nullable: true }; });
      const after = writeModel(dir, 'after', (crm, storage) => {
        (crm.Contact.FirstName as Json).$MaxLength = 300;
        (crm.Contact.FullName as Json).$MaxLength = 401;
        const sets = storage.entitySets as Record<string, Json>;
        sets.Contacts = { ...sets.Contacts, indexes: [...(sets.Contacts.indexes as string[][]), ['JobTitle']] };
      });
      const first = await startOn(database, { modelFile: before, seedContacts: 20 });
      expect(await first.db.knex.schema.hasColumn('Contacts', 'Spare')).toBe(true);
      await first.close();
      const second = await startOn(database, { modelFile: after });
      try {
        expect(await second.db.knex.schema.hasColumn('Contacts', 'Spare')).toBe(false);
        const indexes = engine.name === 'sqlite'
          ? (await second.db.knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Contacts'") as { name: string }[]).map((r) => r.name)
          : (await second.db.knex.raw("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'Contacts'") as { rows: { name: string }[] }).rows.map((r) => r.name);
        expect(indexes).toContain('ix_Contacts_JobTitle');
        const long = 'L'.repeat(250);
        const created = await call(second, 'POST', '/Contacts', { FirstName: long, LastName: 'Long' });
        expect(created.status).toBe(201);
        expect((await call(second, 'GET', `/Contacts(${String(created.json.Id)})?$select=FirstName`)).json.FirstName).toBe(long);
        expect((await call(second, 'GET', '/Contacts/$count')).json).toBe(21);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
