/**
 * Crm.ChangePassword bound to Crm.User: the caller's own password (CurrentPassword required and
 * checked), an Administrator on another user's (no CurrentPassword), the minimum length, refresh
 * tokens revoked, other roles refused on other users.
 */
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller, basic, form } from './auth-support';

const JSON_BODY = { 'Content-Type': 'application/json' };

for (const engine of ENGINES) {
  describe(`${engine.name}: Crm.ChangePassword`, () => {
    let svc: TestService;
    const ids = new Map<string, string>();
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 2, config: { signInFreeFailures: 1000 } });
      for (const row of await svc.knex('Users').select('Id', 'UserName')) ids.set(String(row.UserName), String(row.Id));
    });
    afterAll(() => svc.close());

    const change = (as: Record<string, string>, userName: string, body: Record<string, unknown>) =>
      asCaller(svc, 'POST', `/Users(${ids.get(userName)})/Crm.ChangePassword`, { ...as, ...JSON_BODY }, JSON.stringify(body));
    const signsIn = async (userName: string, password: string) => (await asCaller(svc, 'GET', '/Users?$top=1', { Authorization: basic(userName, password) })).status === 200;

    it('changes the caller\'s own password (204) and revokes their refresh tokens', async () => {
      const grant = (await form(svc, 'token', { grant_type: 'password', username: 'demo.browse', password: TEST_DEMO_PASSWORD })).json();
      const res = await change({ Authorization: `Bearer ${grant.access_token}` }, 'demo.browse', { CurrentPassword: TEST_DEMO_PASSWORD, NewPassword: 'a new browse password' });
      expect(res.status).toBe(204);
      expect(await signsIn('demo.browse', TEST_DEMO_PASSWORD)).toBe(false);
      expect(await signsIn('demo.browse', 'a new browse password')).toBe(true);
      const refreshed = await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: grant.refresh_token });
      expect(refreshed.status).toBe(400);
      expect(refreshed.json().error).toBe('invalid_grant');
      const [row] = await svc.knex('Users').select('Password').where('UserName', 'demo.browse');
      expect(String(row.Password)).not.toContain('a new browse password');
    });

    it('refuses a wrong or missing CurrentPassword with 400 targeting it, and changes nothing', async () => {
      const as = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      for (const body of [{ CurrentPassword: 'not the password', NewPassword: 'another password 1' }, { NewPassword: 'another password 1' }]) {
        const res = await change(as, 'demo.standard', body);
        expect(res.status).toBe(400);
        expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', target: 'CurrentPassword' });
      }
      expect(await signsIn('demo.standard', TEST_DEMO_PASSWORD)).toBe(true);
    });

    it('refuses a new password shorter than the minimum (400 targeting NewPassword)', async () => {
      const as = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      const res = await change(as, 'demo.standard', { CurrentPassword: TEST_DEMO_PASSWORD, NewPassword: 'short' });
      expect(res.status).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', target: 'NewPassword' });
      expect(await signsIn('demo.standard', TEST_DEMO_PASSWORD)).toBe(true);
    });

    it('lets an Administrator change another user\'s password without CurrentPassword, revoking their refresh tokens', async () => {
      const grant = (await form(svc, 'token', { grant_type: 'password', username: 'demo.manager', password: TEST_DEMO_PASSWORD })).json();
      const res = await change(svc.authHeaders, 'demo.manager', { NewPassword: 'set by the administrator' });
      expect(res.status).toBe(204);
      expect(await signsIn('demo.manager', 'set by the administrator')).toBe(true);
      expect(await signsIn('demo.manager', TEST_DEMO_PASSWORD)).toBe(false);
      expect((await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: grant.refresh_token })).json().error).toBe('invalid_grant');
    });

    it('refuses other roles on another user\'s password (403), even with the right CurrentPassword', async () => {
      const as = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
      const res = await change(as, 'demo.standard', { CurrentPassword: TEST_DEMO_PASSWORD, NewPassword: 'taken over password' });
      expect(res.status).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect(await signsIn('demo.standard', TEST_DEMO_PASSWORD)).toBe(true);
    });

    it('does not let the password change widen into other columns of the user', async () => {
      const as = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
      const patch = await asCaller(svc, 'PATCH', `/Users(${ids.get('demo.restricted')})`, { ...as, ...JSON_BODY }, JSON.stringify({ Role: 'Administrator' }));
      expect(patch.status).toBe(403);
    });
  });
}
