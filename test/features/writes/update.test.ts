/** Update: PATCH (merge) and PUT (replace), upsert, Id checks, @odata.bind, and updates through a navigation. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import {
  bool, countRows, etagOf, expectError, expectStatus, expectValidation, insertCompany, insertContact, insertGroup, linked, newId,
  PAST, patch, put, rowOf, text, WEAK_ETAG,
} from './write-support';

const ADDRESS = {
  BusinessAddress_Line1: '1 Main St', BusinessAddress_Line2: 'Floor 2', BusinessAddress_City: 'Boston',
  BusinessAddress_State: 'MA', BusinessAddress_PostalCode: '02101', BusinessAddress_Country: 'USA',
};

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** A contact with most properties set, a company and a business address. */
  async function fullContact(): Promise<string> {
    const company = await insertCompany(svc);
    return insertContact(svc, {
      FirstName: 'Kim', LastName: 'Fuller', JobTitle: 'Engineer', EmailAddress: 'kim@example.com', IsPrivate: true,
      ContactType: 2, CompanyId: company, BirthDate: '1980-02-03', ...ADDRESS,
    });
  }

  describe('PATCH', () => {
    it('answers 204 with a new ETag and changes only the sent properties', async () => {
      const id = await fullContact();
      const before = (await rowOf(svc, 'Contacts', id))!;
      const oldEtag = await etagOf(svc, `/Contacts(${id})`);
      const res = await patch(svc, `/Contacts(${id})`, { JobTitle: 'Architect' });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      const etag = res.headers.get('etag');
      expect(etag).toMatch(WEAK_ETAG);
      expect(etag).not.toBe(oldEtag);
      expect(await etagOf(svc, `/Contacts(${id})`)).toBe(etag);
      const after = (await rowOf(svc, 'Contacts', id))!;
      expect(after.JobTitle).toBe('Architect');
      // EditedById names the caller (test/features/auth/record-access.test.ts checks its value)
      const { JobTitle: _a, Edited: _b, EditedById: _e, ...restAfter } = after;
      const { JobTitle: _c, Edited: _d, EditedById: _f, ...restBefore } = before;
      expect(restAfter).toEqual(restBefore);
    });

    it('answers 200 with the entity for Prefer: return=representation', async () => {
      const id = await fullContact();
      const res = await patch(svc, `/Contacts(${id})`, { EmailAddress: 'new@example.com' }, { Prefer: 'return=representation' });
      expectStatus(res, 200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts/$entity`);
      expect(body).toMatchObject({ Id: id, EmailAddress: 'new@example.com', JobTitle: 'Engineer', FullName: 'Kim Fuller' });
      expect(body['@odata.etag']).toBe(res.headers.get('etag'));
    });

    it('merges a complex value member by member', async () => {
      const id = await fullContact();
      expectStatus(await patch(svc, `/Contacts(${id})`, { BusinessAddress: { City: 'Cambridge' } }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ ...ADDRESS, BusinessAddress_City: 'Cambridge' });
    });

    it('creates a complex value that was null from the sent members', async () => {
      const id = await insertContact(svc, { LastName: 'NoAddress' });
      expectStatus(await patch(svc, `/Contacts(${id})`, { HomeAddress: { City: 'Denver' } }), 204);
      const got = (await svc.get(`/Contacts(${id})/HomeAddress`)).json();
      expect(got).toMatchObject({ City: 'Denver', Line1: null, Country: null });
    });

    it('sets a property to null', async () => {
      const id = await fullContact();
      expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: null, CompanyId: null }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ JobTitle: null, CompanyId: null, LastName: 'Fuller' });
    });

    it('ignores Created, Edited and FullName sent by the client', async () => {
      const id = await fullContact();
      const res = await patch(svc, `/Contacts(${id})`, { LastName: 'Renamed', Created: '2000-01-01T00:00:00.000Z', Edited: '2000-01-01T00:00:00.000Z', FullName: 'Bogus' });
      expectStatus(res, 204);
      const row = (await rowOf(svc, 'Contacts', id))!;
      expect(row.FullName).toBe('Kim Renamed');
      expect(Date.parse(text(row.Created)!)).toBe(Date.parse(PAST));
      expect(text(row.Edited)!.startsWith('2000')).toBe(false);
    });

    it('validates the body and changes nothing when it is refused', async () => {
      const id = await fullContact();
      const before = await rowOf(svc, 'Contacts', id);
      expectValidation(await patch(svc, `/Contacts(${id})`, { JobTitle: 'Fine', IsPrivate: 'yes', FirstName: 'q'.repeat(101) }), [
        { code: 'TYPE_MISMATCH', target: 'IsPrivate' },
        { code: 'TOO_LONG', target: 'FirstName' },
      ]);
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });

    it('refuses null for a non-nullable property', async () => {
      const company = await insertCompany(svc, { Name: 'Keep Name' });
      expectValidation(await patch(svc, `/Companies(${company})`, { Name: null }), [{ code: 'NULL_NOT_ALLOWED', target: 'Name' }]);
      expect((await rowOf(svc, 'Companies', company))!.Name).toBe('Keep Name');
    });
  });

  describe('PUT', () => {
    it('replaces: omitted properties go back to their default or null, Created is kept', async () => {
      const id = await fullContact();
      const res = await put(svc, `/Contacts(${id})`, { LastName: 'Only' });
      expectStatus(res, 204);
      expect(res.headers.get('etag')).toMatch(WEAK_ETAG);
      const row = (await rowOf(svc, 'Contacts', id, ['IsPrivate']))!;
      expect(row).toMatchObject({
        LastName: 'Only', FirstName: null, FullName: 'Only', JobTitle: null, EmailAddress: null, BirthDate: null, ContactType: null,
        IsPrivate: false, CompanyId: null, BusinessAddress_City: null, BusinessAddress_Line1: null, BusinessAddress_Country: null,
      });
      expect(Date.parse(text(row.Created)!)).toBe(Date.parse(PAST));
      expect(Date.parse(text(row.Edited)!)).toBeGreaterThan(Date.parse(PAST));
    });

    it('answers 200 with the entity for Prefer: return=representation', async () => {
      const id = await fullContact();
      const res = await put(svc, `/Contacts(${id})`, { FirstName: 'Put', LastName: 'Back' }, { Prefer: 'return=representation' });
      expectStatus(res, 200);
      expect(res.json()).toMatchObject({ Id: id, FirstName: 'Put', LastName: 'Back', FullName: 'Put Back', JobTitle: null, IsPrivate: false, BusinessAddress: null });
    });

    it('refuses a body without a non-nullable property that has no default, and changes nothing', async () => {
      const company = await insertCompany(svc, { Name: 'Stays', Industry: 'Rail' });
      const before = await rowOf(svc, 'Companies', company);
      expectValidation(await put(svc, `/Companies(${company})`, { Industry: 'Air' }), [{ code: 'NULL_NOT_ALLOWED', target: 'Name' }]);
      expect(await rowOf(svc, 'Companies', company)).toEqual(before);
    });
  });

  describe('upsert', () => {
    it.each(['PATCH', 'PUT'])('%s to a key that does not exist creates the entity with that Id (201)', async (method) => {
      const id = newId();
      const res = await (method === 'PATCH' ? patch : put)(svc, `/Contacts(${id})`, { FirstName: 'Up', LastName: 'Serted' });
      expectStatus(res, 201);
      const body = res.json();
      expect(body).toMatchObject({ Id: id, FullName: 'Up Serted', IsPrivate: false });
      expect(body['@odata.etag']).toMatch(WEAK_ETAG);
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Serted');
    });

    it('answers 204 with return=minimal and still creates', async () => {
      const id = newId();
      const res = await patch(svc, `/Contacts(${id})`, { LastName: 'Quiet' }, { Prefer: 'return=minimal' });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Quiet');
    });

    it.each(['PATCH', 'PUT'])('%s with If-Match to a missing entity answers 412 and creates nothing', async (method) => {
      const id = newId();
      const count = await countRows(svc, 'Contacts');
      const res = await (method === 'PATCH' ? patch : put)(svc, `/Contacts(${id})`, { LastName: 'Never' }, { 'If-Match': '*' });
      expectError(res, 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
      expect(await countRows(svc, 'Contacts')).toBe(count);
    });
  });

  describe('the key', () => {
    it('refuses an Id in the body that differs from the URL key', async () => {
      const id = await fullContact();
      const other = newId();
      const before = await rowOf(svc, 'Contacts', id);
      const res = await patch(svc, `/Contacts(${id})`, { Id: other, JobTitle: 'Moved' });
      expectStatus(res, 400);
      expect(res.json().error.code).toEqual(expect.any(String));
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
      expect(await rowOf(svc, 'Contacts', other)).toBeUndefined();
      expectStatus(await put(svc, `/Contacts(${id})`, { Id: other, LastName: 'Moved' }), 400);
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });

    it('accepts an Id in the body equal to the URL key', async () => {
      const id = await fullContact();
      expectStatus(await patch(svc, `/Contacts(${id})`, { Id: id, JobTitle: 'Same' }), 204);
      expect((await rowOf(svc, 'Contacts', id))!.JobTitle).toBe('Same');
    });
  });

  describe('@odata.bind in PATCH', () => {
    it('a single-valued bind replaces the link', async () => {
      const id = await fullContact();
      const target = await insertCompany(svc);
      expectStatus(await patch(svc, `/Contacts(${id})`, { 'Company@odata.bind': `Companies(${target})` }), 204);
      expect((await rowOf(svc, 'Contacts', id))!.CompanyId).toBe(target);
    });

    it('a collection bind adds links and keeps the existing ones', async () => {
      const id = await insertContact(svc);
      const [g1, g2, g3] = [await insertGroup(svc), await insertGroup(svc), await insertGroup(svc)];
      await svc.knex('Contact_Group').insert({ ContactId: id, GroupId: g1 });
      expectStatus(await patch(svc, `/Contacts(${id})`, { 'Groups@odata.bind': [`Groups(${g2})`, `Groups(${g3})`] }), 204);
      expect(await linked(svc, 'Contact_Group', 'ContactId', id, 'GroupId')).toEqual([g1, g2, g3].sort());
    });

    it('a bind to a missing entity is refused and changes nothing', async () => {
      const id = await fullContact();
      const before = await rowOf(svc, 'Contacts', id);
      expectValidation(await patch(svc, `/Contacts(${id})`, { JobTitle: 'X', 'Company@odata.bind': `Companies(${newId()})` }), [
        { code: 'BIND_NOT_FOUND', target: 'Company@odata.bind' },
      ]);
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });
  });

  describe('through a single-valued navigation', () => {
    it('PATCH /Contacts(<id>)/Company updates the related company', async () => {
      const company = await insertCompany(svc, { Name: 'Nav Co', Phone: '111' });
      const id = await insertContact(svc, { CompanyId: company });
      expectStatus(await patch(svc, `/Contacts(${id})/Company`, { Phone: '222' }), 204);
      expect(await rowOf(svc, 'Companies', company)).toMatchObject({ Name: 'Nav Co', Phone: '222' });
    });

    it('PUT /Contacts(<id>)/Company replaces the related company', async () => {
      const company = await insertCompany(svc, { Name: 'Nav Co', Phone: '111', Industry: 'Old' });
      const id = await insertContact(svc, { CompanyId: company });
      expectStatus(await put(svc, `/Contacts(${id})/Company`, { Name: 'Renamed Co' }), 204);
      expect(await rowOf(svc, 'Companies', company)).toMatchObject({ Name: 'Renamed Co', Phone: null, Industry: null });
    });

    it('answers 404 for a missing source entity', async () => {
      expectStatus(await patch(svc, `/Contacts(${newId()})/Company`, { Phone: '1' }), 404);
    });
  });

  it('updates a boolean and an enum', async () => {
    const id = await fullContact();
    expectStatus(await patch(svc, `/Contacts(${id})`, { IsPrivate: false, ContactType: 'Other' }), 204);
    const row = (await rowOf(svc, 'Contacts', id))!;
    expect(bool(row.IsPrivate)).toBe(false);
    expect(Number(row.ContactType)).toBe(4);
  });
});
