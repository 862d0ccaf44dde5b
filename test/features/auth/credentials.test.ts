/**
 * Every accepted credential form (Bearer, ACCESS_TOKEN, Token, Basic, the API key parameter), the
 * open documents, 401s with WWW-Authenticate, $batch parts running as the batch's caller, the API
 * key kept out of next links and context URLs, and failed sign-ins slowed down.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, TEST_ADMIN, TEST_DEMO_PASSWORD, bearerFor, type TestService } from '../../helpers/service';
import { asCaller, basic, form } from './auth-support';

for (const engine of ENGINES) {
  describe(`${engine.name}: credentials`, () => {
    let svc: TestService;
    let token: string;
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 30, pageSize: 10, config: { signInFreeFailures: 1000 } });
      token = svc.authHeaders.Authorization.slice('Bearer '.length);
    });
    afterAll(() => svc.close());

    it('accepts a token as Bearer, in ACCESS_TOKEN, in Token and as the api_key parameter', async () => {
      const forms: Record<string, string>[] = [{ Authorization: `Bearer ${token}` }, { Authorization: `bearer ${token}` }, { ACCESS_TOKEN: token }, { Token: token }];
      for (const headers of forms) {
        expect([headers, (await asCaller(svc, 'GET', '/Contacts?$top=1', headers)).status]).toEqual([headers, 200]);
      }
      expect((await asCaller(svc, 'GET', `/Contacts?$top=1&api_key=${token}`, {})).status).toBe(200);
      expect((await asCaller(svc, 'GET', `/$metadata?api_key=${token}`, {})).status).toBe(200);
    });

    it('accepts HTTP Basic with user name and password', async () => {
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', { Authorization: basic(TEST_ADMIN.userName, TEST_ADMIN.password) })).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', { Authorization: basic('demo.browse', TEST_DEMO_PASSWORD) })).status).toBe(200);
      const wrong = await asCaller(svc, 'GET', '/Contacts?$top=1', { Authorization: basic(TEST_ADMIN.userName, 'wrong password') });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toMatch(/Bearer.*Basic/);
    });

    it('keeps the API key out of next links and context URLs', async () => {
      const res = await asCaller(svc, 'GET', `/Contacts?$select=Id&api_key=${token}`, {});
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.nextLink']).toBeDefined();
      expect(res.text).not.toContain(token);
      expect(res.text).not.toContain('api_key');
      // the next link works with the key given again (Power Query appends it to every URL)
      const next = new URL(body['@odata.nextLink']);
      const page2 = await asCaller(svc, 'GET', `${next.pathname.slice(new URL(svc.url).pathname.length)}${next.search}&api_key=${token}`, {});
      expect(page2.status).toBe(200);
    });

    it('answers the service document and $metadata without credentials, and nothing else', async () => {
      expect((await asCaller(svc, 'GET', '/', {})).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/$metadata', {})).status).toBe(200);
      for (const [method, path] of [['GET', '/Contacts'], ['GET', '/SystemInfo()'], ['POST', '/$batch'], ['GET', '/Users'], ['POST', '/Notes']]) {
        const res = await asCaller(svc, method, path, {});
        expect([method, path, res.status]).toEqual([method, path, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="CRM", Basic realm="CRM"/);
        expect(res.json().error).toMatchObject({ code: 'UNAUTHENTICATED' });
      }
    });

    it('runs every $batch part as the batch caller', async () => {
      const browse = await bearerFor(svc.url, 'demo.browse', TEST_DEMO_PASSWORD);
      const batch = JSON.stringify({ requests: [
        { id: '1', method: 'get', url: 'Notes?$top=1' },
        { id: '2', method: 'post', url: 'Notes', headers: { 'content-type': 'application/json' }, body: { Text: 'from a batch' } },
      ] });
      const asBrowse = await asCaller(svc, 'POST', '/$batch', { ...browse, 'Content-Type': 'application/json' }, batch);
      expect(asBrowse.status).toBe(200);
      expect(asBrowse.json().responses.map((r: { status: number }) => r.status)).toEqual([200, 403]);
      const asAdmin = await asCaller(svc, 'POST', '/$batch', { ...svc.authHeaders, 'Content-Type': 'application/json' }, batch);
      expect(asAdmin.json().responses.map((r: { status: number }) => r.status)).toEqual([200, 201]);
      expect((await asCaller(svc, 'POST', '/$batch', { 'Content-Type': 'application/json' }, batch)).status).toBe(401);
    });
  });

  describe(`${engine.name}: failed sign-ins`, () => {
    let svc: TestService;
    beforeAll(async () => { svc = await startTestService(engine, { contacts: 0, config: { signInFreeFailures: 2 } }); });
    afterAll(() => svc.close());

    it('slows sign-ins down per user name after the free failures (429 with Retry-After), even with the right password', async () => {
      const grant = (password: string) => form(svc, 'token', { grant_type: 'password', username: TEST_ADMIN.userName, password });
      expect((await grant('wrong-1')).status).toBe(400);
      expect((await grant('wrong-2')).status).toBe(400);
      expect((await grant('wrong-3')).status).toBe(400);
      const slowed = await grant(TEST_ADMIN.password);
      expect(slowed.status).toBe(429);
      expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const basicSlowed = await asCaller(svc, 'GET', '/Notes', { Authorization: basic(TEST_ADMIN.userName, TEST_ADMIN.password) });
      expect([basicSlowed.status, basicSlowed.json().error.code]).toEqual([429, 'TOO_MANY_SIGN_IN_FAILURES']);
      // tokens already issued keep working
      expect((await svc.get('/Notes?$top=1')).status).toBe(200);
      await new Promise((r) => setTimeout(r, Number(slowed.headers.get('retry-after')) * 1000 + 100));
      expect((await grant(TEST_ADMIN.password)).status).toBe(200);
    });
  });
}
