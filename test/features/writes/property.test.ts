/** Writes to property URLs: primitive and complex properties, /$value, DELETE to null, read-only properties. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import {
  del, etagOf, expectError, expectStatus, insertCompany, insertContact, MISSING, patch, PAST, put, rowOf, text,
} from './write-support';

const ADDRESS = {
  BusinessAddress_Line1: '9 Elm St', BusinessAddress_Line2: 'Suite 4', BusinessAddress_City: 'Austin',
  BusinessAddress_State: 'TX', BusinessAddress_PostalCode: '73301', BusinessAddress_Country: 'USA',
};
const NULL_ADDRESS = {
  BusinessAddress_Line1: null, BusinessAddress_Line2: null, BusinessAddress_City: null,
  BusinessAddress_State: null, BusinessAddress_PostalCode: null, BusinessAddress_Country: null,
};

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const contact = () => insertContact(svc, { FirstName: 'Zed', LastName: 'Prop', JobTitle: 'Clerk', ...ADDRESS });

  describe('primitive properties', () => {
    it('PUT .../FirstName {"value"} answers 204 and GET shows the value', async () => {
      const id = await contact();
      const res = await put(svc, `/Contacts(${id})/FirstName`, { value: 'Ann' });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      const got = await svc.get(`/Contacts(${id})/FirstName`);
      expectStatus(got, 200);
      expect(got.json().value).toBe('Ann');
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ FirstName: 'Ann', FullName: 'Ann Prop', JobTitle: 'Clerk' });
    });

    it('PUT .../FirstName/$value with a text/plain body answers 204', async () => {
      const id = await contact();
      const res = await svc.request('PUT', `/Contacts(${id})/FirstName/$value`, { headers: { 'Content-Type': 'text/plain' }, body: 'Ann' });
      expectStatus(res, 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ FirstName: 'Ann', FullName: 'Ann Prop' });
      expect((await svc.get(`/Contacts(${id})/FirstName/$value`)).text).toBe('Ann');
    });

    it('DELETE .../FirstName sets it to null', async () => {
      const id = await contact();
      expectStatus(await del(svc, `/Contacts(${id})/FirstName`), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ FirstName: null, FullName: 'Prop', LastName: 'Prop' });
      expect((await svc.get(`/Contacts(${id})/FirstName`)).status).toBe(204);
    });

    it('DELETE of a non-nullable property answers 400 and keeps the value', async () => {
      const company = await insertCompany(svc, { Name: 'Unremovable' });
      const res = await del(svc, `/Companies(${company})/Name`);
      expectStatus(res, 400);
      expect(res.json().error.code).toEqual(expect.any(String));
      expect((await rowOf(svc, 'Companies', company))!.Name).toBe('Unremovable');
    });

    it('PUT of a non-integer to an Int32 property answers 400 VALIDATION_FAILED and changes nothing', async () => {
      const company = await insertCompany(svc, { EmployeeCount: 12 });
      expectError(await put(svc, `/Companies(${company})/EmployeeCount`, { value: 'many' }), 400, 'VALIDATION_FAILED');
      expect(Number((await rowOf(svc, 'Companies', company))!.EmployeeCount)).toBe(12);
    });

    it('PUT of a too long string answers 400 VALIDATION_FAILED and changes nothing', async () => {
      const id = await contact();
      const before = await rowOf(svc, 'Contacts', id);
      expectError(await put(svc, `/Contacts(${id})/FirstName`, { value: 'n'.repeat(101) }), 400, 'VALIDATION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });

    it('PUT null to a non-nullable property answers 400 VALIDATION_FAILED', async () => {
      const company = await insertCompany(svc, { Name: 'Still here' });
      const error = expectError(await put(svc, `/Companies(${company})/Name`, { value: null }), 400, 'VALIDATION_FAILED');
      expect(error.details.map((d) => d.code)).toEqual(['NULL_NOT_ALLOWED']);
      expect((await rowOf(svc, 'Companies', company))!.Name).toBe('Still here');
    });

    it('writes an enum property by member name', async () => {
      const id = await contact();
      expectStatus(await put(svc, `/Contacts(${id})/ContactType`, { value: 'Prospect' }), 204);
      expect(Number((await rowOf(svc, 'Contacts', id))!.ContactType)).toBe(2);
    });
  });

  describe('complex properties', () => {
    it('PUT .../BusinessAddress replaces the value: unsent members become null', async () => {
      const id = await contact();
      expectStatus(await put(svc, `/Contacts(${id})/BusinessAddress`, { City: 'Paris' }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ ...NULL_ADDRESS, BusinessAddress_City: 'Paris' });
    });

    it('PATCH .../BusinessAddress merges member by member', async () => {
      const id = await contact();
      expectStatus(await patch(svc, `/Contacts(${id})/BusinessAddress`, { City: 'Paris', PostalCode: '75001' }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ ...ADDRESS, BusinessAddress_City: 'Paris', BusinessAddress_PostalCode: '75001' });
    });

    it('DELETE .../BusinessAddress sets the whole value to null; GET of it answers 204', async () => {
      const id = await contact();
      expectStatus(await del(svc, `/Contacts(${id})/BusinessAddress`), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject(NULL_ADDRESS);
      const got = await svc.get(`/Contacts(${id})/BusinessAddress`);
      expect(got.status).toBe(204);
      expect((await svc.get(`/Contacts(${id})`)).json().BusinessAddress).toBeNull();
    });

    it('PUT .../BusinessAddress/City {"value"} writes one member', async () => {
      const id = await contact();
      expectStatus(await put(svc, `/Contacts(${id})/BusinessAddress/City`, { value: 'Lyon' }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ ...ADDRESS, BusinessAddress_City: 'Lyon' });
    });

    it('a too long member answers 400 VALIDATION_FAILED and changes nothing', async () => {
      const id = await contact();
      const before = await rowOf(svc, 'Contacts', id);
      expectError(await put(svc, `/Contacts(${id})/BusinessAddress`, { City: 'c'.repeat(101) }), 400, 'VALIDATION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });
  });

  describe('read-only properties', () => {
    it.each([['FullName', 'Someone Else'], ['Id', '11111111-1111-4111-8111-111111111111'], ['Created', '2020-01-01T00:00:00Z'], ['Edited', '2020-01-01T00:00:00Z']])(
      'PUT .../%s answers 400 READ_ONLY_PROPERTY and changes nothing', async (property, value) => {
        const id = await contact();
        const before = await rowOf(svc, 'Contacts', id);
        expectError(await put(svc, `/Contacts(${id})/${property}`, { value }), 400, 'READ_ONLY_PROPERTY');
        expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
      },
    );

    it('DELETE of a computed property answers 400 READ_ONLY_PROPERTY', async () => {
      const id = await contact();
      expectError(await del(svc, `/Contacts(${id})/FullName`), 400, 'READ_ONLY_PROPERTY');
      expect((await rowOf(svc, 'Contacts', id))!.FullName).toBe('Zed Prop');
    });
  });

  describe('the entity', () => {
    it('answers 404 when the entity does not exist', async () => {
      expectStatus(await put(svc, `/Contacts(${MISSING})/FirstName`, { value: 'Nobody' }), 404);
      expectStatus(await del(svc, `/Contacts(${MISSING})/FirstName`), 404);
      expectStatus(await put(svc, `/Contacts(${MISSING})/BusinessAddress`, { City: 'Nowhere' }), 404);
      expect(await rowOf(svc, 'Contacts', MISSING)).toBeUndefined();
    });

    it('a property write changes the entity ETag and Edited, not Created', async () => {
      const id = await contact();
      const etag = await etagOf(svc, `/Contacts(${id})`);
      expectStatus(await put(svc, `/Contacts(${id})/JobTitle`, { value: 'Lead' }), 204);
      expect(await etagOf(svc, `/Contacts(${id})`)).not.toBe(etag);
      const row = (await rowOf(svc, 'Contacts', id))!;
      expect(Date.parse(text(row.Created)!)).toBe(Date.parse(PAST));
      expect(Date.parse(text(row.Edited)!)).toBeGreaterThan(Date.parse(PAST));
    });

    it('an If-Match with a stale ETag answers 412 on a property URL', async () => {
      const id = await contact();
      const stale = await etagOf(svc, `/Contacts(${id})`);
      expectStatus(await put(svc, `/Contacts(${id})/JobTitle`, { value: 'First' }), 204);
      expectError(await put(svc, `/Contacts(${id})/JobTitle`, { value: 'Second' }, { 'If-Match': stale }), 412, 'PRECONDITION_FAILED');
      expect((await rowOf(svc, 'Contacts', id))!.JobTitle).toBe('First');
    });
  });
});
