/**
 * Custom tables (issue 17, item 5) at the engine level: the schema changes `add-table` / `drop-table`
 * through `lifecycle.applySchemaChange` (TableDefinitions is the HTTP route onto them), observed over
 * HTTP: the set `Vehicles` of type `Crm.Vehicle` with `Vehicle.Contacts` ↔ `Contact.Vehicles` gets the
 * whole engine (CRUD with ETags and audit fields, $ref, @odata.bind, deep insert, $expand both ways,
 * any/all, $apply, $batch, Crm.MassUpdate/MassDelete, record access), its tables carry the `ct_`
 * prefix, a restart serves the same model, and a drop removes tables, set and navigations, data included.
 */
import type { SchemaChange } from '../../src/edm/schema-change';
import { ENGINES } from '../helpers/engines';
import { validateCsdlJson, validateCsdlXml } from '../helpers/csdl-validate';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../helpers/service';
import { startService } from '../../src/server';
import { withOverrides } from '../../src/config';

type Json = Record<string, unknown>;

const VEHICLES: SchemaChange = {
  kind: 'add-table', entitySet: 'Vehicles', entityType: 'Vehicle', mainEntity: 'Contact',
  properties: {
    Plate: { $MaxLength: 20 },
    Model: { $MaxLength: 100, $Nullable: true },
    Year: { $Type: 'Edm.Int32', $Nullable: true },
    Price: { $Type: 'Edm.Decimal', $Precision: 18, $Scale: 2, $Nullable: true },
  },
};

