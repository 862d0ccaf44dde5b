/**
 * The `Me` singleton (Crm.User): the caller's own user, readable with $select/$expand by every
 * role, PATCH of DisplayName and Email only, listed in the service document and $metadata.
 */
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { asCaller } from './auth-support';

const JSON_BODY = { 'Content-Type': 'application/json' };

for (const engine of ENGINES) {
  describe(`${engine.name}: the Me singleton`, () => {
    let svc: TestService;
    let browse: Record<string, string>;
    let standard: Record<string, string>;
    const ids = new Map<string, string>();
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 2 });
      browse = await bearerFor(svc.url, 'demo.browse', TEST_DEMO_PASSWORD);
      standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
      for (const row of await svc.knex('Users').select('Id', 'UserName')) ids.set(String(row.UserName), String(row.Id).toLowerCase());
    });
    afterAll(() => svc.close());

    const patchMe = (as: Record<string, string>, body: unknown) => asCaller(svc, 'PATCH', '/Me', { ...as, ...JSON_BODY }, JSON.stringify(body));

    it('GET /Me answers the caller, with the singleton context URL and no password', async () => {
      for (const [as, userName] of [[browse, 'demo.browse'], [standard, 'demo.standard'], [svc.authHeaders, 'admin']] as const) {
        const res = await asCaller(svc, 'GET', '/Me', as);
        expect(res.status).toBe(200);
        const body = res.json();
        expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Me`);
        expect([body.UserName, body.Id.toLowerCase()]).toEqual([userName, ids.get(userName)]);
        expect(body.Password).toBeUndefined();
        expect(res.headers.get('etag')).toBeTruthy();
      }
    });

    it('GET /Me takes $select and $expand, and paths below it', async () => {
      const selected = await asCaller(svc, 'GET', '/Me?$select=UserName,Role&$expand=Teams($select=Name)', standard);
      expect(selected.status).toBe(200);
      const body = selected.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Me(UserName,Role,Teams(Name))`);
      expect(body).toMatchObject({ UserName: 'demo.standard', Role: 'Standard' });
      expect(Array.isArray(body.Teams)).toBe(true);
      expect(body.DisplayName).toBeUndefined();
      const property = await asCaller(svc, 'GET', '/Me/UserName', standard);
      expect(property.json().value).toBe('demo.standard');
      expect((await asCaller(svc, 'GET', '/Me/UserName/$value', standard)).text).toBe('demo.standard');
      expect((await asCaller(svc, 'GET', '/Me/Teams', standard)).status).toBe(200);
      expect((await asCaller(svc, 'GET', '/Me(1)', standard)).status).toBe(400);
      expect((await asCaller(svc, 'GET', '/Me/Password', standard)).status).toBe(400);
    });

    it('needs credentials', async () => {
      const res = await asCaller(svc, 'GET', '/Me', {});
      expect(res.status).toBe(401);
    });

    it('PATCH /Me changes DisplayName and Email, even for the Browse role', async () => {
      const res = await patchMe(browse, { DisplayName: 'Browsing Betty', Email: 'betty@example.com' });
      expect(res.status).toBe(204);
      const [row] = await svc.knex('Users').select('DisplayName', 'Email', 'EditedById').where('UserName', 'demo.browse');
      expect(row).toMatchObject({ DisplayName: 'Browsing Betty', Email: 'betty@example.com' });
      expect(String(row.EditedById).toLowerCase()).toBe(ids.get('demo.browse'));
      const representation = await asCaller(svc, 'PATCH', '/Me', { ...standard, ...JSON_BODY, Prefer: 'return=representation' }, JSON.stringify({ Email: 'std@example.com' }));
      expect(representation.status).toBe(200);
      expect(representation.json()).toMatchObject({ UserName: 'demo.standard', Email: 'std@example.com' });
    });

    it('PATCH /Me with return=representation answers as the singleton (context $metadata#Me), with $select too', async () => {
      const prefer = { ...standard, ...JSON_BODY, Prefer: 'return=representation' };
      const whole = await asCaller(svc, 'PATCH', '/Me', prefer, JSON.stringify({ DisplayName: 'Standard Stan' }));
      expect(whole.status).toBe(200);
      expect(whole.json()['@odata.context']).toBe(`${svc.url}/$metadata#Me`);
      const selected = await asCaller(svc, 'PATCH', '/Me?$select=DisplayName', prefer, JSON.stringify({ DisplayName: 'Stan again' }));
      expect(selected.status).toBe(200);
      expect(selected.json()).toMatchObject({ '@odata.context': `${svc.url}/$metadata#Me(DisplayName)`, DisplayName: 'Stan again' });
      // the same user through its entity set keeps the entity set's context
      const viaUsers = await asCaller(svc, 'PATCH', `/Users(${ids.get('demo.standard')})`, { ...svc.authHeaders, ...JSON_BODY, Prefer: 'return=representation' }, JSON.stringify({ DisplayName: 'Stan' }));
      expect(viaUsers.json()['@odata.context']).toBe(`${svc.url}/$metadata#Users/$entity`);
    });

    it('PATCH /Me refuses every other property (403 naming it) and changes nothing', async () => {
      for (const [name, value] of [['Role', 'Administrator'], ['UserName', 'taken'], ['IsActive', false], ['Password', 'a long enough password'], ['ContactId', null]] as const) {
        const res = await patchMe(standard, { DisplayName: 'should not stick', [name]: value });
        expect([name, res.status]).toEqual([name, 403]);
        expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', target: name });
      }
      const [row] = await svc.knex('Users').select('Role', 'UserName', 'DisplayName').where('Id', ids.get('demo.standard'));
      expect(row.UserName).toBe('demo.standard');
      expect(row.DisplayName).not.toBe('should not stick');
      const unknown = await patchMe(standard, { Nickname: 'x' });
      expect(unknown.status).toBe(400);
      expect(unknown.json().error.code).toBe('VALIDATION_FAILED');
      expect((await patchMe(standard, { Email: 'x'.repeat(300) })).status).toBe(400);
    });

    it('PATCH /Me cannot bind navigations, and other methods are not allowed', async () => {
      const bind = await patchMe(standard, { 'Contact@odata.bind': 'Contacts(00000000-0000-0000-0000-000000000001)' });
      expect(bind.status).toBe(403);
      for (const method of ['PUT', 'DELETE', 'POST']) {
        const res = await asCaller(svc, method, '/Me', { ...standard, ...JSON_BODY }, method === 'DELETE' ? undefined : JSON.stringify({ DisplayName: 'x' }));
        expect([method, res.status]).toEqual([method, 405]);
      }
      expect((await asCaller(svc, 'PUT', '/Me/DisplayName', { ...standard, ...JSON_BODY }, JSON.stringify({ value: 'x' }))).status).toBe(405);
    });

    it('does not open other users to a non-Administrator', async () => {
      const res = await asCaller(svc, 'PATCH', `/Users(${ids.get('demo.standard')})`, { ...standard, ...JSON_BODY }, JSON.stringify({ DisplayName: 'via Users' }));
      expect(res.status).toBe(403);
    });

    it('binds Crm.ChangePassword: POST /Me/Crm.ChangePassword', async () => {
      const res = await asCaller(svc, 'POST', '/Me/Crm.ChangePassword', { ...browse, ...JSON_BODY },
        JSON.stringify({ CurrentPassword: TEST_DEMO_PASSWORD, NewPassword: 'browse changed via Me' }));
      expect(res.status).toBe(204);
      expect((await bearerFor(svc.url, 'demo.browse', 'browse changed via Me')).Authorization).toMatch(/^Bearer /);
    });

    it('is listed in the service document and in $metadata (XML and JSON)', async () => {
      const doc = (await asCaller(svc, 'GET', '/', {})).json();
      expect(doc.value).toContainEqual({ name: 'Me', kind: 'Singleton', url: 'Me' });
      const xml = (await asCaller(svc, 'GET', '/$metadata', {})).text;
      expect(xml).toMatch(/<Singleton Name="Me" Type="Crm\.User">/);
      const json = (await asCaller(svc, 'GET', '/$metadata?$format=json', {})).json();
      expect(json.Crm.Service.Me).toMatchObject({ $Type: 'Crm.User' });
      expect(json.Crm.Service.Me.$Collection).toBeUndefined();
    });
  });
}
