/**
 * Personal access tokens (AccessTokens): created by POST (the clear token answered once, only its
 * hash stored), used in every credential form, scopes and expiry honoured, listed and revoked by
 * their owner (Administrators: all), revocation effective on the next request.
 */
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller } from './auth-support';

const JSON_BODY = { 'Content-Type': 'application/json' };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

for (const engine of ENGINES) {
  describe(`${engine.name}: personal access tokens`, () => {
    let svc: TestService;
    let standard: Record<string, string>;
    let manager: Record<string, string>;
    let standardId: string;
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 5 });
      standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      manager = await bearerFor(svc.url, 'demo.manager', TEST_DEMO_PASSWORD);
      const [row] = await svc.knex('Users').select('Id').where('UserName', 'demo.standard');
      standardId = String(row.Id);
    });
    afterAll(() => svc.close());

    const create = (as: Record<string, string>, body: Record<string, unknown>, extra: Record<string, string> = {}) =>
      asCaller(svc, 'POST', '/AccessTokens', { ...as, ...JSON_BODY, ...extra }, JSON.stringify(body));

    it('creates a token: 201 with the clear token once, computed UserId and TokenPrefix, only the hash stored', async () => {
      const res = await create(standard, { Name: 'Excel', UserId: '00000000-0000-0000-0000-000000000001', Token: 'chosen' });
      expect(res.status).toBe(201);
      const body = res.json();
      expect(body.Token).toMatch(/^crm_pat_[A-Za-z0-9_-]{43}$/);
      expect(body).toMatchObject({ Name: 'Excel', Scopes: ['data'], ExpiresDate: null, LastUsedDate: null });
      expect(body.UserId.toLowerCase()).toBe(standardId.toLowerCase());
      expect(body.Token.startsWith(body.TokenPrefix)).toBe(true);
      expect(body.TokenPrefix.length).toBeLessThan(16);
      const [stored] = await svc.knex('AccessTokens').select('Token').where('Id', body.Id);
      expect(stored.Token).not.toBe(body.Token);
      expect(stored.Token).toMatch(/^[0-9a-f]{64}$/);
      // never readable afterwards
      const read = await asCaller(svc, 'GET', `/AccessTokens(${body.Id})`, standard);
      expect(read.status).toBe(200);
      expect(read.json().Token).toBeUndefined();
      expect(read.text).not.toContain(body.Token);
      expect((await asCaller(svc, 'GET', `/AccessTokens?$select=Token`, standard)).status).toBe(400);
    });

    it('answers the token even when return=minimal is preferred', async () => {
      const res = await create(standard, { Name: 'minimal' }, { Prefer: 'return=minimal' });
      expect(res.status).toBe(201);
      expect(res.json().Token).toMatch(/^crm_pat_/);
    });

    it('signs requests in as its owner in every credential form, and records its last use', async () => {
      const { Token: token, Id: id } = (await create(standard, { Name: 'use' })).json();
      const forms: Record<string, string>[] = [bearer(token), { ACCESS_TOKEN: token }, { Token: token }];
      for (const headers of forms) {
        expect((await asCaller(svc, 'GET', '/Contacts?$top=1', headers)).status).toBe(200);
      }
      expect((await asCaller(svc, 'GET', `/Contacts?$top=1&api_key=${token}`, {})).status).toBe(200);
      const own = await asCaller(svc, 'GET', '/Notes', { ...bearer(token), ...JSON_BODY });
      expect(own.status).toBe(200);
      const created = await asCaller(svc, 'POST', '/Notes', { ...bearer(token), ...JSON_BODY }, JSON.stringify({ Text: 'by token' }));
      expect(created.json().CreatedById.toLowerCase()).toBe(standardId.toLowerCase());
      const [row] = await svc.knex('AccessTokens').select('LastUsedDate').where('Id', id);
      expect(row.LastUsedDate).not.toBeNull();
    });

    it('honours scopes: data reaches the service but not AccessTokens; login the reverse', async () => {
      const dataOnly = (await create(standard, { Name: 'data', Scopes: ['data'] })).json().Token;
      const loginOnly = (await create(standard, { Name: 'login', Scopes: ['login'] })).json().Token;
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(dataOnly))).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/AccessTokens', bearer(dataOnly))).status).toBe(403);
      expect((await create(bearer(dataOnly), { Name: 'escalate', Scopes: ['login'] })).status).toBe(403);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(loginOnly))).status).toBe(403);
      expect((await asCaller(svc, 'GET', '/AccessTokens', bearer(loginOnly))).status).toBe(200);
      const both = (await create(standard, { Name: 'both', Scopes: ['login', 'data', 'data'] })).json();
      expect(both.Scopes).toEqual(['data', 'login']);
      const unknown = await create(standard, { Name: 'bad', Scopes: ['admin'] });
      expect(unknown.status).toBe(400);
      expect(unknown.json().error).toMatchObject({ code: 'VALIDATION_FAILED', target: 'Scopes' });
    });

    it('stops working once ExpiresDate has passed', async () => {
      const soon = new Date(Date.now() + 1500).toISOString();
      const { Token: token } = (await create(standard, { Name: 'short', ExpiresDate: soon })).json();
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(token))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1700));
      const res = await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(token));
      expect(res.status).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    });

    it('lists and reads only the caller\'s own tokens; Administrators see all', async () => {
      const mine = (await create(standard, { Name: 'standard-owned' })).json();
      const theirs = (await create(manager, { Name: 'manager-owned' })).json();
      const names = async (as: Record<string, string>) => (await asCaller(svc, 'GET', '/AccessTokens?$select=Name', as)).json().value.map((t: { Name: string }) => t.Name);
      expect(await names(standard)).toContain('standard-owned');
      expect(await names(standard)).not.toContain('manager-owned');
      expect(await names(manager)).toEqual(['manager-owned']);
      const all = await names(svc.authHeaders);
      expect(all).toEqual(expect.arrayContaining(['standard-owned', 'manager-owned']));
      expect((await asCaller(svc, 'GET', `/AccessTokens(${theirs.Id})`, standard)).status).toBe(404);
      expect((await asCaller(svc, 'GET', '/AccessTokens/$count', manager)).text).toBe('1');
      expect((await asCaller(svc, 'GET', `/AccessTokens(${mine.Id})`, svc.authHeaders)).status).toBe(200);
    });

    it('revokes by DELETE (owner or Administrator), effective on the next request', async () => {
      const own = (await create(standard, { Name: 'to revoke' })).json();
      const other = (await create(manager, { Name: 'admin revokes' })).json();
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(own.Token))).status).toBe(200);
      expect((await asCaller(svc, 'DELETE', `/AccessTokens(${other.Id})`, standard)).status).toBe(404);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(other.Token))).status).toBe(200);
      expect((await asCaller(svc, 'DELETE', `/AccessTokens(${own.Id})`, standard)).status).toBe(204);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(own.Token))).status).toBe(401);
      expect((await asCaller(svc, 'DELETE', `/AccessTokens(${other.Id})`, svc.authHeaders)).status).toBe(204);
      expect((await asCaller(svc, 'GET', '/Contacts?$top=1', bearer(other.Token))).status).toBe(401);
    });

    it('keeps UserId computed: a PATCH cannot hand a token to another user', async () => {
      const own = (await create(standard, { Name: 'keep' })).json();
      const [admin] = await svc.knex('Users').select('Id').where('UserName', 'admin');
      const res = await asCaller(svc, 'PATCH', `/AccessTokens(${own.Id})`, { ...standard, ...JSON_BODY }, JSON.stringify({ Name: 'renamed', UserId: String(admin.Id) }));
      expect([200, 204]).toContain(res.status);
      const [row] = await svc.knex('AccessTokens').select('UserId', 'Name').where('Id', own.Id);
      expect(String(row.UserId).toLowerCase()).toBe(standardId.toLowerCase());
      expect(row.Name).toBe('renamed');
    });
  });
}
