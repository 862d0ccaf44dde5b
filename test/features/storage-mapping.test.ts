/**
 * Storage mapping is data (issue 17, item 2): a set whose key is not `Id` (a string `Vin`), stored in
 * a table the mapping names (`crm_vehicle`, not the set's name), with a derived value and an extra
 * index from the mapping, works through the whole engine without code of its own. The model is the
 * shipped one plus `Vehicle`/`Vehicles` (with `Contact.Vehicles` and `Group.Vehicles`), written at
 * test time to a test-only CSDL file with its mapping beside it and loaded through ODATA_MODEL_FILE
 * on a database made with the shipped model: the migrator adds the table, its foreign key and
 * indexes and the link table at start (issue 17, item 1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withOverrides } from '../../src/config';
import { DEFAULT_CSDL_PATH, readBuiltInModel } from '../../src/edm/load-csdl';
import { startService, type RunningService } from '../../src/server';
import { ENGINES } from '../helpers/engines';

type Json = Record<string, unknown>;

function writeVehicleModel(dir: string): string {
  const { csdl, storage } = readBuiltInModel(DEFAULT_CSDL_PATH);
  const crm = csdl.Crm as Record<string, Json>;
  crm.Vehicle = {
    $Kind: 'EntityType', $Key: ['Vin'],
    Vin: { $MaxLength: 17 },
    Make: { $MaxLength: 50, $Nullable: true },
    Model: { $MaxLength: 50, $Nullable: true },
    Label: { $MaxLength: 101, $Nullable: true, '@Org.OData.Core.V1.Computed': true },
    Year: { $Type: 'Edm.Int32', $Nullable: true },
    DriverId: { $Type: 'Edm.Guid', $Nullable: true },
    Driver: { $Kind: 'NavigationProperty', $Type: 'Crm.Contact', $Nullable: true, $Partner: 'Vehicles', $ReferentialConstraint: { DriverId: 'Id' }, $OnDelete: 'SetNull' },
  };
  crm.Contact.Vehicles = { $Kind: 'NavigationProperty', $Type: 'Crm.Vehicle', $Collection: true, $Partner: 'Driver' };
  // many-to-many: a link table (Group_Vehicle) the migrator adds with the set
  (crm.Vehicle as Json).Groups = { $Kind: 'NavigationProperty', $Type: 'Crm.Group', $Collection: true, $Partner: 'Vehicles' };
  crm.Group.Vehicles = { $Kind: 'NavigationProperty', $Type: 'Crm.Vehicle', $Collection: true, $Partner: 'Groups' };
  const container = crm.Service;
  container.Vehicles = { $Collection: true, $Type: 'Crm.Vehicle', $NavigationPropertyBinding: { Driver: 'Contacts', Groups: 'Groups' } };
  const groups = container.Groups as Json;
  groups.$NavigationPropertyBinding = { ...(groups.$NavigationPropertyBinding as Json), Vehicles: 'Vehicles' };
  const contacts = container.Contacts as Json;
  contacts.$NavigationPropertyBinding = { ...(contacts.$NavigationPropertyBinding as Json), Vehicles: 'Vehicles' };
  const sets = (storage.entitySets ?? {}) as Json;
  const types = (storage.entityTypes ?? {}) as Json;
  storage.entitySets = { ...sets, Vehicles: { table: 'crm_vehicle', indexes: [['Make', 'Model']] } };
  storage.entityTypes = { ...types, 'Crm.Vehicle': { derived: [{ kind: 'join-text', property: 'Label', inputs: ['Make', 'Model'], separator: ' ' }] } };
  const file = path.join(dir, 'vehicles.csdl.json');
  fs.writeFileSync(file, JSON.stringify(csdl));
  fs.writeFileSync(path.join(dir, 'vehicles.storage.json'), JSON.stringify(storage));
  return file;
}

async function call(service: RunningService, method: string, url: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(service.url + url, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as Json : {} };
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let dir: string;
  let database: string;
  let svc: RunningService;
  let contactId: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-vehicles-'));
    database = await engine.freshUrl();
    const settings = {
      auth: 'off', rateLimit: 'off', adminPassword: 'admin-password-for-tests', demoPassword: 'demo-password-for-tests',
      logLevel: 'silent', port: 0, host: '127.0.0.1', seedContacts: 10, database,
    };
    const shipped = await startService(withOverrides(settings));
    await shipped.close();
    svc = await startService(withOverrides({ ...settings, modelFile: writeVehicleModel(dir) }));
    contactId = String(((await call(svc, 'GET', '/Contacts?$top=1&$orderby=Id&$select=Id')).json.value as Json[])[0].Id);
  });
  afterAll(async () => {
    await svc?.close();
    await engine.dispose(database);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adds the set to a database made without it: the mapped table with the mapped index, keyed on Vin, and the link table', async () => {
    expect(await svc.db.knex.schema.hasTable('crm_vehicle')).toBe(true);
    expect(await svc.db.knex.schema.hasTable('Group_Vehicle')).toBe(true);
    expect(await svc.db.knex.schema.hasTable('Vehicles')).toBe(false);
    const indexes = engine.name === 'sqlite'
      ? (await svc.db.knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'crm_vehicle'") as { name: string }[]).map((r) => r.name)
      : (await svc.db.knex.raw("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'crm_vehicle'") as { rows: { name: string }[] }).rows.map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['ix_crm_vehicle_Make_Model', 'ix_crm_vehicle_DriverId']));
  });

  it('creates, reads, filters, expands both ways, updates and deletes by a string key that is not Id', async () => {
    const created = await call(svc, 'POST', '/Vehicles', { Vin: '1HGCM82633A004352', Make: 'Honda', Model: 'Accord', Year: 2003, 'Driver@odata.bind': `Contacts(${contactId})` });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ Vin: '1HGCM82633A004352', Label: 'Honda Accord', DriverId: contactId });
    const second = await call(svc, 'POST', '/Vehicles', { Vin: 'WVWZZZ1JZXW000001', Make: 'Volkswagen', Model: 'Golf' });
    expect(`${second.status} ${JSON.stringify(second.json.error ?? '')}`).toBe('201 ""');
    expect((await call(svc, 'POST', '/Vehicles', { Vin: '1HGCM82633A004352', Make: 'Again' })).status).toBe(409);

    const one = await call(svc, 'GET', "/Vehicles('1HGCM82633A004352')?$expand=Driver($select=Id)");
    expect(one.status).toBe(200);
    expect(one.json['@odata.context']).toContain('$metadata#Vehicles(*,Driver(Id))/$entity');
    expect(one.json).toMatchObject({ Vin: '1HGCM82633A004352', Year: 2003, Driver: { Id: contactId } });
    expect((await call(svc, 'GET', "/Vehicles('NOPE')")).status).toBe(404);
    expect((await call(svc, 'GET', "/Vehicles('1HGCM82633A004352')/Make")).json.value).toBe('Honda');

    const filtered = await call(svc, 'GET', "/Vehicles?$filter=startswith(Label,'Honda') or Driver/Id eq " + contactId + '&$orderby=Vin desc&$select=Vin&$count=true');
    expect(filtered.json).toMatchObject({ '@odata.count': 1, value: [expect.objectContaining({ Vin: '1HGCM82633A004352' })] });
    const ordered = await call(svc, 'GET', '/Vehicles?$orderby=Vin desc&$select=Vin');
    expect((ordered.json.value as Json[]).map((v) => v.Vin)).toEqual(['WVWZZZ1JZXW000001', '1HGCM82633A004352']);
    const paged = await call(svc, 'GET', '/Vehicles?$orderby=Make&$top=1&$select=Vin');
    expect((paged.json.value as Json[]).map((v) => v.Vin)).toEqual(['1HGCM82633A004352']);

    const owner = await call(svc, 'GET', `/Contacts(${contactId})?$select=Id&$expand=Vehicles($select=Vin,Label)`);
    expect(owner.json.Vehicles).toEqual([expect.objectContaining({ Vin: '1HGCM82633A004352', Label: 'Honda Accord' })]);
    expect(((await call(svc, 'GET', `/Contacts(${contactId})/Vehicles?$select=Vin`)).json.value as Json[]).map((v) => v.Vin)).toEqual(['1HGCM82633A004352']);
    const withAny = await call(svc, 'GET', `/Contacts?$filter=Vehicles/any(v: v/Make eq 'Honda')&$select=Id`);
    expect((withAny.json.value as Json[]).map((c) => c.Id)).toEqual([contactId]);

    expect((await call(svc, 'PATCH', "/Vehicles('WVWZZZ1JZXW000001')", { Model: 'Polo' })).status).toBe(204);
    expect((await call(svc, 'GET', "/Vehicles('WVWZZZ1JZXW000001')?$select=Label")).json.Label).toBe('Volkswagen Polo');
    expect((await call(svc, 'PUT', "/Vehicles('WVWZZZ1JZXW000001')/Driver/$ref", { '@odata.id': `Contacts(${contactId})` })).status).toBe(204);
    expect(((await call(svc, 'GET', `/Contacts(${contactId})/Vehicles/$count`)).json)).toBe(2);
    const groupId = String(((await call(svc, 'GET', '/Groups?$top=1&$orderby=Id&$select=Id')).json.value as Json[])[0].Id);
    expect((await call(svc, 'POST', "/Vehicles('1HGCM82633A004352')/Groups/$ref", { '@odata.id': `Groups(${groupId})` })).status).toBe(204);
    const inGroup = await call(svc, 'GET', `/Groups(${groupId})/Vehicles?$select=Vin`);
    expect((inGroup.json.value as Json[]).map((v) => v.Vin)).toEqual(['1HGCM82633A004352']);

    expect((await call(svc, 'DELETE', "/Vehicles('WVWZZZ1JZXW000001')")).status).toBe(204);
    expect((await call(svc, 'GET', "/Vehicles('WVWZZZ1JZXW000001')")).status).toBe(404);
    expect(await svc.db.knex('crm_vehicle').count({ n: '*' })).toEqual([{ n: engine.name === 'postgres' ? '1' : 1 }]);
  });
});
