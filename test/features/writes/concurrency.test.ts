/** ETags and optimistic concurrency: @odata.etag, ETag headers, If-Match, If-None-Match, and racing PATCHes. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  del, etagOf, expectError, expectStatus, insertCompany, insertContact, newId, patch, put, rowOf, WEAK_ETAG,
} from './write-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  describe('ETags in responses', () => {
    it('a single entity carries @odata.etag and the same value in the ETag header', async () => {
      const id = await insertContact(svc);
      const res = await svc.get(`/Contacts(${id})`);
      expectStatus(res, 200);
      const etag = res.headers.get('etag');
      expect(etag).toMatch(WEAK_ETAG);
      expect(res.json()['@odata.etag']).toBe(etag);
    });

    it('every entity of a collection carries @odata.etag, distinct per entity', async () => {
      const res = await svc.get('/Contacts?$top=10');
      expectStatus(res, 200);
      const etags = res.json().value.map((c: Row) => c['@odata.etag']);
      expect(etags).toHaveLength(10);
      for (const e of etags) expect(e).toMatch(WEAK_ETAG);
      // each entity's collection ETag is the one its single GET announces
      const first = res.json().value[0];
      expect(await etagOf(svc, `/Contacts(${first.Id})`)).toBe(first['@odata.etag']);
    });

    it('expanded entities carry @odata.etag too', async () => {
      const company = await insertCompany(svc);
      const id = await insertContact(svc, { CompanyId: company });
      const res = await svc.get(`/Contacts(${id})?$expand=Company`);
      expectStatus(res, 200);
      expect(res.json().Company['@odata.etag']).toMatch(WEAK_ETAG);
      expect(res.json().Company['@odata.etag']).toBe(await etagOf(svc, `/Companies(${company})`));
    });

    it('full metadata carries @odata.etag; odata.metadata=none does not', async () => {
      const id = await insertContact(svc);
      const full = await svc.get(`/Contacts(${id})`, { Accept: 'application/json;odata.metadata=full' });
      expectStatus(full, 200);
      expect(full.json()['@odata.etag']).toMatch(WEAK_ETAG);
      const none = await svc.get(`/Contacts(${id})`, { Accept: 'application/json;odata.metadata=none' });
      expectStatus(none, 200);
      expect(none.json()).not.toHaveProperty('@odata.etag');
      const list = await svc.get('/Contacts?$top=3', { Accept: 'application/json;odata.metadata=none' });
      for (const c of list.json().value) expect(c).not.toHaveProperty('@odata.etag');
    });

    it('every write changes the ETag, even several writes in quick succession', async () => {
      const id = await insertContact(svc);
      const seen = [await etagOf(svc, `/Contacts(${id})`)];
      for (let i = 0; i < 5; i++) {
        const res = await patch(svc, `/Contacts(${id})`, { JobTitle: `T${i % 2}` });
        expectStatus(res, 204);
        seen.push(res.headers.get('etag')!);
      }
      expect(new Set(seen).size).toBe(6);
      expect(await etagOf(svc, `/Contacts(${id})`)).toBe(seen[5]);
    });
  });

  describe('If-None-Match on GET', () => {
    it('answers 304 without a body for the current ETag', async () => {
      const id = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${id})`);
      const res = await svc.get(`/Contacts(${id})`, { 'If-None-Match': etag });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
    });

    it('answers 200 again after the entity changed', async () => {
      const id = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${id})`);
      expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: 'Changed' }), 204);
      const res = await svc.get(`/Contacts(${id})`, { 'If-None-Match': etag });
      expectStatus(res, 200);
      expect(res.json().JobTitle).toBe('Changed');
    });
  });

  describe('If-Match', () => {
    it('a stale ETag answers 412 PRECONDITION_FAILED and changes nothing', async () => {
      const id = await insertContact(svc, { JobTitle: 'Original' });
      const stale = await etagOf(svc, `/Contacts(${id})`);
      expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: 'First' }), 204);
      const before = await rowOf(svc, 'Contacts', id);
      expectError(await patch(svc, `/Contacts(${id})`, { JobTitle: 'Second' }, { 'If-Match': stale }), 412, 'PRECONDITION_FAILED');
      expectError(await put(svc, `/Contacts(${id})`, { LastName: 'Second' }, { 'If-Match': stale }), 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });

    it('the current ETag lets the write through', async () => {
      const id = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${id})`);
      const res = await patch(svc, `/Contacts(${id})`, { JobTitle: 'Matched' }, { 'If-Match': etag });
      expectStatus(res, 204);
      expect(res.headers.get('etag')).not.toBe(etag);
      expect((await rowOf(svc, 'Contacts', id))!.JobTitle).toBe('Matched');
    });

    it('If-Match: * matches any existing entity', async () => {
      const id = await insertContact(svc);
      expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: 'Star' }, { 'If-Match': '*' }), 204);
      expect((await rowOf(svc, 'Contacts', id))!.JobTitle).toBe('Star');
    });

    it('If-Match on a missing entity answers 412 and creates nothing', async () => {
      const id = newId();
      const etag = await etagOf(svc, `/Contacts(${await insertContact(svc)})`);
      expectError(await patch(svc, `/Contacts(${id})`, { LastName: 'Ghost' }, { 'If-Match': etag }), 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
    });

    it('a stale ETag on DELETE answers 412 and the entity remains', async () => {
      const id = await insertContact(svc);
      const stale = await etagOf(svc, `/Contacts(${id})`);
      expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: 'Bump' }), 204);
      expectError(await del(svc, `/Contacts(${id})`, { 'If-Match': stale }), 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toBeDefined();
    });
  });

  describe('If-None-Match: * on PUT', () => {
    it('an existing entity answers 412 and is not replaced', async () => {
      const id = await insertContact(svc, { FirstName: 'Keep', LastName: 'Me' });
      const before = await rowOf(svc, 'Contacts', id);
      expectError(await put(svc, `/Contacts(${id})`, { LastName: 'Replaced' }, { 'If-None-Match': '*' }), 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toEqual(before);
    });

    it('a missing entity is created (201)', async () => {
      const id = newId();
      const res = await put(svc, `/Contacts(${id})`, { LastName: 'Fresh' }, { 'If-None-Match': '*' });
      expectStatus(res, 201);
      expect(res.json().Id).toBe(id);
      expect((await rowOf(svc, 'Contacts', id))?.LastName).toBe('Fresh');
    });
  });

  describe('racing writers', () => {
    it('20 parallel PATCHes with the same If-Match: exactly one 204, nineteen 412', async () => {
      const id = await insertContact(svc, { JobTitle: 'Start' });
      const etag = await etagOf(svc, `/Contacts(${id})`);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => patch(svc, `/Contacts(${id})`, { JobTitle: `Writer ${i}` }, { 'If-Match': etag })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(19);
      for (const r of results.filter((x) => x.status === 412)) expect(r.json().error.code).toBe('PRECONDITION_FAILED');
      const winner = statuses.indexOf(204);
      expect((await rowOf(svc, 'Contacts', id))!.JobTitle).toBe(`Writer ${winner}`);
      expect(await etagOf(svc, `/Contacts(${id})`)).toBe(results[winner].headers.get('etag'));
    });

    it('20 parallel DELETEs with the same If-Match: exactly one 204', async () => {
      const id = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${id})`);
      const results = await Promise.all(Array.from({ length: 20 }, () => del(svc, `/Contacts(${id})`, { 'If-Match': etag })));
      expect(results.filter((r) => r.status === 204)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 204)) expect([404, 412]).toContain(r.status);
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
    });
  });

  describe('$metadata', () => {
    it('declares Core.OptimisticConcurrency ["Edited"] and insert/update/delete capabilities on every entity set', async () => {
      const doc = (await svc.get('/$metadata?$format=json')).json();
      const container = doc.Crm.Service;
      const sets = Object.entries(container).filter(([k, v]) => !k.startsWith('$') && !k.includes('@') && (v as Row).$Collection === true);
      expect(sets.length).toBeGreaterThanOrEqual(15);
      const term = (set: Row, name: string): unknown => set[`@Org.OData.${name}`] ?? set[`@${name.replace('.V1', '')}`];
      for (const [name, value] of sets) {
        const set = value as Row;
        expect({ name, v: term(set, 'Core.V1.OptimisticConcurrency') }).toEqual({ name, v: ['Edited'] });
        // Countries: reference data, declared not insertable or deletable (test/features/keys/countries.test.ts)
        const referenceData = name === 'Countries';
        expect({ name, v: term(set, 'Capabilities.V1.InsertRestrictions') }).toMatchObject({ name, v: { Insertable: !referenceData } });
        expect({ name, v: term(set, 'Capabilities.V1.UpdateRestrictions') }).toMatchObject({ name, v: { Updatable: true } });
        expect({ name, v: term(set, 'Capabilities.V1.DeleteRestrictions') }).toMatchObject({ name, v: { Deletable: !referenceData } });
      }
    });

    it('declares them in the XML document too', async () => {
      const xml = (await svc.get('/$metadata')).text;
      const contacts = /<EntitySet Name="Contacts"[\s\S]*?<\/EntitySet>/.exec(xml)?.[0] ?? '';
      expect(contacts).toMatch(/Term="(Org\.OData\.)?Core(\.V1)?\.OptimisticConcurrency"[\s\S]*?<PropertyPath>Edited<\/PropertyPath>/);
      expect(contacts).toMatch(/InsertRestrictions[\s\S]*?Property="Insertable" Bool="true"/);
      expect(contacts).toMatch(/UpdateRestrictions[\s\S]*?Property="Updatable" Bool="true"/);
      expect(contacts).toMatch(/DeleteRestrictions[\s\S]*?Property="Deletable" Bool="true"/);
    });
  });
});
