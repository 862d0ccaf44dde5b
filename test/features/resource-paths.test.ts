/** Resource paths: the service document, entity sets, keys, navigation, $count, properties, $value and $ref. */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, CONTACT_TYPES, enc, sortedIds, tableRows, type Row } from './support';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contacts: Row[];
  let companies: Row[];
  /** a contact with a company, a job title and a business address */
  let full: Row;
  /** a contact without a company */
  let loner: Row;

  beforeAll(async () => {
    svc = await startTestService(engine);
    contacts = await tableRows(svc, 'Contacts', ['IsPrivate']);
    companies = await tableRows(svc, 'Companies');
    full = contacts.find((c) => c.CompanyId !== null && c.JobTitle !== null && c.BusinessAddress_City !== null)!;
    loner = contacts.find((c) => c.CompanyId === null)!;
  });
  afterAll(() => svc.close());

  describe('the service document', () => {
    it('lists every entity set with its URL and the $metadata context', async () => {
      const res = await svc.get('/');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata`);
      const names = body.value.map((s: Row) => s.name);
      expect(names).toEqual(expect.arrayContaining(['Contacts', 'Companies', 'Groups', 'Opportunities', 'Processes', 'Stages', 'Users', 'Teams']));
      expect(body.value.find((s: Row) => s.name === 'Contacts')).toEqual({ name: 'Contacts', kind: 'EntitySet', url: 'Contacts' });
    });
  });

  describe('entity sets', () => {
    it('returns every contact of the set with the collection context', async () => {
      const pages = await allPages(svc, '/Contacts');
      expect((pages[0].body as Row)['@odata.context']).toBe(`${svc.url}/$metadata#Contacts`);
      expect(sortedIds(pages.flatMap((p) => p.body.value))).toEqual(sortedIds(contacts));
    });

    it('returns entities with their canonical property values', async () => {
      const body = (await svc.get(`/Contacts?$filter=Id eq ${full.Id}`)).json();
      const c = body.value[0];
      expect(c).toMatchObject({
        Id: full.Id, FirstName: full.FirstName, LastName: full.LastName, CompanyId: full.CompanyId, IsPrivate: full.IsPrivate,
        ContactType: full.ContactType === null ? null : CONTACT_TYPES[Number(full.ContactType)],
        BusinessAddress: { City: full.BusinessAddress_City, State: full.BusinessAddress_State },
      });
      expect(c.Created).toBe(full.Created);
    });
  });

  describe('entities by key', () => {
    it('reads Contacts(<guid>) as a single entity', async () => {
      const res = await svc.get(`/Contacts(${full.Id})`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts/$entity`);
      expect(body.Id).toBe(full.Id);
      expect(body.LastName).toBe(full.LastName);
      expect(body.value).toBeUndefined();
    });

    it('reads Contacts(Id=<guid>) the same as Contacts(<guid>)', async () => {
      const a = (await svc.get(`/Contacts(${full.Id})`)).json();
      const res = await svc.get(`/Contacts(Id=${full.Id})`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual(a);
    });

    it('answers 404 with an OData error for a key that does not exist', async () => {
      const res = await svc.get(`/Contacts(${MISSING})`);
      expect(res.status).toBe(404);
      expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    });

    it('answers 400 for a key of the wrong type', async () => {
      const res = await svc.get(`/Contacts('abc')`);
      expect(res.status).toBe(400);
    });
  });

  describe('navigation', () => {
    it('follows a single-valued navigation to the related entity', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/Company`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.Id).toBe(full.CompanyId);
      expect(body.Name).toBe(companies.find((c) => c.Id === full.CompanyId)!.Name);
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Companies/$entity`);
    });

    it('follows a collection navigation: Companies(<id>)/Contacts equals the contacts with that CompanyId', async () => {
      const company = companies.find((co) => contacts.filter((c) => c.CompanyId === co.Id).length >= 2)!;
      const res = await svc.get(`/Companies(${company.Id})/Contacts?$top=1000`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts`);
      expect(sortedIds(body.value)).toEqual(sortedIds(contacts.filter((c) => c.CompanyId === company.Id)));
    });

    it('follows a many-to-many navigation through its link table', async () => {
      const links: Row[] = await svc.knex('Contact_Group').select('*');
      const groupId = String(links[0].GroupId);
      const expected = links.filter((l) => l.GroupId === groupId).map((l) => String(l.ContactId)).sort();
      const body = (await svc.get(`/Groups(${groupId})/Contacts`)).json();
      expect(body.value.map((c: Row) => c.Id).sort()).toEqual(expected);
    });

    it('chains navigations: Opportunities(<id>)/Stage/Process', async () => {
      const opp: Row = await svc.knex('Opportunities').whereNotNull('StageId').first();
      const stage: Row = await svc.knex('Stages').where({ Id: opp.StageId }).first();
      const res = await svc.get(`/Opportunities(${opp.Id})/Stage/Process`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.Id).toBe(stage.ProcessId);
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Processes/$entity`);
    });

    it('addresses one entity of a navigated collection by key', async () => {
      const res = await svc.get(`/Companies(${full.CompanyId})/Contacts(${full.Id})`);
      expect(res.status).toBe(200);
      expect(res.json().Id).toBe(full.Id);
      const other = contacts.find((c) => c.CompanyId !== full.CompanyId)!;
      expect((await svc.get(`/Companies(${full.CompanyId})/Contacts(${other.Id})`)).status).toBe(404);
    });

    it('answers 204 for a single-valued navigation that is null (a contact without a company)', async () => {
      const res = await svc.get(`/Contacts(${loner.Id})/Company`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it('answers 404 when navigating from a key that does not exist', async () => {
      expect((await svc.get(`/Contacts(${MISSING})/Company`)).status).toBe(404);
      expect((await svc.get(`/Companies(${MISSING})/Contacts`)).status).toBe(404);
      expect((await svc.get(`/Companies(${MISSING})/Contacts/$count`)).status).toBe(404);
    });

    it('answers an empty collection (not 404) for an existing entity without related rows', async () => {
      const lonely = companies.find((co) => !contacts.some((c) => c.CompanyId === co.Id));
      if (!lonely) return; // every seeded company has contacts
      const res = await svc.get(`/Companies(${lonely.Id})/Contacts`);
      expect(res.status).toBe(200);
      expect(res.json().value).toEqual([]);
    });
  });

  describe('$count', () => {
    it('counts an entity set as text/plain', async () => {
      const res = await svc.get('/Contacts/$count');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe(String(contacts.length));
    });

    it('answers text/plain to Accept: application/json (as the SAP Cloud SDK sends), and to */* or text/*', async () => {
      for (const accept of ['application/json', 'application/json;odata.metadata=minimal', 'application/xml', '*/*', 'text/*']) {
        const res = await svc.get('/Contacts/$count', { Accept: accept });
        expect([accept, res.status]).toEqual([accept, 200]);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(res.text).toBe(String(contacts.length));
      }
    });

    it('refuses with 406 only an Accept that excludes text/plain explicitly, and $format with 400', async () => {
      for (const accept of ['text/plain;q=0', 'application/json, text/plain;q=0', 'text/*;q=0, application/json']) {
        const res = await svc.get('/Contacts/$count', { Accept: accept });
        expect([accept, res.status, res.json().error.code]).toEqual([accept, 406, 'NOT_ACCEPTABLE']);
      }
      const formatted = await svc.get('/Contacts/$count?$format=json');
      expect(formatted.status).toBe(400);
      expect(formatted.json().error.target).toBe('$format');
    });

    it('counts with $filter', async () => {
      const res = await svc.get(`/Contacts/$count?$filter=${enc(`LastName eq '${full.LastName}'`)}`);
      expect(res.text).toBe(String(contacts.filter((c) => c.LastName === full.LastName).length));
    });

    it('counts with $search (every term, case-insensitively, in any text property)', async () => {
      const term = String(full.LastName).toLowerCase();
      const res = await svc.get(`/Contacts/$count?$search=${enc(term)}`);
      const expected = contacts.filter((c) => Object.values(c).some((v) => typeof v === 'string' && v.toLowerCase().includes(term))).length;
      expect(res.status).toBe(200);
      expect(Number(res.text)).toBe(expected);
    });

    it('counts a navigated collection', async () => {
      const res = await svc.get(`/Companies(${full.CompanyId})/Contacts/$count`);
      expect(res.text).toBe(String(contacts.filter((c) => c.CompanyId === full.CompanyId).length));
    });
  });

  describe('properties', () => {
    it('reads a primitive property with its property context', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/LastName`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ '@odata.context': `${svc.url}/$metadata#Contacts(${full.Id})/LastName`, value: full.LastName });
    });

    it('reads a complex property as an object with its members', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/BusinessAddress`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        '@odata.context': `${svc.url}/$metadata#Contacts(${full.Id})/BusinessAddress`,
        Line1: full.BusinessAddress_Line1, Line2: full.BusinessAddress_Line2, City: full.BusinessAddress_City,
        State: full.BusinessAddress_State, PostalCode: full.BusinessAddress_PostalCode, Country: full.BusinessAddress_Country,
      });
    });

    it('reads a member of a complex property', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/BusinessAddress/City`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ '@odata.context': `${svc.url}/$metadata#Contacts(${full.Id})/BusinessAddress/City`, value: full.BusinessAddress_City });
    });

    it('reads the raw value of a property as text/plain with /$value', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/LastName/$value`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe(full.LastName);
    });

    it('answers /$value as text/plain to Accept: application/json; refuses $format=json and text/plain;q=0 with 406', async () => {
      const path = `/Contacts(${full.Id})/LastName/$value`;
      for (const accept of ['application/json', 'application/json;odata.metadata=full', '*/*']) {
        const res = await svc.get(path, { Accept: accept });
        expect([accept, res.status]).toEqual([accept, 200]);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(res.text).toBe(full.LastName);
      }
      expect((await svc.get(`${path}?$format=text/plain`)).text).toBe(full.LastName);
      for (const [url, headers] of [[`${path}?$format=json`, {}], [path, { Accept: 'text/plain;q=0' }]] as const) {
        const res = await svc.get(url, headers);
        expect([url, res.status, res.json().error.code]).toEqual([url, 406, 'NOT_ACCEPTABLE']);
      }
    });

    it('reads an enum property with its member name', async () => {
      const typed = contacts.find((c) => c.ContactType !== null)!;
      const res = await svc.get(`/Contacts(${typed.Id})/ContactType`);
      expect(res.json().value).toBe(CONTACT_TYPES[Number(typed.ContactType)]);
    });

    it('answers 204 for a property whose value is null', async () => {
      const withoutTitle = contacts.find((c) => c.JobTitle === null)!;
      const res = await svc.get(`/Contacts(${withoutTitle.Id})/JobTitle`);
      expect(res.status).toBe(204);
      expect((await svc.get(`/Contacts(${withoutTitle.Id})/JobTitle/$value`)).status).toBe(204);
    });

    it('answers 404 for a property of an entity that does not exist', async () => {
      expect((await svc.get(`/Contacts(${MISSING})/LastName`)).status).toBe(404);
    });

    it('answers 404 for an unknown property segment', async () => {
      expect((await svc.get(`/Contacts(${full.Id})/NoSuchThing`)).status).toBe(404);
    });

    it('reads a property through a navigation', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/Company/Name`);
      expect(res.status).toBe(200);
      expect(res.json().value).toBe(companies.find((c) => c.Id === full.CompanyId)!.Name);
    });
  });

  describe('$ref', () => {
    it('reads the references of a collection navigation', async () => {
      const res = await svc.get(`/Companies(${full.CompanyId})/Contacts/$ref`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Collection($ref)`);
      const expected = contacts.filter((c) => c.CompanyId === full.CompanyId).map((c) => `${svc.url}/Contacts(${c.Id})`).sort();
      expect(body.value.map((r: Row) => r['@odata.id']).sort()).toEqual(expected);
      expect(Object.keys(body.value[0])).toEqual(['@odata.id']);
    });

    it('reads the reference of a single-valued navigation', async () => {
      const res = await svc.get(`/Contacts(${full.Id})/Company/$ref`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ '@odata.context': `${svc.url}/$metadata#$ref`, '@odata.id': `${svc.url}/Companies(${full.CompanyId})` });
    });

    it('reads the references of an entity set', async () => {
      const body = (await svc.get('/Contacts/$ref?$top=3')).json();
      expect(body.value).toHaveLength(3);
      for (const r of body.value) expect(r['@odata.id']).toMatch(new RegExp(`^${svc.url.replace(/[.]/g, '\\.')}/Contacts\\([0-9a-f-]{36}\\)$`));
    });
  });

  describe('case-insensitive names and options without $', () => {
    it('resolves an entity set name in any case', async () => {
      const res = await svc.get('/contacts?$top=1');
      expect(res.status).toBe(200);
      expect(res.json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts`);
    });

    it('resolves property names in $filter in any case and answers with canonical names', async () => {
      const res = await svc.get(`/Contacts?$filter=${enc(`lastname eq '${full.LastName}'`)}`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(sortedIds(body.value)).toEqual(sortedIds(contacts.filter((c) => c.LastName === full.LastName)));
      expect(body.value[0]).toHaveProperty('LastName');
      expect(body.value[0]).not.toHaveProperty('lastname');
    });

    it('resolves navigation and property path segments in any case', async () => {
      const res = await svc.get(`/contacts(${full.Id})/company/name`);
      expect(res.status).toBe(200);
      expect(res.json().value).toBe(companies.find((c) => c.Id === full.CompanyId)!.Name);
    });

    it('accepts system query options without the $ prefix', async () => {
      const res = await svc.get('/Contacts?top=1');
      expect(res.status).toBe(200);
      expect(res.json().value).toHaveLength(1);
      const upper = await svc.get('/Contacts?$TOP=2');
      expect(upper.status).toBe(200);
      expect(upper.json().value).toHaveLength(2);
    });
  });
});
