/**
 * FieldDefinitions over HTTP (issue 17, items 4 and 6): every declared property is a row; POST adds
 * a custom field (property, column) served at once; PATCH/DELETE rules; names; Administrators only;
 * a custom field works as any property in queries and writes.
 */
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';

type Json = Record<string, unknown>;

describe.each(ENGINES.map((e) => [e.name, e] as const))('FieldDefinitions on %s', (_name, engine) => {
  let svc: TestService;
  let contactId: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 30 });
    contactId = String((await svc.get('/Contacts?$top=1&$orderby=Id&$select=Id')).json<{ value: Json[] }>().value[0].Id);
  });
  afterAll(async () => { await svc?.close(); });

  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    svc.request(method, path, { headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const contactType = async (): Promise<Json> => ((await svc.get('/$metadata?$format=json')).json<Json>().Crm as Json).Contact as Json;

  it('lists every declared property as a row (IsCustom false), by Id and by alternate key', async () => {
    const rows = (await svc.get("/FieldDefinitions?$filter=EntityType eq 'Contact'&$select=Name,FieldType,Length,IsCustom&$orderby=Name&$top=100")).json<{ value: Json[] }>().value;
    const byName = new Map(rows.map((r) => [r.Name, r]));
    expect(byName.get('FirstName')).toMatchObject({ FieldType: 'Text', IsCustom: false });
    expect(byName.get('BirthDate')).toMatchObject({ FieldType: 'Date', IsCustom: false });
    expect(byName.get('Categories')).toMatchObject({ FieldType: 'MultiSelect' });
    expect(byName.get('Id')).toMatchObject({ FieldType: null });
    const one = await svc.get("/FieldDefinitions(EntityType='Contact',Name='LastName')");
    expect(one.status).toBe(200);
    const again = await svc.get(`/FieldDefinitions(${String(one.json<Json>().Id)})`);
    expect(again.json<Json>().Name).toBe('LastName');
  });

  it('a built-in row changes its DisplayName only; DELETE → 403', async () => {
    const path = "/FieldDefinitions(EntityType='Contact',Name='JobTitle')";
    expect((await send('PATCH', path, { DisplayName: 'Position' })).status).toBe(204);
    expect((await svc.get(path)).json<Json>().DisplayName).toBe('Position');
    const other = await send('PATCH', path, { Length: 500 });
    expect(other.status).toBe(403);
    expect(other.json<Json>()).toMatchObject({ error: { code: 'FORBIDDEN', target: 'Length' } });
    expect((await send('DELETE', path)).status).toBe(403);
  });

  it('POST adds a Text field: 201 with the row, served at once in $metadata, queries and writes', async () => {
    const created = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Hobby', DisplayName: 'Hobby', FieldType: 'Text', Length: 40 });
    expect(created.status).toBe(201);
    expect(created.json<Json>()).toMatchObject({ EntityType: 'Contact', Name: 'Hobby', FieldType: 'Text', Length: 40, IsNullable: true, IsIndexed: false, IsCustom: true });
    expect(created.headers.get('location')).toMatch(/\/FieldDefinitions\([0-9a-f-]{36}\)$/);
    expect((await contactType()).Hobby).toEqual({ $MaxLength: 40, $Nullable: true });
    expect((await send('PATCH', `/Contacts(${contactId})`, { Hobby: 'Chess' })).status).toBe(204);
    const found = await svc.get("/Contacts?$filter=Hobby eq 'Chess'&$select=Id,Hobby&$orderby=Hobby");
    expect(found.json<{ value: Json[] }>().value).toEqual([expect.objectContaining({ Id: contactId, Hobby: 'Chess' })]);
    expect((await send('PATCH', `/Contacts(${contactId})`, { Hobby: 'x'.repeat(41) })).status).toBe(400);
  });

  it('names: rule, clashes ignoring case (property, navigation, set, type, reserved) → 400 naming the clash; nothing created', async () => {
    const cases: [string, RegExp][] = [
      ['9Lives', /not a valid name/], ['hobby', /property Contact\.Hobby/], ['firstname', /property Contact\.FirstName/],
      ['company', /navigation property Contact\.Company/], ['Contacts', /entity set Contacts/], ['Address', /complex type Address/],
      ['priority', /enumeration type Priority/], ['Me', /singleton Me/], ['Attachments', /reserved name Attachments/], ['x'.repeat(65), /at most 64 characters/],
    ];
    const before = (await svc.get('/$metadata')).headers.get('etag');
    for (const [name, message] of cases) {
      const res = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: name, FieldType: 'Text' });
      expect([name, res.status]).toEqual([name, 400]);
      expect(res.json<{ error: Json }>().error).toMatchObject({ target: 'Name', message: expect.stringMatching(message) });
    }
    expect((await svc.get('/$metadata')).headers.get('etag')).toBe(before);
  });

  it('refuses bad definitions with 400 naming the member', async () => {
    const bad: [Json, string][] = [
      [{ EntityType: 'Nothing', Name: 'A1', FieldType: 'Text' }, 'EntityType'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Blob' }, 'FieldType'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Text', Length: 4001 }, 'Length'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Integer', Length: 10 }, 'Length'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Decimal', Precision: 4, Scale: 5 }, 'Scale'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'SingleSelect' }, 'PicklistId'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Integer', DefaultValue: 'ten' }, 'DefaultValue'],
      [{ EntityType: 'Contact', Name: 'A1', FieldType: 'Text', Colour: 'red' }, 'Colour'],
      [{ EntityType: 'Contact', FieldType: 'Text' }, 'Name'],
    ];
    for (const [body, target] of bad) {
      const res = await send('POST', '/FieldDefinitions', body);
      expect([target, res.status]).toEqual([target, 400]);
      expect(res.json<{ error: Json }>().error.target).toBe(target);
    }
  });

  it('maps each field type onto EDM', async () => {
    const types: [string, Json, Json][] = [
      ['Notes2', { FieldType: 'TextArea', Length: 4000 }, { $MaxLength: 4000 }],
      ['Flag1', { FieldType: 'Boolean', IsNullable: false, DefaultValue: 'false' }, { $Type: 'Edm.Boolean', $Nullable: false, $DefaultValue: false }],
      ['Since', { FieldType: 'Date' }, { $Type: 'Edm.Date' }],
      ['SeenAt', { FieldType: 'DateTime' }, { $Type: 'Edm.DateTimeOffset', $Precision: 3 }],
      ['Visits', { FieldType: 'Integer', DefaultValue: '0' }, { $Type: 'Edm.Int32', $DefaultValue: 0 }],
      ['Budget', { FieldType: 'Currency' }, { $Type: 'Edm.Decimal', $Precision: 18, $Scale: 2 }],
      ['Ratio', { FieldType: 'Decimal', Precision: 9, Scale: 4 }, { $Type: 'Edm.Decimal', $Precision: 9, $Scale: 4 }],
    ];
    for (const [name, definition] of types) {
      const res = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: name, ...definition });
      expect([name, res.status]).toEqual([name, 201]);
    }
    const contact = await contactType();
    for (const [name, , csdl] of types) expect([name, contact[name]]).toEqual([name, expect.objectContaining(csdl)]);
    // a required field with a default fills existing rows
    expect((await svc.get(`/Contacts(${contactId})?$select=Flag1,Visits`)).json<Json>()).toMatchObject({ Flag1: false, Visits: 0 });
  });

  it('DELETE drops a custom field (column and property); 409 while a group Criteria uses it', async () => {
    expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Shoe', FieldType: 'Integer' })).status).toBe(201);
    const group = await send('POST', '/Groups', { Name: 'Big feet', Criteria: 'Shoe gt 45' });
    expect(group.status).toBe(201);
    const path = "/FieldDefinitions(EntityType='Contact',Name='Shoe')";
    const refused = await send('DELETE', path);
    expect(refused.status).toBe(409);
    expect(refused.json<{ error: Json }>().error.message).toContain("'Big feet'");
    expect((await contactType()).Shoe).toBeDefined();
    expect((await send('PATCH', `/Groups(${String(group.json<Json>().Id)})`, { Criteria: null })).status).toBe(204);
    expect((await send('DELETE', path)).status).toBe(204);
    expect((await contactType()).Shoe).toBeUndefined();
    expect((await svc.get(path)).status).toBe(404);
    expect(await svc.knex.schema.hasColumn('Contacts', 'cf_Shoe')).toBe(false);
  });

  it('If-Match: a stale ETag is 412, the current one passes', async () => {
    const path = "/FieldDefinitions(EntityType='Contact',Name='Hobby')";
    const etag = (await svc.get(path)).headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"/);
    expect((await send('PATCH', path, { DisplayName: 'Pastime' }, { 'If-Match': etag })).status).toBe(204);
    expect((await send('PATCH', path, { DisplayName: 'Again' }, { 'If-Match': etag })).status).toBe(412);
    expect((await send('DELETE', path, undefined, { 'If-Match': etag })).status).toBe(412);
    expect((await svc.get(path)).json<Json>().DisplayName).toBe('Pastime');
  });

  it('PATCH cannot change Name, EntityType or FieldType (400)', async () => {
    const path = "/FieldDefinitions(EntityType='Contact',Name='Hobby')";
    for (const [member, value] of [['Name', 'Pastime'], ['EntityType', 'Company'], ['FieldType', 'TextArea']] as const) {
      const res = await send('PATCH', path, { [member]: value });
      expect([member, res.status]).toEqual([member, 400]);
    }
    expect((await send('PATCH', path, { DisplayName: 'Pastime' })).status).toBe(204);
  });

  const indexesOf = async (table: string): Promise<string[]> => {
    const rows = engine.name === 'sqlite'
      ? await svc.knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]) as { name: string }[]
      : (await svc.knex.raw('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?', [table]) as { rows: { name: string }[] }).rows;
    return rows.map((r) => r.name);
  };

  it('PATCH raises or lowers Length (409 counting the rows too long), raises Precision, sets DefaultValue and IsIndexed', async () => {
    const path = "/FieldDefinitions(EntityType='Contact',Name='Hobby')";
    expect((await send('PATCH', path, { Length: 100 })).status).toBe(204);
    expect((await contactType()).Hobby).toMatchObject({ $MaxLength: 100 });
    const long = await send('PATCH', `/Contacts(${contactId})`, { Hobby: 'x'.repeat(80) });
    expect([long.status, long.text]).toEqual([204, '']);
    const tooShort = await send('PATCH', path, { Length: 50 });
    expect(tooShort.status).toBe(409);
    expect(tooShort.json<{ error: Json }>().error.message).toContain('1 rows hold longer values');
    expect((await contactType()).Hobby).toMatchObject({ $MaxLength: 100 });
    expect((await send('PATCH', `/Contacts(${contactId})`, { Hobby: 'Chess' })).status).toBe(204);
    expect((await send('PATCH', path, { Length: 50, DefaultValue: 'none', IsIndexed: true })).status).toBe(204);
    expect((await contactType()).Hobby).toMatchObject({ $MaxLength: 50, $DefaultValue: 'none' });
    expect(await indexesOf('Contacts')).toContain('ix_Contacts_cf_Hobby');
    expect((await svc.get(path)).json<Json>()).toMatchObject({ Length: 50, DefaultValue: 'none', IsIndexed: true });
    const created = await send('POST', '/Contacts', { FirstName: 'Def', LastName: 'Ault' });
    expect(created.json<Json>().Hobby).toBe('none');
    expect((await send('PATCH', path, { IsIndexed: false })).status).toBe(204);
    expect(await indexesOf('Contacts')).not.toContain('ix_Contacts_cf_Hobby');

    const ratio = "/FieldDefinitions(EntityType='Contact',Name='Ratio')";
    const ratioWrite = await send('PATCH', `/Contacts(${contactId})`, { Ratio: 12345.6789 });
    expect([ratioWrite.status, ratioWrite.text]).toEqual([204, '']);
    expect((await send('PATCH', ratio, { Precision: 12 })).status).toBe(204);
    expect((await contactType()).Ratio).toMatchObject({ $Precision: 12, $Scale: 4 });
    expect((await send('PATCH', ratio, { Precision: 10 })).status).toBe(400);
    expect((await send('PATCH', ratio, { Scale: 2 })).status).toBe(400);
    expect((await svc.get(`/Contacts(${contactId})?$select=Ratio`)).json<Json>().Ratio).toBe(12345.6789);
  });

  it('PATCH IsNullable false: fills nulls from DefaultValue; 409 without one (more in field-definitions-nullability.test.ts)', async () => {
    expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Tier', FieldType: 'Text', Length: 10, IsIndexed: true })).status).toBe(201);
    expect(await indexesOf('Contacts')).toContain('ix_Contacts_cf_Tier');
    const path = "/FieldDefinitions(EntityType='Contact',Name='Tier')";
    const refused = await send('PATCH', path, { IsNullable: false });
    expect(refused.status).toBe(409);
    expect(refused.json<{ error: Json }>().error.message).toMatch(/rows hold null/);
    expect((await send('PATCH', path, { IsNullable: false, DefaultValue: 'Bronze' })).status).toBe(204);
    expect((await svc.get(`/Contacts(${contactId})?$select=Tier`)).json<Json>().Tier).toBe('Bronze');
    expect((await contactType()).Tier).toMatchObject({ $Nullable: false, $DefaultValue: 'Bronze' });
    expect(await indexesOf('Contacts')).toContain('ix_Contacts_cf_Tier');
    // dropping an indexed field drops its index
    expect((await send('DELETE', path)).status).toBe(204);
    expect(await indexesOf('Contacts')).not.toContain('ix_Contacts_cf_Tier');
  });

  it('checks Email, Url and Phone values on write (400 with the field as target), custom and built-in', async () => {
    for (const [name, type] of [['Mail2', 'Email'], ['Homepage', 'Url'], ['Fax', 'Phone']]) {
      expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: name, FieldType: type })).status).toBe(201);
    }
    const contact = await contactType();
    expect(contact.Mail2).toMatchObject({ '@Crm.IsEmailAddress': true });
    expect(contact.Homepage).toMatchObject({ '@Org.OData.Core.V1.IsURL': true });
    expect(contact.Fax).toMatchObject({ '@Crm.IsPhoneNumber': true });
    const bad: [string, string][] = [['Mail2', 'not-an-address'], ['Mail2', 'a@b'], ['Homepage', 'example.com'], ['Homepage', 'javascript:alert(1)'], ['Fax', 'call me'], ['Fax', '+'],
      ['EmailAddress', 'nobody'], ['BusinessPhone', 'n/a']];
    for (const [member, value] of bad) {
      const res = await send('PATCH', `/Contacts(${contactId})`, { [member]: value });
      expect([member, value, res.status]).toEqual([member, value, 400]);
      expect(res.json<{ error: Json }>().error.target).toBe(member);
    }
    const good = { Mail2: 'kim@example.com', Homepage: 'https://example.com/kim', Fax: '+49 (30) 123-4567 x12', EmailAddress: 'kim.b@example.org', BusinessPhone: '' };
    expect((await send('PATCH', `/Contacts(${contactId})`, good)).status).toBe(204);
    expect((await svc.get(`/Contacts(${contactId})?$select=Mail2,Homepage,Fax`)).json<Json>()).toMatchObject({ Mail2: 'kim@example.com', Homepage: 'https://example.com/kim' });
    const company = await send('POST', '/Companies', { Name: 'Bad Site Inc', Website: 'www.bad' });
    expect(company.status).toBe(400);
    expect(company.json<{ error: Json }>().error.target).toBe('Website');
  });

  it('a definition row is never written as a plain row (property URL, other paths): 405', async () => {
    const path = "/FieldDefinitions(EntityType='Contact',Name='Hobby')";
    const id = String((await svc.get(path)).json<Json>().Id);
    expect((await send('PUT', `/FieldDefinitions(${id})/DisplayName`, { value: 'Sneaky' })).status).toBe(405);
    expect((await svc.get(path)).json<Json>().DisplayName).not.toBe('Sneaky');
  });

  it('writes are for Administrators only (403)', async () => {
    const manager = await bearerFor(svc.url, 'demo.manager', TEST_DEMO_PASSWORD);
    const res = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Sneaky', FieldType: 'Text' }, manager);
    expect(res.status).toBe(403);
    expect((await svc.get('/FieldDefinitions?$top=1', manager)).status).toBe(200);
  });

  it('in a $batch change set: 501; as a part outside change sets: 201', async () => {
    const request = (id: string, name: string) => ({ id, method: 'POST', url: 'FieldDefinitions', headers: { 'Content-Type': 'application/json' }, body: { EntityType: 'Contact', Name: name, FieldType: 'Text' } });
    const res = await send('POST', '/$batch', { requests: [request('2', 'Alone'), { ...request('1', 'InSet'), atomicityGroup: 'g1' }] });
    expect(res.status).toBe(200);
    const responses = res.json<{ responses: Json[] }>().responses;
    expect(responses.find((r) => r.id === '1')).toMatchObject({ status: 501 });
    expect(responses.find((r) => r.id === '2')).toMatchObject({ status: 201 });
  });
});
