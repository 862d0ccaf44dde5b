/**
 * HTTP Basic credentials are verified (scrypt) once per cache lifetime, not per request; a password
 * change, a deactivation or a rename takes effect on the next request all the same, and failed
 * attempts are never remembered.
 */
import * as passwords from '../../../src/auth/passwords';
import { ENGINES } from '../../helpers/engines';
import { startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller, basic } from './auth-support';

const JSON_BODY = { 'Content-Type': 'application/json' };

for (const engine of ENGINES) {
  describe(`${engine.name}: verified Basic credentials cache`, () => {
    let svc: TestService;
    let verify: jest.SpyInstance;
    const ids = new Map<string, string>();
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 2, config: { signInFreeFailures: 1000 } });
      for (const row of await svc.knex('Users').select('Id', 'UserName')) ids.set(String(row.UserName), String(row.Id));
    });
    beforeEach(() => { verify = jest.spyOn(passwords, 'verifyPassword'); });
    afterEach(() => verify.mockRestore());
    afterAll(() => svc.close());

    const status = async (userName: string, password: string) => (await asCaller(svc, 'GET', '/Contacts?$top=1', { Authorization: basic(userName, password) })).status;
    const asAdmin = (method: string, path: string, body: unknown) => asCaller(svc, method, path, { ...svc.authHeaders, ...JSON_BODY }, JSON.stringify(body));

    it('runs the password check once for repeated requests with the same credentials', async () => {
      for (let i = 0; i < 5; i++) expect(await status('demo.standard', TEST_DEMO_PASSWORD)).toBe(200);
      expect(verify).toHaveBeenCalledTimes(1);
      // other credentials are their own entry
      expect(await status('demo.manager', TEST_DEMO_PASSWORD)).toBe(200);
      expect(verify).toHaveBeenCalledTimes(2);
    });

    it('never remembers a failed attempt', async () => {
      expect(await status('demo.standard', TEST_DEMO_PASSWORD)).toBe(200);
      verify.mockClear();
      for (let i = 0; i < 3; i++) expect(await status('demo.standard', 'wrong password 123')).toBe(401);
      expect(verify).toHaveBeenCalledTimes(3);
    });

    it('refuses the old password on the very next request after a password change', async () => {
      expect(await status('demo.restricted', TEST_DEMO_PASSWORD)).toBe(200);
      const changed = await asAdmin('POST', `/Users(${ids.get('demo.restricted')})/Crm.ChangePassword`, { NewPassword: 'restricted new password' });
      expect(changed.status).toBe(204);
      expect(await status('demo.restricted', TEST_DEMO_PASSWORD)).toBe(401);
      expect(await status('demo.restricted', 'restricted new password')).toBe(200);
    });

    it('refuses a deactivated user on the very next request, and takes them back when reactivated', async () => {
      expect(await status('demo.browse', TEST_DEMO_PASSWORD)).toBe(200);
      expect((await asAdmin('PATCH', `/Users(${ids.get('demo.browse')})`, { IsActive: false })).status).toBe(204);
      expect(await status('demo.browse', TEST_DEMO_PASSWORD)).toBe(401);
      expect((await asAdmin('PATCH', `/Users(${ids.get('demo.browse')})`, { IsActive: true })).status).toBe(204);
      expect(await status('demo.browse', TEST_DEMO_PASSWORD)).toBe(200);
    });

    it('refuses the old user name on the very next request after a rename', async () => {
      expect(await status('demo.manager', TEST_DEMO_PASSWORD)).toBe(200);
      expect((await asAdmin('PATCH', `/Users(${ids.get('demo.manager')})`, { UserName: 'demo.manager2' })).status).toBe(204);
      expect(await status('demo.manager', TEST_DEMO_PASSWORD)).toBe(401);
      expect(await status('demo.manager2', TEST_DEMO_PASSWORD)).toBe(200);
    });
  });

  describe(`${engine.name}: Basic without the cache (ODATA_BASIC_CACHE_SECONDS=0)`, () => {
    let svc: TestService;
    beforeAll(async () => { svc = await startTestService(engine, { contacts: 2, config: { basicCacheSeconds: 0 } }); });
    afterAll(() => svc.close());

    it('checks the password on every request', async () => {
      const verify = jest.spyOn(passwords, 'verifyPassword');
      try {
        for (let i = 0; i < 3; i++) expect((await asCaller(svc, 'GET', '/Contacts?$top=1', { Authorization: basic('demo.standard', TEST_DEMO_PASSWORD) })).status).toBe(200);
        expect(verify).toHaveBeenCalledTimes(3);
      } finally {
        verify.mockRestore();
      }
    });
  });
}
