/**
 * Callers verified lately are kept per credential while the database is unchanged (src/auth/signed-in-cache.ts;
 * SQLite only): every change that decides who a caller is — a revocation, a deactivation, a new password or
 * role — counts on the very next request, also when another connection (another worker, a tool) writes it,
 * and nothing is kept past a token's expiry or a Basic verification's lifetime.
 */
import * as passwords from '../../../src/auth/passwords';
import { tokenHash } from '../../../src/auth/tokens';
import { openDatabase, type Database } from '../../../src/db/connect';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller, basic } from './auth-support';

type Headers = Record<string, string>;
const JSON_BODY = { 'Content-Type': 'application/json' };
const STANDARD_ROLE = 2;

for (const engine of ENGINES) {
  describe(`${engine.name}: signed-in callers kept between requests`, () => {
    let svc: TestService;
    /** a connection of its own, as another worker or a maintenance tool would write */
    let other: Database;
    const ids = new Map<string, string>();
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 2, config: { signInFreeFailures: 1000 } });
      other = openDatabase(svc.database ?? '');
      for (const row of await svc.knex('Users').select('Id', 'UserName')) ids.set(String(row.UserName), String(row.Id));
    });
    afterAll(async () => {
      await other.knex.destroy();
      await svc.close();
    });

    const get = async (path: string, credentials: Headers) => (await asCaller(svc, 'GET', path, credentials)).status;
    const asAdmin = (method: string, path: string, body: unknown) => asCaller(svc, method, path, { ...svc.authHeaders, ...JSON_BODY }, JSON.stringify(body));
    const userId = (name: string) => ids.get(name) ?? '';

    it('reads the token row once for repeated requests while nothing changes (SQLite), on every request otherwise', async () => {
      const bearer = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      expect(await get('/Contacts?$top=1', bearer)).toBe(200);
      const lookups = jest.spyOn(svc.running.services.auth.store, 'sessionToken');
      try {
        for (let i = 0; i < 4; i++) expect(await get('/Contacts?$top=1', bearer)).toBe(200);
        if (engine.name === 'sqlite') expect(lookups.mock.calls.length).toBeLessThan(4);
        else expect(lookups).toHaveBeenCalledTimes(4);
      } finally {
        lookups.mockRestore();
      }
    });

    it('refuses a token revoked by another connection on the next request', async () => {
      const bearer = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      for (let i = 0; i < 2; i++) expect(await get('/Contacts?$top=1', bearer)).toBe(200);
      const token = bearer.Authorization.slice('Bearer '.length);
      expect(await other.knex('odata_auth_tokens').update({ revoked_at: Date.now() }).where({ token_hash: tokenHash(token) })).toBe(1);
      expect(await get('/Contacts?$top=1', bearer)).toBe(401);
    });

    it('refuses a user deactivated by another connection at once, by token and by Basic, and takes them back', async () => {
      const bearer = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
      const password = { Authorization: basic('demo.restricted', TEST_DEMO_PASSWORD) };
      for (let i = 0; i < 2; i++) {
        expect(await get('/Contacts?$top=1', bearer)).toBe(200);
        expect(await get('/Contacts?$top=1', password)).toBe(200);
      }
      await other.knex('Users').update({ IsActive: false }).where({ Id: userId('demo.restricted') });
      expect(await get('/Contacts?$top=1', bearer)).toBe(401);
      expect(await get('/Contacts?$top=1', password)).toBe(401);
      await other.knex('Users').update({ IsActive: true }).where({ Id: userId('demo.restricted') });
      expect(await get('/Contacts?$top=1', bearer)).toBe(200);
      expect(await get('/Contacts?$top=1', password)).toBe(200);
    });

    it('refuses the old Basic password at once after another connection stored a new one', async () => {
      const old = { Authorization: basic('demo.browse', TEST_DEMO_PASSWORD) };
      for (let i = 0; i < 2; i++) expect(await get('/Contacts?$top=1', old)).toBe(200);
      await other.knex('Users').update({ Password: await passwords.hashPassword('browse new password') }).where({ Id: userId('demo.browse') });
      expect(await get('/Contacts?$top=1', old)).toBe(401);
      expect(await get('/Contacts?$top=1', { Authorization: basic('demo.browse', 'browse new password') })).toBe(200);
    });

    it('applies a new role on the next request, written through the service or by another connection', async () => {
      const created = await asAdmin('POST', '/Contacts', { FirstName: 'Kept', LastName: 'Private', IsPrivate: true });
      expect(created.status).toBe(201);
      const contact = `/Contacts(${String(created.json().Id)})`;
      const callers: Headers[] = [await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD), { Authorization: basic('demo.standard', TEST_DEMO_PASSWORD) }];
      for (const caller of callers) for (let i = 0; i < 2; i++) expect(await get(contact, caller)).toBe(404);
      expect((await asAdmin('PATCH', `/Users(${userId('demo.standard')})`, { Role: 'Manager' })).status).toBe(204);
      for (const caller of callers) expect(await get(contact, caller)).toBe(200);
      await other.knex('Users').update({ Role: STANDARD_ROLE }).where({ Id: userId('demo.standard') });
      for (const caller of callers) expect(await get(contact, caller)).toBe(404);
    });
  });

  describe(`${engine.name}: signed-in callers kept no longer than a token or a Basic verification lives`, () => {
    let svc: TestService;
    beforeAll(async () => { svc = await startTestService(engine, { contacts: 2, config: { accessTokenSeconds: 1, basicCacheSeconds: 1 } }); });
    afterAll(() => svc.close());

    it('refuses an expired token and checks the password again once its verification has lapsed, with no write in between', async () => {
      const bearer = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      const password = { Authorization: basic('demo.manager', TEST_DEMO_PASSWORD) };
      const verify = jest.spyOn(passwords, 'verifyPassword');
      try {
        for (let i = 0; i < 2; i++) {
          expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer)).status).toBe(200);
          expect((await asCaller(svc, 'GET', '/Contacts?$top=1', password)).status).toBe(200);
        }
        expect(verify).toHaveBeenCalledTimes(1);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer)).status).toBe(401);
        expect((await asCaller(svc, 'GET', '/Contacts?$top=1', password)).status).toBe(200);
        expect(verify).toHaveBeenCalledTimes(2);
      } finally {
        verify.mockRestore();
      }
    });
  });
}
