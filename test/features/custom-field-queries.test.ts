/**
 * A custom field is a property like any other (issue 17, item 4): once POSTed to FieldDefinitions it
 * works in $select, $filter, $orderby, $search, $apply, $compute, validated writes, Crm.MassUpdate,
 * $batch and collections of picklist values; the $metadata of Contact with Hobby (Text), ShirtSize
 * (SingleSelect) and ShirtSizes (MultiSelect) validates against the OASIS CSDL schemas.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { checkAnnotations, loadVocabularies, validateCsdlJson, validateCsdlXml } from '../helpers/csdl-validate';

type Json = Record<string, unknown>;

describe.each(ENGINES.map((e) => [e.name, e] as const))('custom fields in queries and writes on %s', (_name, engine) => {
  let svc: TestService;
  let ids: string[];

  const send = (method: string, path: string, body?: unknown) =>
    svc.request(method, path, { headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const values = async (path: string): Promise<Json[]> => {
    const res = await svc.get(path);
    expect([path, res.status]).toEqual([path, 200]);
    return res.json<{ value: Json[] }>().value;
  };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 12 });
    const picklist = await send('POST', '/Picklists', { Name: 'ShirtSizes', IsLimitedToList: true });
    expect(picklist.status).toBe(201);
    const picklistId = String(picklist.json<Json>().Id);
    expect((await send('POST', `/Picklists(${picklistId})/Crm.AddItems`, { Items: [{ Value: 'S' }, { Value: 'M' }, { Value: 'L' }] })).status).toBe(200);
    for (const definition of [
      { Name: 'Hobby', FieldType: 'Text', Length: 60, IsIndexed: true },
      { Name: 'ShirtSize', FieldType: 'SingleSelect', PicklistId: picklistId },
      { Name: 'ShirtSizes', FieldType: 'MultiSelect', PicklistId: picklistId },
      { Name: 'Score', FieldType: 'Integer' },
    ]) {
      const res = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', ...definition });
      expect([definition.Name, res.status, res.text]).toEqual([definition.Name, 201, expect.any(String)]);
    }
    ids = (await values('/Contacts?$orderby=Id&$select=Id&$top=6')).map((c) => String(c.Id));
    const rows: Json[] = [
      { Hobby: 'Chess', ShirtSize: 'M', ShirtSizes: ['M', 'L'], Score: 7 },
      { Hobby: 'Sailing', ShirtSize: 'L', ShirtSizes: ['L'], Score: 3 },
      { Hobby: 'Chess club', ShirtSize: 'S', ShirtSizes: [], Score: 9 },
    ];
    for (const [i, row] of rows.entries()) expect((await send('PATCH', `/Contacts(${ids[i]})`, row)).status).toBe(204);
  });
  afterAll(async () => { await svc?.close(); });

  it('$select, $filter, $orderby and $search', async () => {
    expect((await svc.get(`/Contacts(${ids[0]})?$select=Hobby,ShirtSize,ShirtSizes,Score`)).json<Json>()).toMatchObject({ Hobby: 'Chess', ShirtSize: 'M', ShirtSizes: ['M', 'L'], Score: 7 });
    expect((await values("/Contacts?$filter=startswith(Hobby,'Chess')&$orderby=Score desc&$select=Hobby,Score")).map((c) => c.Score)).toEqual([9, 7]);
    expect((await values("/Contacts?$filter=ShirtSizes/any(s: s eq 'L')&$orderby=Hobby&$select=Hobby")).map((c) => c.Hobby)).toEqual(['Chess', 'Sailing']);
    expect((await values('/Contacts?$filter=ShirtSizes/$count eq 0 and Hobby ne null&$select=Hobby')).map((c) => c.Hobby)).toEqual(['Chess club']);
    expect((await values('/Contacts?$filter=Score ne null&$orderby=Hobby desc&$select=Hobby')).map((c) => c.Hobby)).toEqual(['Sailing', 'Chess club', 'Chess']);
    expect((await values('/Contacts?$search=Sailing&$select=Hobby')).map((c) => c.Hobby)).toEqual(['Sailing']);
  });

  it('$apply and $compute', async () => {
    const groups = await values('/Contacts?$apply=filter(Score ne null)/groupby((ShirtSize),aggregate(Score with sum as Total))&$orderby=ShirtSize');
    expect(groups.map((g) => [g.ShirtSize, Number(g.Total)])).toEqual([['L', 3], ['M', 7], ['S', 9]]);
    const computed = await values('/Contacts?$filter=Score ne null&$compute=Score mul 2 as Double,length(Hobby) as HobbyLength&$select=Double,HobbyLength&$orderby=Score');
    expect(computed.map((c) => [Number(c.Double), Number(c.HobbyLength)])).toEqual([[6, 7], [14, 5], [18, 10]]);
  });

  it('validated writes: MaxLength, picklist values, types', async () => {
    const bad: [Json, string][] = [[{ Hobby: 'x'.repeat(61) }, 'Hobby'], [{ ShirtSize: 'XXL' }, 'ShirtSize'], [{ Score: 'many' }, 'Score']];
    for (const [body, target] of bad) {
      const res = await send('PATCH', `/Contacts(${ids[3]})`, body);
      expect([target, res.status]).toEqual([target, 400]);
      expect(JSON.stringify(res.json<Json>())).toContain(target);
    }
  });

  it('Crm.MassUpdate and $batch', async () => {
    const mass = await send('POST', '/Contacts/Crm.MassUpdate', { Ids: [ids[3], ids[4]], Changes: { Hobby: 'Chess', Score: 1 } });
    expect(mass.status).toBe(200);
    expect((await values("/Contacts?$filter=Hobby eq 'Chess' and Score eq 1&$select=Id")).map((c) => c.Id).sort()).toEqual([ids[3], ids[4]].sort());
    const batch = await send('POST', '/$batch', { requests: [
      { id: '1', atomicityGroup: 'g', method: 'PATCH', url: `Contacts(${ids[5]})`, headers: { 'Content-Type': 'application/json' }, body: { Hobby: 'Golf', ShirtSizes: ['S'] } },
      { id: '2', dependsOn: ['g'], method: 'GET', url: `Contacts(${ids[5]})?$select=Hobby,ShirtSizes` },
    ] });
    expect(batch.status).toBe(200);
    const responses = batch.json<{ responses: Json[] }>().responses;
    expect(responses.find((r) => r.id === '2')).toMatchObject({ status: 200, body: { Hobby: 'Golf', ShirtSizes: ['S'] } });
  });

  it('the $metadata of Contact with Hobby, ShirtSize and ShirtSizes validates against the CSDL schemas', async () => {
    const json = (await svc.get('/$metadata?$format=json')).text;
    const doc = JSON.parse(json) as Json;
    const contact = (doc.Crm as Json).Contact as Json;
    const picklistTerm = '@Crm.PicklistId';
    expect(contact.Hobby).toEqual({ $MaxLength: 60, $Nullable: true });
    expect(contact.ShirtSize).toEqual({ $MaxLength: 255, $Nullable: true, [picklistTerm]: expect.any(String) });
    expect(contact.ShirtSizes).toEqual({ $Collection: true, $MaxLength: 255, $Nullable: true, [picklistTerm]: expect.any(String) });
    expect(validateCsdlJson(json)).toEqual({ valid: true, errors: [] });
    expect(checkAnnotations(doc, loadVocabularies())).toEqual([]);
    const xml = await (await fetch(`${svc.url}/$metadata`, { headers: svc.authHeaders })).text();
    expect(await validateCsdlXml(xml)).toEqual({ valid: true, errors: [] });
    const fragment = /<EntityType Name="Contact">[\s\S]*?<\/EntityType>/.exec(xml)?.[0] ?? '';
    expect(fragment).toContain('<Property Name="Hobby" Type="Edm.String" MaxLength="60"/>');
    expect(fragment).toMatch(/<Property Name="ShirtSize" Type="Edm.String" MaxLength="255">\s*<Annotation Term="Crm.PicklistId" Guid="[0-9a-f-]{36}"\/>\s*<\/Property>/);
    expect(fragment).toMatch(/<Property Name="ShirtSizes" Type="Collection\(Edm.String\)" MaxLength="255">/);
  });
});
