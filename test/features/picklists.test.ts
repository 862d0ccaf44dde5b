/**
 * Picklists (issue 17, item 7): Picklists and PicklistItems (names and values unique ignoring case),
 * the system picklists loaded as reference data (not deleted or renamed: 409), Crm.AddItems (a
 * duplicate refuses the call), deep update of Items, and the write check of properties annotated
 * `@Crm.PicklistId` (here added to Contact through the model lifecycle, as custom fields are).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { systemPicklistId } from '../../src/db/reference-data';
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';
import type { Row } from './support';

const JSON_HEADERS = { 'content-type': 'application/json' };
const SYSTEM: { Name: string; Items: string[] }[] = JSON.parse(readFileSync(path.join(__dirname, '../../metadata/picklists.json'), 'utf8'));
type ErrorBody = { error: { code: string; message: string; target?: string; details?: { code: string; target: string; message: string }[] } };

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  const send = (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
    svc.request(method, urlPath, { headers: Object.assign({}, JSON_HEADERS, headers), body: body === undefined ? undefined : JSON.stringify(body) });
  const items = async (picklist: string) =>
    (await svc.get(`/Picklists(${picklist})/Items?$orderby=Sequence&$select=Value,Sequence,RemovedDate`)).json<{ value: Row[] }>().value;
  const createPicklist = async (body: Row): Promise<string> => {
    const res = await send('POST', '/Picklists', body);
    expect(res.status).toBe(201);
    return String(res.json<Row>().Id);
  };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 3 });
  });
  afterAll(() => svc.close());

  it('loads the system picklists with stable Ids and their items, IsSystem set', async () => {
    const all = (await svc.get('/Picklists?$filter=IsSystem&$orderby=Name&$select=Id,Name,IsSystem,IsLimitedToList,AllowBlank')).json<{ value: Row[] }>().value;
    expect(all.map((p) => p.Name)).toEqual(SYSTEM.map((p) => p.Name).sort());
    for (const p of all) expect(p.Id).toBe(systemPicklistId(String(p.Name)));
    const address = (await svc.get("/Picklists(Name='addresstypes')?$expand=Items($orderby=Sequence;$select=Value)")).json<{ IsSystem: boolean; Items: Row[] }>();
    expect(address.IsSystem).toBe(true);
    expect(address.Items.map((i) => i.Value)).toEqual(['Work', 'Home', 'Mobile', 'Vacation', 'Fax', 'Other']);
    expect((await items(systemPicklistId('WebsiteTypes'))).map((i) => i.Value)).toEqual(['Website', 'Facebook', 'Blog']);
  });

  it('a system picklist cannot be deleted or renamed (409); its other properties and its items can change', async () => {
    const phone = systemPicklistId('PhoneTypes');
    const del = await svc.request('DELETE', `/Picklists(${phone})`);
    expect(del.status).toBe(409);
    expect(del.json<ErrorBody>().error.message).toContain('system record');
    const rename = await send('PATCH', `/Picklists(${phone})`, { Name: 'Phones' });
    expect(rename.status).toBe(409);
    expect(rename.json<ErrorBody>().error.target).toBe('Name');
    expect((await send('PATCH', `/Picklists(${phone})`, { Name: 'PhoneTypes', Description: 'Phone kinds' })).status).toBe(204);
    const pager = await send('POST', `/Picklists(${phone})/Items`, { Value: 'Pager', Sequence: 9 });
    expect(pager.status).toBe(201);
    expect((await send('PATCH', `/PicklistItems(${String(pager.json<Row>().Id)})`, { Value: 'Beeper' })).status).toBe(204);
    expect((await svc.request('DELETE', `/PicklistItems(${String(pager.json<Row>().Id)})`)).status).toBe(204);
    // IsSystem is computed: a client cannot make its own picklist a system one
    const own = await createPicklist({ Name: 'Own', IsSystem: true });
    expect((await svc.get(`/Picklists(${own})`)).json<Row>().IsSystem).toBe(false);
    expect((await svc.request('DELETE', `/Picklists(${own})`)).status).toBe(204);
  });

  it('Name is unique ignoring case and an alternate key; a Value is unique per picklist ignoring case', async () => {
    const colors = await createPicklist({ Name: 'Colors', Description: 'Car colors' });
    expect((await send('POST', '/Picklists', { Name: 'COLORS' })).status).toBe(409);
    expect((await svc.get("/Picklists(Name='colors')")).json<Row>()).toMatchObject({ Id: colors, IsLimitedToList: true, AllowBlank: true, IsSystem: false });
    expect((await send('POST', `/Picklists(${colors})/Items`, { Value: 'Red' })).status).toBe(201);
    expect((await send('POST', `/Picklists(${colors})/Items`, { Value: 'red' })).status).toBe(409);
    // the same value in another picklist is fine
    expect((await send('POST', `/Picklists(${systemPicklistId('FileCategories')})/Items`, { Value: 'Red' })).status).toBe(201);
    expect((await svc.get(`/PicklistItems(PicklistId=${colors},Value='RED')`)).json<Row>().Value).toBe('Red');
  });

  it('Crm.AddItems adds items after the last one; a duplicate (ignoring case, or twice in the call) is 400 and adds none', async () => {
    const sizes = await createPicklist({ Name: 'AddSizes' });
    const added = await send('POST', `/Picklists(${sizes})/Crm.AddItems?$orderby=Sequence`, { Items: [{ Value: 'S' }, { Value: 'M', Description: 'Medium' }, { Value: 'L', Sequence: 10 }] });
    expect(added.status).toBe(200);
    expect(added.json<{ '@odata.context': string; value: Row[] }>()['@odata.context']).toContain('$metadata#PicklistItems');
    expect(added.json<{ value: Row[] }>().value.map((i) => [i.Value, i.Sequence, i.PicklistId])).toEqual([['S', 1, sizes], ['M', 2, sizes], ['L', 10, sizes]]);
    const again = await send('POST', `/Picklists(${sizes})/Crm.AddItems`, { Items: [{ Value: 'XL' }, { Value: 'm' }, { Value: 'xs' }, { Value: 'XS' }] });
    expect(again.status).toBe(400);
    expect(again.json<ErrorBody>().error.details?.map((d) => d.target)).toEqual(['Items/1/Value', 'Items/3/Value']);
    expect((await items(sizes)).map((i) => i.Value)).toEqual(['S', 'M', 'L']);
    expect((await send('POST', `/Picklists(${sizes})/Crm.AddItems`, { Items: [{ Description: 'no value' }] })).json<ErrorBody>().error.details?.[0].target).toBe('Items/0/Value');
    expect((await send('POST', `/Picklists(${sizes})/Crm.AddItems`, { Items: [{ Value: 'XL' }] })).json<{ value: Row[] }>().value[0].Sequence).toBe(11);
    const standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    expect((await send('POST', `/Picklists(${sizes})/Crm.AddItems`, { Items: [{ Value: 'XXL' }] }, standard)).status).toBe(403);
    expect((await send('POST', '/Picklists', { Name: 'Mine' }, standard)).status).toBe(403);
    expect((await svc.get('/Picklists?$select=Name', standard)).status).toBe(200);
  });

  it('deep update: PUT with Items makes the items exactly those given; Items@delta adds, changes and removes', async () => {
    const stages = await createPicklist({ Name: 'Stages' });
    const first = (await send('POST', `/Picklists(${stages})/Crm.AddItems?$orderby=Sequence`, { Items: [{ Value: 'Lead' }, { Value: 'Qualified' }, { Value: 'Lost' }] })).json<{ value: Row[] }>().value;
    const put = await send('PUT', `/Picklists(${stages})?$expand=Items($orderby=Sequence;$select=Id,Value,Sequence)`, {
      Name: 'Stages', Description: 'Sales stages', IsLimitedToList: true, AllowBlank: false,
      Items: [{ Id: first[0].Id, Value: 'Lead', Sequence: 1 }, { Id: first[1].Id, Value: 'Qualified lead', Sequence: 2 }, { Value: 'Won', Sequence: 3 }],
    }, { Prefer: 'return=representation' });
    expect(put.status).toBe(200);
    const body = put.json<{ Description: string; AllowBlank: boolean; Items: Row[] }>();
    expect(body).toMatchObject({ Description: 'Sales stages', AllowBlank: false });
    expect(body.Items.map((i) => i.Value)).toEqual(['Lead', 'Qualified lead', 'Won']);
    expect(body.Items.slice(0, 2).map((i) => i.Id)).toEqual([first[0].Id, first[1].Id]);
    expect((await svc.get(`/PicklistItems(${String(first[2].Id)})`)).status).toBe(404);

    const delta = await send('PATCH', `/Picklists(${stages})`, {
      'Items@delta': [{ Value: 'Negotiation', Sequence: 4 }, { Id: first[0].Id, Description: 'First contact' }, { '@removed': { reason: 'deleted' }, '@id': `PicklistItems(${String(body.Items[2].Id)})` }],
    });
    expect(delta.status).toBe(204);
    expect((await items(stages)).map((i) => i.Value)).toEqual(['Lead', 'Qualified lead', 'Negotiation']);
    const nested = await send('PUT', `/Picklists(${stages})`, { Name: 'Stages', Items: [{ Value: 'A' }, { Value: 'a' }] });
    expect(nested.status).toBe(409);
    expect((await items(stages)).map((i) => i.Value)).toEqual(['Lead', 'Qualified lead', 'Negotiation']);
  });

  describe('properties annotated @Crm.PicklistId', () => {
    let sizes: string;
    let free: string;
    let contact: string;
    const contactPath = () => `/Contacts(${contact})`;
    const problem = (res: { json<T>(): T }) => res.json<ErrorBody>().error;

    beforeAll(async () => {
      sizes = await createPicklist({ Name: 'ShirtSizes', IsLimitedToList: true, AllowBlank: false });
      await send('POST', `/Picklists(${sizes})/Crm.AddItems`, { Items: ['S', 'M', 'L', 'XL'].map((Value) => ({ Value })) });
      free = await createPicklist({ Name: 'Nicknames', IsLimitedToList: false, AllowBlank: true });
      const lifecycle = svc.running.lifecycle;
      await lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'ShirtSize', definition: { $MaxLength: 20, $Nullable: true, '@Crm.PicklistId': sizes } });
      await lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'ShirtSizes', definition: { $Collection: true, $MaxLength: 20, '@Crm.PicklistId': sizes } });
      await lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'Nickname', definition: { $MaxLength: 40, $Nullable: true, '@Crm.PicklistId': free } });
      const res = await send('POST', '/Contacts', { LastName: 'Picky', ShirtSize: 'm', ShirtSizes: ['s', 'XL'] });
      expect(res.status).toBe(201);
      contact = String(res.json<Row>().Id);
    });

    it('$metadata declares the term and shows the annotation', async () => {
      const csdl = (await svc.get('/$metadata?$format=json')).json<{ Crm: Record<string, Row> }>().Crm;
      expect(csdl.PicklistId).toMatchObject({ $Kind: 'Term', $Type: 'Edm.Guid', $AppliesTo: ['Property'] });
      expect(csdl.Contact.ShirtSize).toMatchObject({ '@Crm.PicklistId': sizes });
      expect((await svc.get('/$metadata')).text).toMatch(/<Term Name="PicklistId" Type="Edm.Guid" [^>]*AppliesTo="Property"/);
    });

    it('accepts available values (stored as the item spells them) and refuses others with the property as target', async () => {
      expect((await svc.get(`${contactPath()}?$select=ShirtSize,ShirtSizes`)).json<Row>()).toMatchObject({ ShirtSize: 'M', ShirtSizes: ['S', 'XL'] });
      const wrong = await send('PATCH', contactPath(), { ShirtSize: 'XXXL' });
      expect(wrong.status).toBe(400);
      expect(problem(wrong)).toMatchObject({ target: 'ShirtSize', message: expect.stringContaining("'XXXL' is not an available item of the picklist ShirtSizes") });
      const many = await send('POST', '/Contacts', { LastName: 'Many', ShirtSizes: ['S', 'Huge'] });
      expect(many.status).toBe(400);
      expect(problem(many).target).toBe('ShirtSizes');
      expect((await send('POST', '/Contacts/Crm.MassUpdate', { Ids: [contact], Changes: { ShirtSize: 'Tiny' } })).status).toBe(400);
      // not limited to the list: anything goes
      expect((await send('PATCH', contactPath(), { Nickname: 'Anything at all' })).status).toBe(204);
      expect((await send('PATCH', contactPath(), { Nickname: '' })).status).toBe(204);
    });

    it("with AllowBlank false, '' and [] are refused; null is the property's nullability's business", async () => {
      const blank = await send('PATCH', contactPath(), { ShirtSize: '' });
      expect(blank.status).toBe(400);
      expect(problem(blank)).toMatchObject({ target: 'ShirtSize', message: expect.stringContaining('does not allow a blank value') });
      const empty = await send('PATCH', contactPath(), { ShirtSizes: [] });
      expect(empty.status).toBe(400);
      expect(problem(empty).target).toBe('ShirtSizes');
      expect((await send('POST', '/Contacts', { LastName: 'Unsized' })).status).toBe(201);
      expect((await send('PATCH', contactPath(), { ShirtSize: null })).status).toBe(204);
      expect((await send('PATCH', contactPath(), { ShirtSize: 'M' })).status).toBe(204);
    });

    it('a removed item stays valid where stored but cannot be written anew', async () => {
      const xl = (await svc.get(`/PicklistItems(PicklistId=${sizes},Value='XL')`)).json<Row>();
      expect((await send('PATCH', `/PicklistItems(${String(xl.Id)})`, { RemovedDate: '2026-12-04T12:00:00Z' })).status).toBe(204);
      expect((await send('PATCH', contactPath(), { JobTitle: 'Tailor', ShirtSizes: ['XL', 'S', 'L'] })).status).toBe(204);
      expect((await svc.get(`${contactPath()}?$select=ShirtSizes`)).json<Row>().ShirtSizes).toEqual(['XL', 'S', 'L']);
      const anew = await send('POST', '/Contacts', { LastName: 'Late', ShirtSize: 'XL' });
      expect(anew.status).toBe(400);
      expect(problem(anew).target).toBe('ShirtSize');
      expect((await send('PATCH', contactPath(), { ShirtSize: 'xl' })).status).toBe(400);
      expect((await send('PATCH', `/PicklistItems(${String(xl.Id)})`, { RemovedDate: null })).status).toBe(204);
      expect((await send('PATCH', contactPath(), { ShirtSize: 'xl' })).status).toBe(204);
    });

    it('in one $batch change set a later write accepts an item added before it; a refused write takes the added item back', async () => {
      const batch = (requests: Row[]) => send('POST', '/$batch', { requests }, { accept: 'application/json' });
      const added = await batch([
        { id: '1', method: 'POST', url: `Picklists(${sizes})/Crm.AddItems`, headers: JSON_HEADERS, body: { Items: [{ Value: 'XXL' }] }, atomicityGroup: 'g' },
        { id: '2', method: 'PATCH', url: `Contacts(${contact})`, headers: JSON_HEADERS, body: { ShirtSize: 'xxl' }, atomicityGroup: 'g', dependsOn: ['1'] },
      ]);
      expect(added.json<{ responses: Row[] }>().responses.map((r) => r.status)).toEqual([200, 204]);
      expect((await svc.get(`${contactPath()}?$select=ShirtSize`)).json<Row>().ShirtSize).toBe('XXL');
      const refused = await batch([
        { id: '1', method: 'POST', url: `Picklists(${sizes})/Crm.AddItems`, headers: JSON_HEADERS, body: { Items: [{ Value: 'XXXL' }] }, atomicityGroup: 'g' },
        { id: '2', method: 'PATCH', url: `Contacts(${contact})`, headers: JSON_HEADERS, body: { ShirtSize: 'Huge' }, atomicityGroup: 'g', dependsOn: ['1'] },
      ]);
      expect(refused.json<{ responses: Row[] }>().responses.map((r) => r.status)).toContain(400);
      expect((await items(sizes)).map((i) => i.Value)).not.toContain('XXXL');
      expect((await svc.get(`${contactPath()}?$select=ShirtSize`)).json<Row>().ShirtSize).toBe('XXL');
    });
  });

  it('custom SingleSelect/MultiSelect fields are checked against their picklist; deleting a picklist a field uses is 409 naming the fields; an unused one goes with its items', async () => {
    const used = await createPicklist({ Name: 'UsedByAField' });
    const created = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Flavor', DisplayName: 'Flavor', FieldType: 'SingleSelect', PicklistId: used });
    expect(created.status).toBe(201);
    // a SingleSelect or MultiSelect custom field carries the annotation, so its values are checked
    expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'Flavors', FieldType: 'MultiSelect', PicklistId: used })).status).toBe(201);
    const wrong = await send('POST', '/Contacts', { LastName: 'Taster', Flavor: 'Vanilla', Flavors: ['Mint'] });
    expect(wrong.status).toBe(400);
    expect(wrong.json<ErrorBody>().error.details?.map((d) => d.target)).toEqual(['Flavor', 'Flavors']);
    await send('POST', `/Picklists(${used})/Crm.AddItems`, { Items: [{ Value: 'Vanilla' }, { Value: 'Mint' }] });
    const right = await send('POST', '/Contacts', { LastName: 'Taster', Flavor: 'vanilla', Flavors: ['MINT', 'Vanilla'] });
    expect(right.status).toBe(201);
    expect(right.json<Row>()).toMatchObject({ Flavor: 'Vanilla', Flavors: ['Mint', 'Vanilla'] });
    expect((await svc.get(`/Picklists(${used})/Fields?$select=Name&$orderby=Name`)).json<{ value: Row[] }>().value.map((f) => f.Name)).toEqual(['Flavor', 'Flavors']);
    expect((await svc.get("/FieldDefinitions?$filter=Name eq 'Flavor'&$expand=Picklist($select=Name)")).json<{ value: { Picklist: Row }[] }>().value[0].Picklist.Name).toBe('UsedByAField');
    const refused = await svc.request('DELETE', `/Picklists(${used})`);
    expect(refused.status).toBe(409);
    const detail = refused.json<ErrorBody>().error.details?.[0];
    expect(detail).toMatchObject({ target: 'FieldDefinitions', message: expect.stringContaining(`refer to Picklists(${used}) through Picklist`) });
    expect(detail?.message).toContain("FieldDefinitions(EntityType='Contact',Name='Flavor')");
    expect(detail?.message).toContain("FieldDefinitions(EntityType='Contact',Name='Flavors')");
    const unused = await createPicklist({ Name: 'Unused' });
    await send('POST', `/Picklists(${unused})/Crm.AddItems`, { Items: [{ Value: 'One' }] });
    expect((await svc.request('DELETE', `/Picklists(${unused})`)).status).toBe(204);
    expect(Number((await svc.knex('PicklistItems').where({ PicklistId: unused }).count({ n: '*' }))[0].n)).toBe(0);
  });
});
