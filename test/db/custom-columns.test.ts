/**
 * Custom fields' columns are `cf_<Name>` (issue 17, items 2 and 4: storage mapping is data, and no later
 * built-in column can collide with a custom one). Checked in the database's own catalogue: a field
 * added with FieldDefinitions, a custom table's fields, the index of an indexed field; a database
 * whose custom columns are named as their properties (the layout of the release before) has them
 * renamed on start, values and indexes kept; a later model file that declares a property a custom
 * field already took stops the start naming both; a declared property may not take the prefix.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { call, startOn, writeModel } from '../helpers/upgrade-service';
import { ENGINES, type EngineTarget } from '../helpers/engines';
import type { RunningService } from '../../src/server';

type Json = Record<string, unknown>;

async function columnsOf(knex: Knex, engine: EngineTarget, table: string): Promise<string[]> {
  if (engine.name === 'sqlite') return (await knex.raw(`PRAGMA table_info("${table}")`) as { name: string }[]).map((r) => r.name);
  const res = await knex.raw('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?', [table]) as { rows: { name: string }[] };
  return res.rows.map((r) => r.name);
}

async function indexesOf(knex: Knex, engine: EngineTarget, table: string): Promise<string[]> {
  if (engine.name === 'sqlite') return (await knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]) as { name: string }[]).map((r) => r.name);
  return (await knex.raw('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?', [table]) as { rows: { name: string }[] }).rows.map((r) => r.name);
}

/** The error a start with `modelFile` stops with (undefined: it started). */
async function startError(database: string, modelFile: string): Promise<Error | undefined> {
  try {
    await (await startOn(database, { modelFile })).close();
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

async function ok(service: RunningService, method: string, url: string, body?: unknown): Promise<Json> {
  const res = await call(service, method, url, body);
  expect([method, url, res.status]).toEqual([method, url, expect.any(Number)]);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

/** A database with custom fields on Contact (one indexed, one MultiSelect) and a custom table with an indexed field, values set. */
async function withCustomData(database: string): Promise<{ contactId: string; vehicleId: string }> {
  const svc = await startOn(database, { seedContacts: 5 });
  try {
    const picklist = await ok(svc, 'POST', '/Picklists', { Name: 'Sizes', IsLimitedToList: true });
    await ok(svc, 'POST', `/Picklists(${String(picklist.Id)})/Crm.AddItems`, { Items: [{ Value: 'S' }, { Value: 'M' }, { Value: 'L' }] });
    await ok(svc, 'POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Hobby', FieldType: 'Text', Length: 60, IsIndexed: true });
    await ok(svc, 'POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Sizes', FieldType: 'MultiSelect', PicklistId: picklist.Id });
    await ok(svc, 'POST', '/TableDefinitions', {
      Name: 'Vehicles', EntityTypeName: 'Vehicle', MainEntity: 'Contact',
      Fields: [{ Name: 'Plate', FieldType: 'Text', Length: 20, IsIndexed: true }, { Name: 'Seats', FieldType: 'Integer' }],
    });
    const contact = await ok(svc, 'POST', '/Contacts', { FirstName: 'Ada', LastName: 'Lovelace', Hobby: 'Chess', Sizes: ['M', 'L'] });
    const vehicle = await ok(svc, 'POST', '/Vehicles', { Plate: 'HD-1', Seats: 4, 'Contacts@odata.bind': [`Contacts(${String(contact.Id)})`] });
    return { contactId: String(contact.Id), vehicleId: String(vehicle.Id) };
  } finally {
    await svc.close();
  }
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('custom columns on %s', (_name, engine) => {
  let database: string;
  beforeEach(async () => { database = await engine.freshUrl(); });
  afterEach(() => engine.dispose(database));

  it('a custom field is the column cf_<Name> (Contact and a custom table, indexes too); the property keeps its name', async () => {
    const { contactId } = await withCustomData(database);
    const svc = await startOn(database);
    try {
      const contacts = await columnsOf(svc.db.knex, engine, 'Contacts');
      expect(contacts).toEqual(expect.arrayContaining(['cf_Hobby', 'cf_Sizes', 'FirstName', 'Id']));
      expect(contacts).not.toContain('Hobby');
      expect(contacts).not.toContain('Sizes');
      const vehicles = await columnsOf(svc.db.knex, engine, 'ct_Vehicles');
      expect(vehicles.sort()).toEqual(['Created', 'CreatedById', 'Edited', 'EditedById', 'Id', 'cf_Plate', 'cf_Seats'].sort());
      expect(await indexesOf(svc.db.knex, engine, 'Contacts')).toContain('ix_Contacts_cf_Hobby');
      expect(await indexesOf(svc.db.knex, engine, 'ct_Vehicles')).toContain('ix_ct_Vehicles_cf_Plate');
      const [row] = await svc.db.knex('Contacts').where('Id', contactId).select('cf_Hobby', 'cf_Sizes') as Json[];
      expect(row.cf_Hobby).toBe('Chess');
      expect(JSON.parse(String(row.cf_Sizes))).toEqual(['M', 'L']);
      const ada = await call(svc, 'GET', `/Contacts(${contactId})?$select=Hobby,Sizes&$expand=Vehicles($select=Plate,Seats)`);
      expect(ada.json).toMatchObject({ Hobby: 'Chess', Sizes: ['M', 'L'], Vehicles: [{ Plate: 'HD-1', Seats: 4 }] });
    } finally {
      await svc.close();
    }
  });

  it('a database whose custom columns are named as their properties (the release before) has them renamed on start, values and indexes kept', async () => {
    const { contactId, vehicleId } = await withCustomData(database);
    // the layout the release before left: columns and indexes named as the properties, a recorded
    // model without column mapping (another digest, a storage description with the bare names)
    const old = await startOn(database);
    try {
      const knex = old.db.knex;
      await knex.transaction(async (trx) => {
        for (const [table, column] of [['Contacts', 'Hobby'], ['Contacts', 'Sizes'], ['ct_Vehicles', 'Plate'], ['ct_Vehicles', 'Seats']]) {
          await trx.raw('ALTER TABLE ?? RENAME COLUMN ?? TO ??', [table, `cf_${column}`, column]);
        }
        for (const [table, column] of [['Contacts', 'Hobby'], ['ct_Vehicles', 'Plate']]) {
          await trx.raw('DROP INDEX ??', [`ix_${table}_cf_${column}`]);
          await trx.schema.alterTable(table, (t) => { t.index([column], `ix_${table}_${column}`); });
        }
        const [record] = await trx('odata_model').orderBy('version', 'desc').limit(1).select('version', 'storage') as { version: number | string; storage: string }[];
        const unprefixed = record.storage.replace(/"renamedFrom":"[A-Za-z0-9_]+",?/g, '').replace(/,}/g, '}').replace(/cf_(Hobby|Sizes|Plate|Seats)/g, '$1');
        expect(unprefixed).not.toContain('cf_');
        await trx('odata_model').where('version', record.version).update({ digest: 'release-before', storage: unprefixed });
      });
      expect(await columnsOf(knex, engine, 'Contacts')).toContain('Hobby');
    } finally {
      await old.close();
    }

    const current = await startOn(database);
    try {
      const knex = current.db.knex;
      const contacts = await columnsOf(knex, engine, 'Contacts');
      expect(contacts).toEqual(expect.arrayContaining(['cf_Hobby', 'cf_Sizes']));
      expect(contacts).not.toContain('Hobby');
      expect(contacts).not.toContain('Sizes');
      expect((await columnsOf(knex, engine, 'ct_Vehicles')).filter((c) => /Plate|Seats/.test(c)).sort()).toEqual(['cf_Plate', 'cf_Seats']);
      const contactIndexes = await indexesOf(knex, engine, 'Contacts');
      expect(contactIndexes).toContain('ix_Contacts_cf_Hobby');
      expect(contactIndexes).not.toContain('ix_Contacts_Hobby');
      expect(await indexesOf(knex, engine, 'ct_Vehicles')).toContain('ix_ct_Vehicles_cf_Plate');
      // values survived and the fields query as before
      const ada = await call(current, 'GET', `/Contacts(${contactId})?$select=Hobby,Sizes`);
      expect(ada.json).toMatchObject({ Hobby: 'Chess', Sizes: ['M', 'L'] });
      const found = await call(current, 'GET', "/Contacts?$filter=Hobby eq 'Chess' and Sizes/any(s: s eq 'L')&$select=Id&$orderby=Hobby");
      expect(found.json.value).toEqual([expect.objectContaining({ Id: contactId })]);
      const vehicle = await call(current, 'GET', `/Vehicles(${vehicleId})?$select=Plate,Seats`);
      expect(vehicle.json).toMatchObject({ Plate: 'HD-1', Seats: 4 });
      expect((await call(current, 'PATCH', `/Contacts(${contactId})`, { Hobby: 'Go' })).status).toBe(204);
      expect((await call(current, 'GET', "/Contacts?$filter=Hobby eq 'Go'&$select=Id")).json.value).toEqual([expect.objectContaining({ Id: contactId })]);
      // the recorded model now names the new columns, and the next start changes nothing
      const version = current.lifecycle.version;
      await current.close();
      const again = await startOn(database);
      try {
        expect(again.lifecycle.version).toBe(version);
      } finally {
        await again.close();
      }
    } finally {
      await current.close().catch(() => undefined);
    }
  });

  it('fields X and cf_X of the release before: cf_X moves to cf_cf_X before X takes cf_X, each keeping its values', async () => {
    const setup = await startOn(database, { seedContacts: 2 });
    let contactId: string;
    try {
      await ok(setup, 'POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Hobby', FieldType: 'Text', IsIndexed: true });
      await ok(setup, 'POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'cf_Hobby', FieldType: 'Text' });
      contactId = String((await ok(setup, 'POST', '/Contacts', { FirstName: 'Ada', LastName: 'L', Hobby: 'Chess', cf_Hobby: 'Go' })).Id);
      // the release before's layout: each column named as its field, the recorded model without mapping
      await setup.db.knex.transaction(async (trx) => {
        await trx.raw('DROP INDEX ??', ['ix_Contacts_cf_Hobby']);
        await trx.raw('ALTER TABLE ?? RENAME COLUMN ?? TO ??', ['Contacts', 'cf_Hobby', 'Hobby']);
        await trx.raw('ALTER TABLE ?? RENAME COLUMN ?? TO ??', ['Contacts', 'cf_cf_Hobby', 'cf_Hobby']);
        await trx.schema.alterTable('Contacts', (t) => { t.index(['Hobby'], 'ix_Contacts_Hobby'); });
        const [record] = await trx('odata_model').orderBy('version', 'desc').limit(1).select('version', 'storage') as { version: number | string; storage: string }[];
        const tables = JSON.parse(record.storage) as { name: string; columns: Json[]; indexes: { name: string; columns: string[] }[] }[];
        const contacts = tables.find((t) => t.name === 'Contacts')!;
        const bare: Record<string, string> = { cf_Hobby: 'Hobby', cf_cf_Hobby: 'cf_Hobby' };
        contacts.columns = contacts.columns.map(({ renamedFrom: _, ...c }) => ({ ...c, name: bare[String(c.name)] ?? c.name }));
        contacts.indexes = contacts.indexes.map((ix) => (ix.name === 'ix_Contacts_cf_Hobby' ? { name: 'ix_Contacts_Hobby', columns: ['Hobby'] } : ix));
        await trx('odata_model').where('version', record.version).update({ digest: 'release-before', storage: JSON.stringify(tables) });
      });
    } finally {
      await setup.close();
    }
    const current = await startOn(database);
    try {
      const [row] = await current.db.knex('Contacts').where('Id', contactId).select('cf_Hobby', 'cf_cf_Hobby') as Json[];
      expect(row).toEqual({ cf_Hobby: 'Chess', cf_cf_Hobby: 'Go' });
      expect((await columnsOf(current.db.knex, engine, 'Contacts'))).not.toContain('Hobby');
      expect(await indexesOf(current.db.knex, engine, 'Contacts')).toContain('ix_Contacts_cf_Hobby');
      expect((await call(current, 'GET', `/Contacts(${contactId})?$select=Hobby,cf_Hobby`)).json).toMatchObject({ Hobby: 'Chess', cf_Hobby: 'Go' });
    } finally {
      await current.close();
    }
  });

  it('a later model file declaring a property a custom field took stops the start, naming the type and the field; nothing changes', async () => {
    await withCustomData(database);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-model-'));
    try {
      const later = writeModel(dir, 'later', (crm) => { crm.Contact.Hobby = { $Type: 'Edm.String', $MaxLength: 100, $Nullable: true }; });
      let error = await startError(database, later);
      expect(error?.name).toBe('ModelConflictError');
      expect(error?.message).toContain("the custom field Contact.Hobby (FieldDefinitions(EntityType='Contact',Name='Hobby'))");
      expect(error?.message).toContain('Contact already has a member Hobby');
      expect(error?.message).toContain('nothing was changed');
      const laterTable = writeModel(dir, 'later-table', (crm) => { crm.Vehicle = { $Kind: 'EntityType', $Key: ['Id'], Id: { $Type: 'Edm.Guid' } }; });
      error = await startError(database, laterTable);
      expect(error?.name).toBe('ModelConflictError');
      expect(error?.message).toContain("the custom table Vehicles of type Vehicle (TableDefinitions(Name='Vehicles'))");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const svc = await startOn(database);
    try {
      expect((await call(svc, 'GET', '/Contacts?$filter=Hobby eq \'Chess\'&$select=Hobby')).json.value).toEqual([expect.objectContaining({ Hobby: 'Chess' })]);
    } finally {
      await svc.close();
    }
  });

  it('a declared property whose column would start with cf_ is refused when the model loads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-model-'));
    try {
      const named = writeModel(dir, 'named', (crm) => { crm.Contact.cf_Legacy = { $Type: 'Edm.String', $Nullable: true }; });
      await expect(startOn(database, { modelFile: named })).rejects.toMatchObject({ message: expect.stringContaining("Crm.Contact/cf_Legacy: a declared property's column may not start with 'cf_'") });
      const mapped = writeModel(dir, 'mapped', (_crm, storage) => { storage.entityTypes = { ...(storage.entityTypes as Json), 'Crm.Company': { columns: { Name: 'CF_Name' } } }; });
      await expect(startOn(database, { modelFile: mapped })).rejects.toMatchObject({ message: expect.stringContaining('Crm.Company/Name') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
