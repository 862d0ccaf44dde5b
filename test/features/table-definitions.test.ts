/**
 * TableDefinitions over HTTP (issue 17, items 5 and 6): POST with deep-inserted Fields creates the
 * set, its type, table and link table (FieldDefinition rows written with it); PATCH changes
 * DisplayName only; DELETE drops everything, data included; names are checked (400 naming the
 * clash, nothing created); Administrators only; 501 inside a $batch change set. The `$metadata`
 * fragment of the Vehicles set is validated against the CSDL schemas and written to test/output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withOverrides } from '../../src/config';
import { startService } from '../../src/server';
import { validateCsdlJson, validateCsdlXml } from '../helpers/csdl-validate';
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_ADMIN, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../helpers/service';

type Json = Record<string, unknown>;

const VEHICLES = {
  Name: 'Vehicles', EntityTypeName: 'Vehicle', DisplayName: 'Vehicles', MainEntity: 'Contact',
  Fields: [
    { Name: 'Plate', FieldType: 'Text', Length: 20, IsNullable: false, DisplayName: 'Licence plate', IsIndexed: true },
    { Name: 'Model', FieldType: 'Text' },
    { Name: 'Year', FieldType: 'Integer' },
    { Name: 'Price', FieldType: 'Currency' },
  ],
};

describe.each(ENGINES.map((e) => [e.name, e] as const))('TableDefinitions on %s', (engineName, engine) => {
  let svc: TestService;
  let tableId: string;
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> =>
    svc.request(method, path, { headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const tableCount = async () => Number((await svc.get('/TableDefinitions/$count')).text);
  const indexesOf = async (table: string): Promise<string[]> => (engine.name === 'sqlite'
    ? await svc.knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE 'ix_%'", [table]) as { name: string }[]
    : (await svc.knex.raw("SELECT indexname AS name FROM pg_indexes WHERE tablename = ? AND indexname LIKE 'ix_%'", [table]) as { rows: { name: string }[] }).rows).map((r) => r.name).sort();

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 10 }); });
  afterAll(async () => { await svc?.close(); });

  it('POST with Fields creates the table, the set, the link table and the field rows', async () => {
    const res = await send('POST', '/TableDefinitions', VEHICLES);
    expect([res.status, res.text]).toEqual([201, expect.any(String)]);
    const body = res.json<Json>();
    expect(body).toMatchObject({ Name: 'Vehicles', EntityTypeName: 'Vehicle', DisplayName: 'Vehicles', MainEntity: 'Contact' });
    tableId = String(body.Id);
    expect(res.headers.get('location')).toMatch(new RegExp(`/TableDefinitions\\(${tableId}\\)$`));
    expect(await svc.knex.schema.hasTable('ct_Vehicles')).toBe(true);
    expect(await svc.knex.schema.hasTable('ct_Contact_Vehicle')).toBe(true);
    const fields = (await svc.get(`/TableDefinitions(${tableId})/Fields?$select=Name,IsCustom,FieldType,Length,Precision,Scale,IsNullable,DisplayName,TableDefinitionId&$orderby=Name`)).json<{ value: Json[] }>().value;
    expect(fields.map((f) => [f.Name, f.IsCustom])).toEqual([
      ['Created', false], ['CreatedById', false], ['Edited', false], ['EditedById', false], ['Id', false],
      ['Model', true], ['Plate', true], ['Price', true], ['Year', true],
    ]);
    expect(fields.find((f) => f.Name === 'Plate')).toMatchObject({ FieldType: 'Text', Length: 20, IsNullable: false, DisplayName: 'Licence plate', TableDefinitionId: tableId });
    // IsIndexed: the column gets an index of its own (the link table has its own)
    expect(await indexesOf('ct_Vehicles')).toEqual(['ix_ct_Vehicles_CreatedById', 'ix_ct_Vehicles_EditedById', 'ix_ct_Vehicles_cf_Plate']);
    expect((await svc.get("/FieldDefinitions?$filter=EntityType eq 'Vehicle' and Name eq 'Plate'&$select=IsIndexed")).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ IsIndexed: true })]);
    expect(fields.find((f) => f.Name === 'Price')).toMatchObject({ FieldType: 'Currency', Precision: 18, Scale: 2 });
    expect((await svc.get("/TableDefinitions(Name='Vehicles')?$select=Id")).json<Json>().Id).toBe(tableId);
    const byAlternateKey = await svc.get("/FieldDefinitions?$filter=EntityType eq 'Vehicle' and Name eq 'Year'&$expand=TableDefinition($select=Name)");
    expect(byAlternateKey.json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ FieldType: 'Integer', TableDefinition: expect.objectContaining({ Name: 'Vehicles' }) })]);
  });

  it('$metadata declares the Vehicles set (valid against the CSDL schemas)', async () => {
    const xml = (await svc.get('/$metadata')).text;
    const validation = await validateCsdlXml(xml);
    expect(validation.errors).toEqual([]);
    const json = (await svc.get('/$metadata?$format=json')).text;
    expect(validateCsdlJson(json).errors).toEqual([]);
    const typeXml = /<EntityType Name="Vehicle">[\s\S]*?<\/EntityType>/.exec(xml)?.[0] ?? '';
    const setXml = /<EntitySet Name="Vehicles"[\s\S]*?<\/EntitySet>/.exec(xml)?.[0] ?? '';
    const navXml = /<NavigationProperty Name="Vehicles"[^>]*\/>/.exec(xml)?.[0] ?? '';
    expect(typeXml).toContain('<Property Name="Plate" Type="Edm.String" Nullable="false" MaxLength="20"/>');
    expect(typeXml).toContain('<Property Name="Price" Type="Edm.Decimal" Precision="18" Scale="2"/>');
    expect(typeXml).toContain('<NavigationProperty Name="Contacts" Type="Collection(Crm.Contact)" Partner="Vehicles"/>');
    expect(setXml).toContain('<NavigationPropertyBinding Path="Contacts" Target="Contacts"/>');
    expect(navXml).toBe('<NavigationProperty Name="Vehicles" Type="Collection(Crm.Contact)" Partner="Contacts"/>'.replace('Collection(Crm.Contact)', 'Collection(Crm.Vehicle)'));
    mkdirSync(join(__dirname, '../output'), { recursive: true });
    writeFileSync(join(__dirname, `../output/vehicles-metadata-${engineName}.xml`), `${typeXml}\n${setXml}\n<!-- Crm.Contact -->\n${navXml}\n`);
  });

  it('the new set is served at once: writes, links, $expand both ways; fields added later through FieldDefinitions', async () => {
    const contact = String((await svc.get('/Contacts?$top=1&$select=Id')).json<{ value: { Id: string }[] }>().value[0].Id);
    const v = await send('POST', '/Vehicles', { Plate: 'HD-1', Year: 2020, Price: 9999.99, 'Contacts@odata.bind': [`Contacts(${contact})`] });
    expect(v.status).toBe(201);
    expect((await svc.get(`/Contacts(${contact})?$expand=Vehicles($select=Plate)&$select=Id`)).json<{ Vehicles: Json[] }>().Vehicles).toEqual([expect.objectContaining({ Plate: 'HD-1' })]);
    expect((await send('POST', '/Vehicles', { Year: 2020 })).status).toBe(400);
    expect((await svc.get('/Vehicles?$search=HD&$select=Plate')).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Plate: 'HD-1' })]);
    const field = await send('POST', '/FieldDefinitions', { EntityType: 'Vehicle', Name: 'Colour', FieldType: 'Text', Length: 30 });
    expect(field.status).toBe(201);
    // a field added later to a custom table's type belongs to that table like its deep-inserted ones
    const tableId = String((await svc.get("/TableDefinitions(Name='Vehicles')?$select=Id")).json<Json>().Id);
    expect(field.json<Json>().TableDefinitionId).toBe(tableId);
    const colour = await svc.get("/FieldDefinitions(EntityType='Vehicle',Name='Colour')?$select=TableDefinitionId&$expand=TableDefinition($select=Name)");
    expect(colour.json<Json>()).toMatchObject({ TableDefinitionId: tableId, TableDefinition: { Name: 'Vehicles' } });
    expect((await svc.get(`/TableDefinitions(${tableId})/Fields?$filter=Name eq 'Colour'&$select=Name`)).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Name: 'Colour' })]);
    expect((await svc.get("/FieldDefinitions(EntityType='Contact',Name='FirstName')?$select=TableDefinitionId")).json<Json>().TableDefinitionId).toBeNull();
    expect((await send('PATCH', `/Vehicles(${String(v.json<Json>().Id)})`, { Colour: 'red' })).status).toBe(204);
    expect((await svc.get("/Vehicles?$filter=Colour eq 'red'&$select=Plate")).json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Plate: 'HD-1' })]);
    // a table's field is dropped through FieldDefinitions like any custom field (column and values)
    expect((await send('DELETE', "/FieldDefinitions(EntityType='Vehicle',Name='Colour')")).status).toBe(204);
    expect((await svc.get('/Vehicles?$select=Colour')).status).toBe(400);
    expect(Object.keys(await svc.knex('ct_Vehicles').columnInfo())).not.toContain('cf_Colour');
  });

  it('PATCH changes DisplayName only (400 otherwise)', async () => {
    expect((await send('PATCH', `/TableDefinitions(${tableId})`, { DisplayName: 'Cars' })).status).toBe(204);
    expect((await svc.get(`/TableDefinitions(${tableId})?$select=DisplayName`)).json<Json>().DisplayName).toBe('Cars');
    expect((await send('PATCH', `/TableDefinitions(${tableId})`, { DisplayName: 'Cars', Name: 'Vehicles' })).status).toBe(204);
    // the alternate key addresses the definition for writes too
    expect((await send('PATCH', "/TableDefinitions(Name='Vehicles')", { DisplayName: 'Autos' })).status).toBe(204);
    expect((await svc.get("/TableDefinitions(Name='Vehicles')?$select=DisplayName")).json<Json>().DisplayName).toBe('Autos');
    expect((await send('PATCH', "/TableDefinitions(Name='Nothing')", { DisplayName: 'x' })).status).toBe(404);
    expect((await send('PATCH', `/TableDefinitions(${tableId})`, { DisplayName: 'Cars' })).status).toBe(204);
    for (const [member, value] of [['Name', 'Cars'], ['EntityTypeName', 'Car'], ['MainEntity', 'Company'], ['Fields', []]] as const) {
      const res = await send('PATCH', `/TableDefinitions(${tableId})`, { [member]: value });
      expect([member, res.status, res.json<{ error: Json }>().error.target]).toEqual([member, 400, member]);
    }
    expect((await svc.get(`/TableDefinitions(${tableId})?$select=Name,DisplayName`)).json<Json>()).toMatchObject({ Name: 'Vehicles', DisplayName: 'Cars' });
  });

  it('refuses names that clash or break the rule, and bad fields (400 naming them; nothing created)', async () => {
    const before = await tableCount();
    const cases: [Json, string, RegExp][] = [
      [{ Name: 'contacts', EntityTypeName: 'Thing' }, 'Name', /entity set Contacts/],
      [{ Name: 'Things', EntityTypeName: 'contact' }, 'EntityTypeName', /entity type Contact/],
      [{ Name: 'Things', EntityTypeName: 'Vehicle' }, 'EntityTypeName', /entity type Vehicle/],
      [{ Name: 'Audit', EntityTypeName: 'Thing' }, 'Name', /reserved name Audit/],
      [{ Name: '1Things', EntityTypeName: 'Thing' }, 'Name', /not a valid name/],
      [{ Name: 'Things', EntityTypeName: 'Thing', MainEntity: 'User' }, 'MainEntity', /MainEntity must be one of/],
      [{ Name: 'Categories', EntityTypeName: 'Category', MainEntity: 'Contact' }, 'Name', /Contact already has a member Categories/],
      [{ Name: 'Things', EntityTypeName: 'Thing', Fields: [{ Name: 'Created', FieldType: 'Text' }] }, 'Fields/0/Name', /every custom table has/],
      [{ Name: 'Things', EntityTypeName: 'Thing', Fields: [{ Name: 'A', FieldType: 'Text' }, { Name: 'a', FieldType: 'Text' }] }, 'Fields/1/Name', /given twice/],
      [{ Name: 'Things', EntityTypeName: 'Thing', Fields: [{ Name: 'A', FieldType: 'Blob' }] }, 'Fields/0/FieldType', /FieldType must be one of/],
      [{ Name: 'Things', EntityTypeName: 'Thing', Fields: [{ Name: 'A', FieldType: 'Text', Length: 5000 }] }, 'Fields/0/Length', /Length/],
      [{ Name: 'Things', EntityTypeName: 'Thing', Extra: 1 }, 'Extra', /no writable member/],
    ];
    for (const [body, target, message] of cases) {
      const res = await send('POST', '/TableDefinitions', body);
      const error = res.json<{ error: { target: string; message: string } }>().error;
      expect([JSON.stringify(body), res.status, error.target]).toEqual([JSON.stringify(body), 400, target]);
      expect(error.message).toMatch(message);
    }
    expect(await tableCount()).toBe(before);
    expect(await svc.knex.schema.hasTable('ct_Things')).toBe(false);
    expect((await svc.get('/Things')).status).toBe(404);
  });

  it('Administrators only; 501 inside a $batch change set', async () => {
    const manager = await bearerFor(svc.url, 'demo.manager', TEST_DEMO_PASSWORD);
    expect((await send('POST', '/TableDefinitions', { Name: 'Boats', EntityTypeName: 'Boat' }, manager)).status).toBe(403);
    expect((await send('PATCH', `/TableDefinitions(${tableId})`, { DisplayName: 'x' }, manager)).status).toBe(403);
    expect((await send('DELETE', `/TableDefinitions(${tableId})`, undefined, manager)).status).toBe(403);
    expect((await svc.get('/TableDefinitions?$select=Name', manager)).status).toBe(200);
    const batch = await send('POST', '/$batch', { requests: [{ id: '1', atomicityGroup: 'g', method: 'POST', url: 'TableDefinitions', headers: { 'content-type': 'application/json' }, body: { Name: 'Boats', EntityTypeName: 'Boat' } }] });
    expect(batch.json<{ responses: { status: number }[] }>().responses[0].status).toBe(501);
    expect(await svc.knex.schema.hasTable('ct_Boats')).toBe(false);
    // definition sets have no mass operations: their writes are schema changes
    const mass = await send('POST', '/TableDefinitions/Crm.MassDelete', { Ids: [tableId] });
    expect(mass.status).toBeGreaterThanOrEqual(400);
    expect(mass.status).toBeLessThan(500);
    expect((await svc.get(`/TableDefinitions(${tableId})`)).status).toBe(200);
  });

  it('a restart serves the same model and rows; DELETE drops table, link table, set, navigations and rows, data included', async () => {
    const metadata = await svc.get('/$metadata');
    const fieldRows = (await svc.get('/FieldDefinitions/$count')).text;
    // as if the built-in model had changed (an upgrade): the start migrates again and syncs the declared field rows
    const [{ version }] = await svc.knex('odata_model').max({ version: 'version' }) as { version: number }[];
    expect(await svc.knex('odata_model').where('version', version).update({ digest: 'before-an-upgrade' })).toBe(1);
    const again = await startService(withOverrides({ adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, rateLimit: 'off', auth: 'off', logLevel: 'silent', port: 0, host: '127.0.0.1', seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: 0, database: svc.database! }));
    try {
      const restarted = await fetch(`${again.url}/$metadata`);
      expect(restarted.headers.get('etag')).toBe(metadata.headers.get('etag'));
      expect(await (await fetch(`${again.url}/FieldDefinitions/$count`)).text()).toBe(fieldRows);
    } finally {
      await again.close();
    }
    expect(Number((await svc.get('/Vehicles/$count')).text)).toBeGreaterThan(0);
    // a group whose Criteria uses the table's navigation keeps it (409 naming the group) until the Criteria changes
    const group = await send('POST', '/Groups', { Name: 'Drivers', Criteria: 'Vehicles/any()' });
    expect(group.status).toBe(201);
    const refused = await send('DELETE', `/TableDefinitions(${tableId})`);
    expect([refused.status, refused.json<{ error: Json }>().error]).toEqual([409, expect.objectContaining({ target: 'Criteria', message: expect.stringContaining("'Drivers'") })]);
    expect(await svc.knex.schema.hasTable('ct_Vehicles')).toBe(true);
    expect((await svc.get('/Vehicles/$count')).status).toBe(200);
    expect((await send('PATCH', `/Groups(${String(group.json<Json>().Id)})`, { Criteria: null })).status).toBe(204);
    expect((await send('DELETE', `/TableDefinitions(${tableId})`)).status).toBe(204);
    expect((await svc.get(`/TableDefinitions(${tableId})`)).status).toBe(404);
    expect((await svc.get('/Vehicles')).status).toBe(404);
    expect((await svc.get('/Contacts?$expand=Vehicles')).status).toBe(400);
    expect(await svc.knex.schema.hasTable('ct_Vehicles')).toBe(false);
    expect(await svc.knex.schema.hasTable('ct_Contact_Vehicle')).toBe(false);
    expect((await svc.get("/FieldDefinitions/$count?$filter=EntityType eq 'Vehicle'")).text).toBe('0');
    expect(((await svc.get('/$metadata?$format=json')).json<{ Crm: Json }>().Crm.Contact as Json)).not.toHaveProperty('Vehicles');
    // the names are free again
    const recreated = await send('POST', '/TableDefinitions', { Name: 'Vehicles', EntityTypeName: 'Vehicle' });
    expect(recreated.status).toBe(201);
    expect((await svc.get('/Vehicles/$count')).text).toBe('0');
  });
});
