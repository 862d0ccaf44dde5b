/**
 * What answers must not reveal about records the caller cannot see (issue 14, items 4 and 6): a refused
 * delete counts hidden referrers without naming them, and a client-chosen key answers alike whether or
 * not a hidden record holds it (POST 403 for a caller who sees only part of the set; no upsert: 404).
 */
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { newId } from '../writes/write-support';
import { asCaller } from './auth-support';

type Headers = Record<string, string>;
interface ErrorBody { code: string; message: string; target?: string; details?: { code: string; target?: string; message: string }[] }

for (const engine of ENGINES) {
  describe(`${engine.name}: no leaks of hidden records in refusals`, () => {
    let svc: TestService;
    let standard: Headers;
    let manager: Headers;
    let other: string;

    const send = (as: Headers, method: string, path: string, body?: unknown) =>
      asCaller(svc, method, path, { ...as, 'Content-Type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
    const create = async (path: string, body: Record<string, unknown>): Promise<string> => {
      const res = await send(svc.authHeaders, 'POST', path, body);
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
      return String(res.json().Id);
    };
    const errorOf = (res: { json: () => { error: ErrorBody } }): ErrorBody => res.json().error;

    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 2 });
      standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      manager = await bearerFor(svc.url, 'demo.manager', TEST_DEMO_PASSWORD);
      other = await create('/Users', { UserName: `leak${newId().slice(0, 8)}` });
    });
    afterAll(() => svc.close());

    describe('a refused delete (DELETE_RESTRICTED)', () => {
      it('names the referrers the caller sees and counts the hidden ones without their keys; still refuses', async () => {
        const type = await create('/ActivityTypes', { Name: `Leak type ${newId().slice(0, 6)}`, IsActive: true });
        const hidden = [
          await create('/Activities', { Subject: 'hidden 1', IsPrivate: true, OrganizerId: other, ActivityTypeId: type }),
          await create('/Activities', { Subject: 'hidden 2', IsPrivate: true, OrganizerId: other, ActivityTypeId: type }),
        ];
        const shown = await create('/Activities', { Subject: 'public', IsPrivate: false, OrganizerId: other, ActivityTypeId: type });

        const refused = await send(standard, 'DELETE', `/ActivityTypes(${type})`);
        expect(refused.status).toBe(409);
        const error = errorOf(refused);
        expect(error.code).toBe('DELETE_RESTRICTED');
        expect(error.details).toHaveLength(1);
        expect(error.details![0].target).toBe('Activities');
        const message = error.details![0].message;
        expect(message).toContain(`Activities(${shown})`);
        expect(message).toContain('2 Activities records you cannot see');
        for (const key of hidden) expect(JSON.stringify(refused.json())).not.toContain(key);
        expect((await svc.knex('ActivityTypes').where('Id', type)).length).toBe(1);

        // a caller who sees them all gets them all named, and no count of hidden ones
        const byManager = errorOf(await send(manager, 'DELETE', `/ActivityTypes(${type})`));
        for (const key of [...hidden, shown]) expect(byManager.details![0].message).toContain(key);
        expect(byManager.details![0].message).not.toContain('cannot see');
      });

      it('refuses when every referrer is hidden, in a single request and a $batch part, naming none', async () => {
        const type = await create('/ActivityTypes', { Name: `Leak type ${newId().slice(0, 6)}`, IsActive: true });
        const hidden = await create('/Activities', { Subject: 'only hidden', IsPrivate: true, OrganizerId: other, ActivityTypeId: type });
        const single = await send(standard, 'DELETE', `/ActivityTypes(${type})`);
        expect(single.status).toBe(409);
        expect(errorOf(single).details![0].message).toMatch(/^1 Activities record you cannot see refer to ActivityTypes\(/);
        expect(single.text).not.toContain(hidden);

        const batch = await send(standard, 'POST', '/$batch', { requests: [{ id: '1', method: 'DELETE', url: `ActivityTypes(${type})` }] });
        expect(batch.status).toBe(200);
        const [part] = batch.json().responses as { status: number; body: { error: ErrorBody } }[];
        expect(part.status).toBe(409);
        expect(part.body.error.code).toBe('DELETE_RESTRICTED');
        expect(part.body.error.details![0].message).toContain('1 Activities record you cannot see');
        expect(JSON.stringify(part.body)).not.toContain(hidden);
        expect((await svc.knex('ActivityTypes').where('Id', type)).length).toBe(1);
      });
    });

    describe('a client-chosen key', () => {
      it('POST: a caller who sees only part of the set gets the same 403 whether the key is hidden, free or visible', async () => {
        const hiddenContact = await create('/Contacts', { LastName: 'Hidden', IsPrivate: true, OwnerId: other });
        const visibleContact = await create('/Contacts', { LastName: 'Visible', IsPrivate: false, OwnerId: other });
        const free = newId();
        const answers = await Promise.all([hiddenContact, free, visibleContact].map((Id) => send(standard, 'POST', '/Contacts', { Id, LastName: 'Probe' })));
        expect(answers.map((r) => r.status)).toEqual([403, 403, 403]);
        const bodies = answers.map((r) => r.text);
        expect(new Set(bodies).size).toBe(1);
        expect(errorOf(answers[0])).toMatchObject({ code: 'FORBIDDEN', target: 'Id' });
        expect(bodies[0]).not.toContain(hiddenContact);
        expect((await svc.knex('Contacts').where('Id', free)).length).toBe(0);
        expect((await svc.knex('Contacts').where('Id', hiddenContact).first()).LastName).toBe('Hidden');
        // without a key the service assigns one
        expect((await send(standard, 'POST', '/Contacts', { LastName: 'Keyless' })).status).toBe(201);
      });

      it('POST: callers who see the whole set choose keys (201 when free, 409 ALREADY_EXISTS when taken)', async () => {
        const taken = await create('/Contacts', { LastName: 'Taken', IsPrivate: true, OwnerId: other });
        const free = newId();
        expect((await send(manager, 'POST', '/Contacts', { Id: free, LastName: 'Chosen' })).status).toBe(201);
        const conflict = await send(manager, 'POST', '/Contacts', { Id: taken, LastName: 'Again' });
        expect(conflict.status).toBe(409);
        expect(errorOf(conflict).code).toBe('ALREADY_EXISTS');
        // a set the Standard role sees whole (Companies have no private records): keys as usual
        const company = newId();
        expect((await send(standard, 'POST', '/Companies', { Id: company, Name: 'Chosen Co' })).status).toBe(201);
        expect(errorOf(await send(standard, 'POST', '/Companies', { Id: company, Name: 'Again' })).code).toBe('ALREADY_EXISTS');
      });

      it('PUT/PATCH upsert: a caller who sees only part of the set gets 404 for a hidden and for a free key alike', async () => {
        const hiddenContact = await create('/Contacts', { LastName: 'Hidden', IsPrivate: true, OwnerId: other });
        const free = newId();
        for (const method of ['PUT', 'PATCH']) {
          const answers = await Promise.all([hiddenContact, free].map((key) => send(standard, method, `/Contacts(${key})`, { LastName: 'Upsert' })));
          expect([method, ...answers.map((r) => r.status)]).toEqual([method, 404, 404]);
          expect(answers.map((r) => errorOf(r).code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
          expect(errorOf(answers[0]).message.replace(hiddenContact, 'K')).toBe(errorOf(answers[1]).message.replace(free, 'K'));
        }
        expect((await svc.knex('Contacts').where('Id', free)).length).toBe(0);
        expect((await svc.knex('Contacts').where('Id', hiddenContact).first()).LastName).toBe('Hidden');
        // a caller who sees the whole set still upserts
        const upserted = newId();
        expect((await send(manager, 'PUT', `/Contacts(${upserted})`, { LastName: 'Upserted' })).status).toBe(201);
      });
    });
  });
}
