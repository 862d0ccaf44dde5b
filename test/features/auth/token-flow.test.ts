/**
 * POST /auth/token (password and refresh_token grants, RFC 6749), rotation and reuse of refresh
 * tokens, POST /auth/revoke (RFC 7009), token lifetime, inactive users.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, TEST_ADMIN, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller, form } from './auth-support';

const bearer = (token: unknown) => ({ Authorization: `Bearer ${String(token)}` });

for (const engine of ENGINES) {
  describe(`${engine.name}: the token flow`, () => {
    let svc: TestService;
    beforeAll(async () => { svc = await startTestService(engine, { contacts: 10, config: { accessTokenSeconds: 2 } }); });
    afterAll(() => svc.close());

    const grant = (userName: string, password: string) => form(svc, 'token', { grant_type: 'password', username: userName, password });

    it('issues a short-lived Bearer access token and a refresh token for a password grant', async () => {
      const res = await grant(TEST_ADMIN.userName, TEST_ADMIN.password);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = res.json();
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 2, scope: 'data login' });
      expect(body.access_token).toMatch(/^crm_at_[A-Za-z0-9_-]{43}$/);
      expect(body.refresh_token).toMatch(/^crm_rt_[A-Za-z0-9_-]{43}$/);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(body.access_token))).status).toBe(200);
      // only hashes are stored
      const stored = await svc.knex('odata_auth_tokens').select('token_hash');
      expect(stored.some((r) => r.token_hash === body.access_token || r.token_hash === body.refresh_token)).toBe(false);
    });

    it('stops accepting an access token once it has expired', async () => {
      const { access_token: token } = (await grant(TEST_ADMIN.userName, TEST_ADMIN.password)).json();
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(token))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2100));
      const res = await asCaller(svc, 'GET', '/Notes?$top=1', bearer(token));
      expect(res.status).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    });

    it('rotates refresh tokens, and reusing a rotated one revokes the whole chain', async () => {
      const first = (await grant(TEST_ADMIN.userName, TEST_ADMIN.password)).json();
      const second = await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(second.status).toBe(200);
      const rotated = second.json();
      expect(rotated.refresh_token).not.toBe(first.refresh_token);
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(rotated.access_token))).status).toBe(200);
      // the old access token went with the rotation
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(first.access_token))).status).toBe(401);
      const reuse = await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(reuse.status).toBe(400);
      expect(reuse.json().error).toBe('invalid_grant');
      // the chain is gone: the newest tokens stop working too
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(rotated.access_token))).status).toBe(401);
      expect((await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: rotated.refresh_token })).json().error).toBe('invalid_grant');
    });

    it('revokes through POST /auth/revoke: an access token at once, a refresh token with its chain', async () => {
      const a = (await grant(TEST_ADMIN.userName, TEST_ADMIN.password)).json();
      expect((await form(svc, 'revoke', { token: a.access_token })).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(a.access_token))).status).toBe(401);
      const b = (await grant(TEST_ADMIN.userName, TEST_ADMIN.password)).json();
      expect((await form(svc, 'revoke', { token: b.refresh_token, token_type_hint: 'refresh_token' })).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(b.access_token))).status).toBe(401);
      expect((await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: b.refresh_token })).status).toBe(400);
      // unknown tokens: 200 as well (RFC 7009 §2.2)
      expect((await form(svc, 'revoke', { token: 'crm_at_nothing' })).status).toBe(200);
      expect((await form(svc, 'revoke', {})).json().error).toBe('invalid_request');
    });

    it('answers RFC 6749 errors', async () => {
      const wrong = await grant(TEST_ADMIN.userName, 'not the password');
      expect([wrong.status, wrong.json().error]).toEqual([400, 'invalid_grant']);
      expect((await form(svc, 'token', { username: 'x', password: 'y' })).json().error).toBe('invalid_request');
      expect((await form(svc, 'token', { grant_type: 'client_credentials' })).json().error).toBe('unsupported_grant_type');
      expect((await form(svc, 'token', { grant_type: 'password', username: 'admin' })).json().error).toBe('invalid_request');
      expect((await form(svc, 'token', { grant_type: 'password', username: 'a', password: 'b' }, 'application/json')).json().error).toBe('invalid_request');
      const twice = await fetch(new URL('/auth/token', svc.url), {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password&grant_type=password&username=a&password=b',
      });
      expect([twice.status, ((await twice.json()) as { error: string }).error]).toEqual([400, 'invalid_request']);
      expect((await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: 'crm_rt_forged' })).json().error).toBe('invalid_grant');
    });

    it('lets no inactive user sign in, and stops their tokens', async () => {
      const token = (await grant('demo.standard', TEST_DEMO_PASSWORD)).json();
      expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(token.access_token))).status).toBe(200);
      await svc.knex('Users').update({ IsActive: false }).where('UserName', 'demo.standard');
      try {
        expect((await asCaller(svc, 'GET', '/Notes?$top=1', bearer(token.access_token))).status).toBe(401);
        expect((await grant('demo.standard', TEST_DEMO_PASSWORD)).json().error).toBe('invalid_grant');
        expect((await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: token.refresh_token })).json().error).toBe('invalid_grant');
      } finally {
        await svc.knex('Users').update({ IsActive: true }).where('UserName', 'demo.standard');
      }
    });
  });
}
