/**
 * Countries (issue 17, item 9): 249 ISO 3166-1 codes loaded by a migration from metadata/countries.json,
 * `IsoCode` an alternate key, POST and DELETE refused (405) as $metadata's Capabilities restrictions
 * declare, Administrators changing IsActive and PhoneMask only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import type { Row } from '../support';

const JSON_HEADERS = { 'content-type': 'application/json' };
const DATA: { IsoCode: string; Name: string; CallingCode: string; PhoneMask?: string }[] = JSON.parse(readFileSync(path.join(__dirname, '../../../metadata/countries.json'), 'utf8'));

describe('metadata/countries.json', () => {
  it('holds the 249 ISO 3166-1 alpha-2 codes once each, with names, calling codes and the required masks', () => {
    expect(DATA).toHaveLength(249);
    expect(new Set(DATA.map((c) => c.IsoCode)).size).toBe(249);
    for (const c of DATA) {
      expect(c.IsoCode).toMatch(/^[A-Z]{2}$/);
      expect(c.Name.length).toBeGreaterThan(2);
      expect(c.CallingCode).toMatch(/^\+\d{1,3}(-\d{3})?$/);
      if (c.PhoneMask !== undefined) expect(c.PhoneMask).toMatch(/^[#() -]+$/);
    }
    for (const code of ['US', 'CA', 'GB', 'DE', 'FR']) expect(DATA.find((c) => c.IsoCode === code)?.PhoneMask).toMatch(/#/);
  });
});

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  const send = (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
    svc.request(method, urlPath, { headers: Object.assign({}, JSON_HEADERS, headers), body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 5 });
  });
  afterAll(() => svc.close());

  it('serves every country of the data file, by canonical and by alternate key', async () => {
    const count = await svc.get('/Countries/$count');
    expect(count.text).toBe('249');
    const all = await svc.get('/Countries?$select=IsoCode,Name,CallingCode,PhoneMask&$orderby=IsoCode', { Prefer: 'odata.maxpagesize=300' });
    const rows = all.json<{ value: Row[] }>().value.map(({ IsoCode, Name, CallingCode, PhoneMask }) => ({ IsoCode, Name, CallingCode, PhoneMask }));
    expect(rows).toEqual([...DATA].sort((a, b) => a.IsoCode.localeCompare(b.IsoCode)).map((c) => ({ IsoCode: c.IsoCode, Name: c.Name, CallingCode: c.CallingCode, PhoneMask: c.PhoneMask ?? null })));
    const de = await svc.get("/Countries(IsoCode='de')");
    expect(de.status).toBe(200);
    expect(de.json<Row>()).toMatchObject({ IsoCode: 'DE', Name: 'Germany', CallingCode: '+49', IsActive: true });
    expect((await svc.get(`/Countries(${String(de.json<Row>().Id)})`)).json<Row>().IsoCode).toBe('DE');
    expect((await svc.get("/Countries(IsoCode='XX')")).status).toBe(404);
    expect((await svc.get("/Countries?$filter=CallingCode eq '+1' and IsActive&$select=IsoCode&$orderby=IsoCode")).json<{ value: Row[] }>().value.map((c) => c.IsoCode)).toEqual(['CA', 'UM', 'US']);
  });

  it('POST and DELETE answer 405, as the $metadata restrictions declare; an upsert by code creates nothing', async () => {
    const post = await send('POST', '/Countries', { Name: 'Atlantis', IsoCode: 'XA', CallingCode: '+999' });
    expect(post.status).toBe(405);
    expect((await svc.request('DELETE', "/Countries(IsoCode='FR')")).status).toBe(405);
    expect((await send('PUT', "/Countries(IsoCode='XB')", { Name: 'Nowhere', CallingCode: '+998' })).status).toBe(404);
    expect((await send('PUT', '/Countries(5f4c64b6-9c5e-4d2e-9d0e-1f1f1f1f1f1f)', { Name: 'Nowhere', IsoCode: 'XC', CallingCode: '+998' })).status).toBe(405);
    expect((await svc.get('/Countries/$count')).text).toBe('249');
    const json = (await svc.get('/$metadata?$format=json')).json<{ Crm: { Service: { Countries: Row } } }>();
    expect(json.Crm.Service.Countries).toMatchObject({
      '@Org.OData.Capabilities.V1.InsertRestrictions': { Insertable: false },
      '@Org.OData.Capabilities.V1.DeleteRestrictions': { Deletable: false },
    });
  });

  it('Administrators change IsActive and PhoneMask (by IsoCode); other properties and other roles are refused', async () => {
    expect((await send('PATCH', "/Countries(IsoCode='AQ')", { IsActive: false, PhoneMask: '### ###' })).status).toBe(204);
    expect((await svc.get("/Countries(IsoCode='AQ')")).json<Row>()).toMatchObject({ IsActive: false, PhoneMask: '### ###', Name: 'Antarctica' });
    const rename = await send('PATCH', "/Countries(IsoCode='AQ')", { Name: 'Antarctica Land' });
    expect(rename.status).toBe(400);
    expect(rename.json<{ error: { target: string } }>().error.target).toBe('Name');
    expect((await send('PATCH', "/Countries(IsoCode='AQ')", { IsoCode: 'AA' })).status).toBe(400);
    expect((await send('PATCH', "/Countries(IsoCode='AQ')", { CallingCode: '+1' })).status).toBe(400);
    // the unchanged value may be sent back (a PUT of the entity as read)
    const current = (await svc.get("/Countries(IsoCode='AQ')")).json<Row>();
    const { Name, IsoCode, CallingCode } = current;
    expect((await send('PUT', "/Countries(IsoCode='AQ')", { Name, IsoCode, CallingCode, IsActive: true, PhoneMask: null })).status).toBe(204);
    expect((await svc.get("/Countries(IsoCode='AQ')")).json<Row>()).toMatchObject({ IsActive: true, PhoneMask: null, Name: 'Antarctica' });
    const manager = await bearerFor(svc.url, 'demo.manager', TEST_DEMO_PASSWORD);
    expect((await send('PATCH', "/Countries(IsoCode='AQ')", { IsActive: false }, manager)).status).toBe(403);
    expect((await svc.get("/Countries(IsoCode='AQ')", manager)).status).toBe(200);
  });
});