describe.each(ENGINES.map((e) => [e.name, e] as const))('custom tables on %s', (_name, engine) => {
  let svc: TestService;
  let contacts: string[];
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> =>
    svc.request(method, path, { headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const create = async (body: Json): Promise<Json> => {
    const res = await send('POST', '/Vehicles', body);
    expect([res.status, res.text]).toEqual([201, expect.any(String)]);
    return res.json<Json>();
  };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 20 });
    await svc.running.lifecycle.applySchemaChange(VEHICLES);
    contacts = (await svc.get('/Contacts?$orderby=Id&$select=Id&$top=3')).json<{ value: { Id: string }[] }>().value.map((c) => c.Id);
  });
  afterAll(async () => { await svc?.close(); });

  it('declares the type, the set, the navigations both ways and the mass operations in $metadata (valid CSDL)', async () => {
    const json = await svc.get('/$metadata?$format=json');
    const schema = json.json<Json>().Crm as Json;
    expect(schema.Vehicle).toMatchObject({
      $Kind: 'EntityType', $Key: ['Id'], Id: { $Type: 'Edm.Guid' },
      Created: { $Type: 'Edm.DateTimeOffset' }, Edited: { $Type: 'Edm.DateTimeOffset' }, CreatedById: { $Type: 'Edm.Guid' }, EditedById: { $Type: 'Edm.Guid' },
      Plate: { $MaxLength: 20 }, Year: { $Type: 'Edm.Int32', $Nullable: true },
      Contacts: { $Kind: 'NavigationProperty', $Type: 'Crm.Contact', $Collection: true, $Partner: 'Vehicles' },
    });
    expect((schema.Contact as Json).Vehicles).toEqual({ $Kind: 'NavigationProperty', $Type: 'Crm.Vehicle', $Collection: true, $Partner: 'Contacts' });
    const container = schema.Service as Json;
    expect(container.Vehicles).toMatchObject({ $Collection: true, $Type: 'Crm.Vehicle', $NavigationPropertyBinding: { Contacts: 'Contacts', CreatedBy: 'Users', EditedBy: 'Users' } });
    expect(((container.Contacts as Json).$NavigationPropertyBinding as Json).Vehicles).toBe('Vehicles');
    const bindings = (name: string) => (schema[name] as { $Parameter: { $Type: string }[] }[]).map((o) => o.$Parameter[0].$Type);
    expect(bindings('MassUpdate')).toContain('Crm.Vehicle');
    expect(bindings('MassDelete')).toContain('Crm.Vehicle');
    expect(validateCsdlJson(json.text).errors).toEqual([]);
    const xml = (await svc.get('/$metadata')).text;
    const result = await validateCsdlXml(xml);
    expect(result.errors).toEqual([]);
    expect(xml).toContain('<EntitySet Name="Vehicles" EntityType="Crm.Vehicle">');
    expect(xml).toContain('<NavigationProperty Name="Vehicles" Type="Collection(Crm.Vehicle)" Partner="Contacts"/>');
    // the service document lists the set
    expect(JSON.stringify((await svc.get('/')).json())).toContain('"url":"Vehicles"');
  });

  it('stores the set and the link table under the ct_ prefix', async () => {
    expect(await svc.knex.schema.hasTable('ct_Vehicles')).toBe(true);
    expect(await svc.knex.schema.hasTable('ct_Contact_Vehicle')).toBe(true);
    expect(await svc.knex.schema.hasTable('Vehicles')).toBe(false);
    expect(Object.keys(await svc.knex('ct_Contact_Vehicle').columnInfo()).sort()).toEqual(['ContactId', 'VehicleId']);
  });

  it('CRUD with ETag, server-set Created/Edited and audit fields', async () => {
    const v = await create({ Plate: 'AB-123', Model: 'Golf', Year: 2019, Price: 12500.5 });
    expect(v).toMatchObject({ Plate: 'AB-123', Model: 'Golf', Year: 2019, Price: 12500.5, '@odata.etag': expect.stringMatching(/^W\//) });
    expect(v.Created).toEqual(expect.any(String));
    expect(v.CreatedById).toEqual(expect.any(String));
    const id = String(v.Id);
    const got = await svc.get(`/Vehicles(${id})`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(v['@odata.etag']);
    expect((await send('PATCH', `/Vehicles(${id})`, { Model: 'Polo' }, { 'If-Match': 'W/"nope"' })).status).toBe(412);
    expect((await send('PATCH', `/Vehicles(${id})`, { Model: 'Polo' }, { 'If-Match': String(v['@odata.etag']) })).status).toBe(204);
    expect((await svc.get(`/Vehicles(${id})?$select=Model`)).json<Json>().Model).toBe('Polo');
    expect((await send('PATCH', `/Vehicles(${id})`, { Plate: 'x'.repeat(21) })).status).toBe(400);
    expect((await send('POST', '/Vehicles', { Model: 'no plate' })).status).toBe(400);
    expect((await send('DELETE', `/Vehicles(${id})`)).status).toBe(204);
    expect((await svc.get(`/Vehicles(${id})`)).status).toBe(404);
  });

  it('links by $ref, @odata.bind and deep insert; $expand both ways; any/all', async () => {
    const [c1, c2] = contacts;
    const v = await create({ Plate: 'LINK-1', Model: 'Tesla', 'Contacts@odata.bind': [`Contacts(${c1})`] });
    const id = String(v.Id);
    expect((await send('POST', `/Vehicles(${id})/Contacts/$ref`, { '@odata.id': `Contacts(${c2})` })).status).toBe(204);
    const expanded = await svc.get(`/Vehicles(${id})?$expand=Contacts($select=Id;$orderby=Id)`);
    expect(expanded.json<{ Contacts: { Id: string }[] }>().Contacts.map((c) => c.Id)).toEqual([c1, c2].sort());
    const refs = await svc.get(`/Contacts(${c2})/Vehicles/$ref`);
    expect(refs.json<{ value: Json[] }>().value).toEqual([{ '@odata.id': expect.stringContaining(`Vehicles(${id})`) }]);
    const deep = await send('POST', '/Contacts', { FirstName: 'Deep', LastName: 'Insert', Vehicles: [{ Plate: 'DEEP-1' }, { Plate: 'DEEP-2' }] });
    expect(deep.status).toBe(201);
    const deepId = String(deep.json<Json>().Id);
    const back = await svc.get(`/Contacts(${deepId})?$expand=Vehicles($select=Plate;$orderby=Plate)&$select=Id`);
    expect(back.json<{ Vehicles: Json[] }>().Vehicles.map((x) => x.Plate)).toEqual(['DEEP-1', 'DEEP-2']);
    const any = await svc.get(`/Contacts?$filter=Vehicles/any(v: v/Plate eq 'LINK-1')&$select=Id&$orderby=Id`);
    expect(any.json<{ value: { Id: string }[] }>().value.map((c) => c.Id)).toEqual([c1, c2].sort());
    const all = await svc.get(`/Contacts?$filter=Vehicles/any() and Vehicles/all(v: startswith(v/Plate, 'DEEP'))&$select=Id`);
    expect(all.json<{ value: { Id: string }[] }>().value.map((c) => c.Id)).toEqual([deepId]);
    const reverse = await svc.get(`/Vehicles?$filter=Contacts/any(c: c/Id eq ${deepId})&$count=true&$select=Plate`);
    expect(reverse.json<Json>()['@odata.count']).toBe(2);
    expect((await svc.get(`/Contacts(${c1})/Vehicles/$count`)).text).toBe('1');
    expect((await send('DELETE', `/Vehicles(${id})/Contacts(${c1})/$ref`)).status).toBe(204);
    expect((await svc.get(`/Contacts(${c1})/Vehicles/$count`)).text).toBe('0');
    // deleting a vehicle removes its links, never the contacts
    expect((await send('DELETE', `/Vehicles(${id})`)).status).toBe(204);
    expect((await svc.get(`/Contacts(${c2})/Vehicles/$count`)).text).toBe('0');
    expect((await svc.get(`/Contacts(${c2})`)).status).toBe(200);
  });

  it('$apply, $batch and the mass operations', async () => {
    for (const [plate, model, year] of [['AP-1', 'Mini', 2020], ['AP-2', 'Mini', 2022], ['AP-3', 'Fiat', 2021]] as const) await create({ Plate: plate, Model: model, Year: year });
    const grouped = await svc.get("/Vehicles?$apply=filter(startswith(Plate,'AP-'))/groupby((Model),aggregate(Year with max as Newest,$count as N))&$orderby=Model");
    expect(grouped.status).toBe(200);
    expect(grouped.json<{ value: Json[] }>().value).toEqual([
      expect.objectContaining({ Model: 'Fiat', Newest: 2021, N: 1 }), expect.objectContaining({ Model: 'Mini', Newest: 2022, N: 2 }),
    ]);
    const batch = await send('POST', '/$batch', {
      requests: [
        { id: '1', atomicityGroup: 'g', method: 'POST', url: 'Vehicles', headers: { 'content-type': 'application/json' }, body: { Plate: 'BATCH-1' } },
        { id: '2', atomicityGroup: 'g', dependsOn: ['1'], method: 'POST', url: '$1/Contacts/$ref', headers: { 'content-type': 'application/json' }, body: { '@odata.id': `Contacts(${contacts[0]})` } },
        { id: '3', method: 'GET', url: "Vehicles?$filter=Plate eq 'BATCH-1'&$expand=Contacts($select=Id)" },
      ],
    });
    expect(batch.status).toBe(200);
    const responses = batch.json<{ responses: { id: string; status: number; body?: Json }[] }>().responses;
    expect(responses.map((r) => [r.id, r.status])).toEqual([['1', 201], ['2', 204], ['3', 200]]);
    expect((responses[2].body as { value: { Contacts: Json[] }[] }).value[0].Contacts).toEqual([expect.objectContaining({ Id: contacts[0] })]);
    const ids = (await svc.get("/Vehicles?$filter=startswith(Plate,'AP-')&$select=Id")).json<{ value: { Id: string }[] }>().value.map((v) => v.Id);
    const mass = await send('POST', '/Vehicles/Crm.MassUpdate', { Ids: ids, Changes: { Model: 'Mass' } });
    expect(mass.status).toBe(200);
    expect((await svc.get("/Vehicles/$count?$filter=Model eq 'Mass'")).text).toBe('3');
    expect((await send('POST', '/Vehicles/Crm.MassDelete', { Ids: ids })).status).toBe(204);
    expect((await svc.get("/Vehicles/$count?$filter=startswith(Plate,'AP-')")).text).toBe('0');
  });

  it('record access: custom rows have no owner, so every role reads them and the role rules decide writes; private contacts stay hidden behind them', async () => {
    const standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    const restricted = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
    const browse = await bearerFor(svc.url, 'demo.browse', TEST_DEMO_PASSWORD);
    const hidden = await send('POST', '/Contacts', { FirstName: 'Hidden', LastName: 'Owner', IsPrivate: true });
    const hiddenId = String(hidden.json<Json>().Id);
    const v = await create({ Plate: 'ACCESS-1', 'Contacts@odata.bind': [`Contacts(${hiddenId})`, `Contacts(${contacts[0]})`] });
    const asStandard = await svc.get(`/Vehicles(${String(v.Id)})?$expand=Contacts($select=Id)`, standard);
    expect(asStandard.status).toBe(200);
    expect(asStandard.json<{ Contacts: { Id: string }[] }>().Contacts.map((c) => c.Id)).toEqual([contacts[0]]);
    expect((await svc.get(`/Vehicles(${String(v.Id)})?$expand=Contacts($select=Id)`)).json<{ Contacts: Json[] }>().Contacts).toHaveLength(2);
    expect((await svc.get(`/Vehicles(${String(v.Id)})`, browse)).status).toBe(200);
    expect((await send('POST', '/Vehicles', { Plate: 'STD-1' }, standard)).status).toBe(201);
    expect((await send('PATCH', `/Vehicles(${String(v.Id)})`, { Model: 'by standard' }, standard)).status).toBe(204);
    expect((await send('POST', '/Vehicles', { Plate: 'BROWSE-1' }, browse)).status).toBe(403);
    expect((await send('POST', '/Vehicles', { Plate: 'RESTRICTED-1' }, restricted)).status).toBe(403);
  });

  it('refuses a table change that does not fit the model (nothing created)', async () => {
    const add = (entitySet: string, entityType: string, extra: Partial<Extract<SchemaChange, { kind: 'add-table' }>> = {}): Promise<unknown> =>
      svc.running.lifecycle.applySchemaChange({ kind: 'add-table', entitySet, entityType, properties: {}, ...extra });
    await expect(add('contacts', 'Thing')).rejects.toMatchObject({ message: 'the service already has Contacts', target: 'Name' });
    await expect(add('Things', 'tag')).rejects.toMatchObject({ message: 'the schema already has Crm.Tag', target: 'EntityTypeName' });
    await expect(add('9Things', 'Thing')).rejects.toMatchObject({ target: 'Name' });
    await expect(add('Things', 'Thing', { properties: { created: { $Nullable: true } } })).rejects.toMatchObject({ message: 'Thing already has a member Created' });
    await expect(add('Categories', 'Category', { mainEntity: 'Contact' })).rejects.toMatchObject({ message: 'Contact already has a member Categories', target: 'Name' });
    await expect(svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: 'Contacts' })).rejects.toMatchObject({ message: 'Contacts is built in and cannot be dropped' });
    await expect(svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: 'Nothing' })).rejects.toMatchObject({ message: 'no entity set Nothing' });
    expect(await svc.knex.schema.hasTable('ct_Things')).toBe(false);
    expect((await svc.get('/Things')).status).toBe(404);
  });

  it('a table without a main entity and one on Groups (beside dynamic membership); a restart serves the same model and data', async () => {
    await svc.running.lifecycle.applySchemaChange({ kind: 'add-table', entitySet: 'Assets', entityType: 'Asset', properties: { Label: { $MaxLength: 40, $Nullable: true } } });
    await svc.running.lifecycle.applySchemaChange({ kind: 'add-table', entitySet: 'Projects', entityType: 'Project', mainEntity: 'Group', properties: { Title: { $Nullable: true } } });
    expect((await send('POST', '/Assets', { Label: 'laptop' })).status).toBe(201);
    const group = String((await svc.get('/Groups?$top=1&$select=Id')).json<{ value: { Id: string }[] }>().value[0].Id);
    const project = await send('POST', '/Projects', { Title: 'Launch', 'Groups@odata.bind': [`Groups(${group})`] });
    expect(project.status).toBe(201);
    expect((await svc.get(`/Groups(${group})/Projects?$select=Title`)).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Title: 'Launch' })]);
    expect((await svc.get(`/Groups(${group})?$expand=Contacts($top=1;$select=Id),Projects($select=Title)`)).status).toBe(200);
    const before = await svc.get('/$metadata');
    const again = await startService(withOverrides({ adminPassword: 'admin-password-for-tests', demoPassword: TEST_DEMO_PASSWORD, rateLimit: 'off', auth: 'off', logLevel: 'silent', port: 0, host: '127.0.0.1', seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: 0, database: svc.database! }));
    try {
      const restarted = await fetch(`${again.url}/$metadata`);
      expect(restarted.headers.get('etag')).toBe(before.headers.get('etag'));
      expect(await restarted.text()).toBe(before.text);
      const assets = await (await fetch(`${again.url}/Assets?$select=Label`)).json() as { value: Json[] };
      expect(assets.value).toEqual([expect.objectContaining({ Label: 'laptop' })]);
    } finally {
      await again.close();
    }
  });

  it('a failure between the DDL and the definition rows leaves no table; another process serves a new table within a second', async () => {
    const boats: SchemaChange = { kind: 'add-table', entitySet: 'Boats', entityType: 'Boat', mainEntity: 'Company', properties: { Hull: { $MaxLength: 20, $Nullable: true } } };
    const etag = (await svc.get('/$metadata')).headers.get('etag');
    await expect(svc.running.lifecycle.applySchemaChange(boats, { afterDdl: () => { throw new Error('injected failure after the DDL'); } }))
      .rejects.toMatchObject({ message: 'injected failure after the DDL' });
    expect(await svc.knex.schema.hasTable('ct_Boats')).toBe(false);
    expect(await svc.knex.schema.hasTable('ct_Boat_Company')).toBe(false);
    expect((await svc.get('/$metadata')).headers.get('etag')).toBe(etag);
    expect((await svc.get('/Boats')).status).toBe(404);
    const other = await startService(withOverrides({ adminPassword: 'admin-password-for-tests', demoPassword: TEST_DEMO_PASSWORD, rateLimit: 'off', auth: 'off', logLevel: 'silent', port: 0, host: '127.0.0.1', seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: engine.name === 'postgres' ? 0 : 250, database: svc.database! }));
    try {
      expect((await fetch(`${other.url}/Boats`)).status).toBe(404);
      await svc.running.lifecycle.applySchemaChange(boats);
      const changedAt = Date.now();
      let status = 404;
      while (status !== 200 && Date.now() - changedAt < 3000) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status = (await fetch(`${other.url}/Boats`)).status;
      }
      expect(status).toBe(200);
      expect(Date.now() - changedAt).toBeLessThan(1000);
      const created = await fetch(`${other.url}/Boats`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Hull: 'steel' }) });
      expect(created.status).toBe(201);
      expect((await svc.get("/Boats?$filter=Hull eq 'steel'&$select=Hull")).json<{ value: Json[] }>().value).toHaveLength(1);
      await svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: 'Boats' });
      const droppedAt = Date.now();
      while (status !== 404 && Date.now() - droppedAt < 3000) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status = (await fetch(`${other.url}/Boats`)).status;
      }
      expect(status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('names of 64 characters fit PostgreSQL identifiers (prefixed table names shortened with a digest)', async () => {
    const setName = `L${'x'.repeat(62)}s`;
    const typeName = `L${'x'.repeat(62)}t`;
    await svc.running.lifecycle.applySchemaChange({ kind: 'add-table', entitySet: setName, entityType: typeName, mainEntity: 'Company', properties: { Note: { $Nullable: true } } });
    const company = String((await svc.get('/Companies?$top=1&$select=Id')).json<{ value: { Id: string }[] }>().value[0].Id);
    const row = await send('POST', `/${setName}`, { Note: 'long', 'Companies@odata.bind': [`Companies(${company})`] });
    expect(row.status).toBe(201);
    expect((await svc.get(`/Companies(${company})/${setName}?$select=Note`)).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Note: 'long' })]);
    const tables = (svc.running.lifecycle.model.storageMapping as { entitySets: Record<string, { table: string }>; linkTables: Record<string, { table: string }> });
    const table = tables.entitySets[setName].table;
    expect(table.length).toBeLessThanOrEqual(63);
    expect(table.startsWith('ct_Lxxx')).toBe(true);
    expect(await svc.knex.schema.hasTable(table)).toBe(true);
    await svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: setName });
    expect(await svc.knex.schema.hasTable(table)).toBe(false);
  });

  it('a drop removes tables, link table, set and navigations, data included', async () => {
    expect(Number((await svc.get('/Vehicles/$count')).text)).toBeGreaterThan(0);
    await svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: 'Vehicles' });
    expect(await svc.knex.schema.hasTable('ct_Vehicles')).toBe(false);
    expect(await svc.knex.schema.hasTable('ct_Contact_Vehicle')).toBe(false);
    expect((await svc.get('/Vehicles')).status).toBe(404);
    expect((await svc.get('/Contacts?$expand=Vehicles')).status).toBe(400);
    const schema = (await svc.get('/$metadata?$format=json')).json<Json>().Crm as Json;
    expect(schema).not.toHaveProperty('Vehicle');
    expect(schema.Contact).not.toHaveProperty('Vehicles');
    expect(((schema.Service as Json).Contacts as { $NavigationPropertyBinding: Json }).$NavigationPropertyBinding).not.toHaveProperty('Vehicles');
    expect((schema.MassUpdate as { $Parameter: { $Type: string }[] }[]).map((o) => o.$Parameter[0].$Type)).not.toContain('Crm.Vehicle');
    expect(validateCsdlJson((await svc.get('/$metadata?$format=json')).text).errors).toEqual([]);
    // the name is free again, for a new and empty table
    await svc.running.lifecycle.applySchemaChange(VEHICLES);
    expect((await svc.get('/Vehicles/$count')).text).toBe('0');
    await svc.running.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: 'Projects' });
    expect(await svc.knex.schema.hasTable('ct_Group_Project')).toBe(false);
    expect((await svc.get('/Groups?$top=1&$expand=Contacts($top=1)')).status).toBe(200);
  });
});
