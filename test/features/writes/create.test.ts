/** Create: POST to an entity set or a collection navigation, the 201 / 204 responses, server-set values, defaults and @odata.bind. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import {
  bool, countRows, expectError, expectStatus, GUID, insertCompany, insertContact, insertGroup, ISO_UTC, linked, MISSING, newId,
  num, post, rowOf, text, WEAK_ETAG,
} from './write-support';

const CONTACT_PROPERTIES = [
  'Id', 'Created', 'Edited', 'FirstName', 'LastName', 'FullName', 'JobTitle', 'EmailAddress', 'BusinessPhone', 'MobilePhone',
  'BusinessAddress', 'HomeAddress', 'BirthDate', 'ContactType', 'IsPrivate', 'CompanyId', 'OwnerId',
];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  describe('POST /Contacts', () => {
    it('answers 201 with Location, ETag and the created entity, and stores it', async () => {
      const before = Date.now();
      const res = await post(svc, '/Contacts', {
        FirstName: 'Ann', LastName: 'Lee', JobTitle: 'Buyer', BirthDate: '1990-05-17', ContactType: 'Vendor',
        BusinessAddress: { City: 'Paris', Country: 'France' },
      });
      const after = Date.now();
      expectStatus(res, 201);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = res.json();
      expect(body.Id).toMatch(GUID);
      expect(res.headers.get('location')).toBe(`${svc.url}/Contacts(${body.Id})`);
      const etag = res.headers.get('etag');
      expect(etag).toMatch(WEAK_ETAG);
      expect(body['@odata.etag']).toBe(etag);
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts/$entity`);
      expect(body).toMatchObject({
        FirstName: 'Ann', LastName: 'Lee', FullName: 'Ann Lee', JobTitle: 'Buyer', BirthDate: '1990-05-17', ContactType: 'Vendor',
        IsPrivate: false, CompanyId: null, EmailAddress: null,
      });
      expect(body.BusinessAddress).toEqual({ Line1: null, Line2: null, City: 'Paris', State: null, PostalCode: null, Country: 'France' });
      expect(body.HomeAddress).toBeNull();
      for (const p of CONTACT_PROPERTIES) expect(body).toHaveProperty(p);
      expect(body.Created).toMatch(ISO_UTC);
      expect(body.Edited).toBe(body.Created);
      const created = Date.parse(body.Created);
      expect(created).toBeGreaterThanOrEqual(before - 2000);
      expect(created).toBeLessThanOrEqual(after + 2000);

      const row = (await rowOf(svc, 'Contacts', body.Id, ['IsPrivate']))!;
      expect(row).toMatchObject({
        FirstName: 'Ann', LastName: 'Lee', FullName: 'Ann Lee', JobTitle: 'Buyer', ContactType: 3, IsPrivate: false,
        BusinessAddress_City: 'Paris', BusinessAddress_Country: 'France', BusinessAddress_Line1: null, HomeAddress_City: null,
      });
      expect(text(row.BirthDate)?.slice(0, 10)).toBe('1990-05-17');
      expect(Date.parse(String(row.Created))).toBe(created);
      expect(Date.parse(String(row.Edited))).toBe(created);
    });

    it('the created entity reads back with the same ETag', async () => {
      const res = await post(svc, '/Contacts', { LastName: 'Readback' });
      expectStatus(res, 201);
      const got = await svc.get(`/Contacts(${res.json().Id})`);
      expectStatus(got, 200);
      expect(got.headers.get('etag')).toBe(res.headers.get('etag'));
      expect(got.json().LastName).toBe('Readback');
    });

    it('keeps a client-supplied Id', async () => {
      const id = newId();
      const res = await post(svc, '/Contacts', { Id: id, LastName: 'Chosen' });
      expectStatus(res, 201);
      expect(res.json().Id).toBe(id);
      expect(res.headers.get('location')).toBe(`${svc.url}/Contacts(${id})`);
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Chosen');
    });

    it('stores a client-supplied Id in lower case', async () => {
      const id = newId();
      const res = await post(svc, '/Contacts', { Id: id.toUpperCase(), LastName: 'Upper' });
      expectStatus(res, 201);
      expect(res.json().Id).toBe(id);
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Upper');
    });

    it('answers 409 ALREADY_EXISTS for an Id that exists, and leaves that entity alone', async () => {
      const id = await insertContact(svc, { FirstName: 'Old', LastName: 'Owner' });
      const before = await rowOf(svc, 'Contacts', id);
      const count = await countRows(svc, 'Contacts');
      const res = await post(svc, '/Contacts', { Id: id, FirstName: 'New', LastName: 'Intruder' });
      expectError(res, 409, 'ALREADY_EXISTS');
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
      expect(await countRows(svc, 'Contacts')).toBe(count);
    });

    it('ignores client values for Created, Edited and FullName', async () => {
      const res = await post(svc, '/Contacts', {
        FirstName: 'Ida', LastName: 'Ray', Created: '2000-01-01T00:00:00.000Z', Edited: '2001-01-01T00:00:00.000Z', FullName: 'Bogus Name',
      });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.FullName).toBe('Ida Ray');
      expect(body.Created.startsWith('2000')).toBe(false);
      expect(body.Edited).toBe(body.Created);
      const row = (await rowOf(svc, 'Contacts', body.Id))!;
      expect(row.FullName).toBe('Ida Ray');
      expect(text(row.Created)!.startsWith('2000')).toBe(false);
      expect(text(row.Edited)!.startsWith('2001')).toBe(false);
    });

    it('applies the IsPrivate default (false) when omitted', async () => {
      const res = await post(svc, '/Contacts', { LastName: 'Default' });
      expectStatus(res, 201);
      expect(res.json().IsPrivate).toBe(false);
      expect(bool((await rowOf(svc, 'Contacts', res.json().Id))!.IsPrivate)).toBe(false);
    });

    it('answers 204 with OData-EntityId, Location and Preference-Applied for Prefer: return=minimal', async () => {
      const count = await countRows(svc, 'Contacts');
      const res = await post(svc, '/Contacts', { LastName: 'Minimal' }, { Prefer: 'return=minimal' });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect(res.headers.get('preference-applied')).toBe('return=minimal');
      const entityId = res.headers.get('odata-entityid')!;
      const m = new RegExp(`^${svc.url.replace(/[.]/g, '\\.')}/Contacts\\(([0-9a-f-]{36})\\)$`).exec(entityId);
      expect(m).not.toBeNull();
      expect(res.headers.get('location')).toBe(entityId);
      expect(res.headers.get('etag')).toMatch(WEAK_ETAG);
      expect((await rowOf(svc, 'Contacts', m![1]))?.LastName).toBe('Minimal');
      expect(await countRows(svc, 'Contacts')).toBe(count + 1);
    });

    it('shapes the returned entity with $select', async () => {
      const res = await post(svc, '/Contacts?$select=FirstName,LastName', { FirstName: 'Sel', LastName: 'Ected', JobTitle: 'Hidden' });
      expectStatus(res, 201);
      const body = res.json();
      expect(body).toMatchObject({ FirstName: 'Sel', LastName: 'Ected' });
      expect(body).not.toHaveProperty('JobTitle');
      expect(body).not.toHaveProperty('EmailAddress');
      expect(await countRows(svc, 'Contacts', { LastName: 'Ected', JobTitle: 'Hidden' })).toBe(1);
    });
  });

  describe('defaults and ignored computed values on other types', () => {
    it('Opportunity: Status defaults to Open; a client Amount is ignored', async () => {
      const res = await post(svc, '/Opportunities', { Name: 'Default deal', Amount: 12345 });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.Status).toBe('Open');
      expect(Number(body.Amount)).toBeCloseTo(0, 4);
      const row = (await rowOf(svc, 'Opportunities', body.Id))!;
      expect(num(row.Status)).toBe(0);
      expect(num(row.Amount)).toBeCloseTo(0, 4);
    });

    it('Activity: Recurrence.Interval defaults to 1 when Recurrence is given without it', async () => {
      const res = await post(svc, '/Activities', { Subject: 'Weekly sync', Recurrence: { Frequency: 'Weekly' } });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.Recurrence).toMatchObject({ Frequency: 'Weekly', Interval: 1 });
      expect(body.Priority).toBe('Medium');
      const row = (await rowOf(svc, 'Activities', body.Id))!;
      expect(num(row.Recurrence_Frequency)).toBe(1);
      expect(num(row.Recurrence_Interval)).toBe(1);
    });

    it('OpportunityProduct: a client Total is ignored', async () => {
      const opp = await post(svc, '/Opportunities', { Name: 'Total host' });
      expectStatus(opp, 201);
      const res = await post(svc, '/OpportunityProducts', { OpportunityId: opp.json().Id, Quantity: 2, Price: 10, Discount: 0, Total: 999 });
      expectStatus(res, 201);
      expect(Number(res.json().Total)).toBeCloseTo(20, 4);
      expect(num((await rowOf(svc, 'OpportunityProducts', res.json().Id))!.Total)).toBeCloseTo(20, 4);
    });
  });

  describe('@odata.bind', () => {
    it('links a single-valued navigation with a path relative to the service root', async () => {
      const company = await insertCompany(svc);
      const res = await post(svc, '/Contacts', { LastName: 'Bound', 'Company@odata.bind': `Companies(${company})` });
      expectStatus(res, 201);
      expect(res.json().CompanyId).toBe(company);
      expect((await rowOf(svc, 'Contacts', res.json().Id))!.CompanyId).toBe(company);
    });

    it('links a single-valued navigation with an absolute URL', async () => {
      const company = await insertCompany(svc);
      const res = await post(svc, '/Contacts', { LastName: 'Bound', 'Company@odata.bind': `${svc.url}/Companies(${company})` });
      expectStatus(res, 201);
      expect((await rowOf(svc, 'Contacts', res.json().Id))!.CompanyId).toBe(company);
    });

    it('links a collection navigation to existing entities', async () => {
      const [a, b] = [await insertGroup(svc), await insertGroup(svc)];
      const groups = await countRows(svc, 'Groups');
      const res = await post(svc, '/Contacts', { LastName: 'Member', 'Groups@odata.bind': [`Groups(${a})`, `Groups(${b})`] });
      expectStatus(res, 201);
      expect(await linked(svc, 'Contact_Group', 'ContactId', res.json().Id, 'GroupId')).toEqual([a, b].sort());
      expect(await countRows(svc, 'Groups')).toBe(groups);
    });
  });

  describe('POST to a collection navigation', () => {
    it('POST /Companies(<c>)/Contacts creates a contact of that company', async () => {
      const company = await insertCompany(svc);
      const res = await post(svc, `/Companies(${company})/Contacts`, { LastName: 'Employee' });
      expectStatus(res, 201);
      const body = res.json();
      expect(res.headers.get('location')).toBe(`${svc.url}/Contacts(${body.Id})`);
      expect(body.CompanyId).toBe(company);
      expect((await rowOf(svc, 'Contacts', body.Id))).toMatchObject({ LastName: 'Employee', CompanyId: company });
    });

    it('POST /Groups(<g>)/Contacts creates the contact and links it to the group', async () => {
      const group = await insertGroup(svc);
      const res = await post(svc, `/Groups(${group})/Contacts`, { LastName: 'Joiner' });
      expectStatus(res, 201);
      const id = res.json().Id;
      expect(res.headers.get('location')).toBe(`${svc.url}/Contacts(${id})`);
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Joiner');
      expect(await linked(svc, 'Contact_Group', 'GroupId', group, 'ContactId')).toEqual([id]);
    });

    it('answers 404 when the parent does not exist, and creates nothing', async () => {
      const count = await countRows(svc, 'Contacts');
      expectError(await post(svc, `/Companies(${MISSING})/Contacts`, { LastName: 'Orphan' }), 404, 'NOT_FOUND');
      expectStatus(await post(svc, `/Groups(${MISSING})/Contacts`, { LastName: 'Orphan' }), 404);
      expect(await countRows(svc, 'Contacts')).toBe(count);
      expect(await countRows(svc, 'Contacts', { LastName: 'Orphan' })).toBe(0);
    });
  });

  describe('payload format', () => {
    it('answers 415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async () => {
      const count = await countRows(svc, 'Contacts');
      const res = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ LastName: 'Plain' }) });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await countRows(svc, 'Contacts')).toBe(count);
    });

    it('answers 400 INVALID_PAYLOAD for unparseable JSON', async () => {
      const count = await countRows(svc, 'Contacts');
      const res = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body: '{"LastName": "Broken"' });
      expectError(res, 400, 'INVALID_PAYLOAD');
      expect(await countRows(svc, 'Contacts')).toBe(count);
    });

    it.each([['an array', '[{"LastName":"A"}]'], ['a string', '"Contact"'], ['a number', '42'], ['null', 'null']])(
      'answers 400 INVALID_PAYLOAD when the body is %s, not an object', async (_what, body) => {
        const count = await countRows(svc, 'Contacts');
        const res = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body });
        expectError(res, 400, 'INVALID_PAYLOAD');
        expect(await countRows(svc, 'Contacts')).toBe(count);
      },
    );
  });
});
