/**
 * Alternate keys as an engine feature (issue 17, item 10), beyond Tags and Countries: a model that
 * declares them on Users — `UserName` alone, and `DisplayName` with the enum `Role` under the alias
 * `AccessRole` — is served with them at once (key predicates, `@odata.bind`, `$ref`, `$id`, upserts),
 * while `@odata.id` stays the canonical key.
 */
import { loadModel } from '../../../src/edm/load-csdl';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';

const JSON_HEADERS = { 'content-type': 'application/json' };
const FULL = { Accept: 'application/json;odata.metadata=full' };

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let manager: Row;
  const send = (method: string, path: string, body?: unknown) => svc.request(method, path, { headers: JSON_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const quoted = (s: unknown) => `'${String(s).replace(/'/g, "''")}'`;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 5 });
    const csdl = structuredClone(svc.running.services.model().csdl) as Record<string, Record<string, Record<string, unknown>>>;
    csdl.Crm.User['@Org.OData.Core.V1.AlternateKeys'] = [
      { Key: [{ Name: 'UserName' }] },
      { Key: [{ Name: 'DisplayName' }, { Name: 'Role', Alias: 'AccessRole' }] },
    ];
    svc.running.replaceModel(loadModel(csdl));
    manager = (await svc.get("/Users?$filter=UserName eq 'demo.manager'&$select=Id,UserName,DisplayName,Role")).json<{ value: Row[] }>().value[0];
    expect(manager.Role).toBe('Manager');
  });
  afterAll(() => svc.close());

  it('finds an entity by a single or a composite alternate key (enum part in each literal form); @odata.id is canonical', async () => {
    const canonical = `${svc.url}/Users(${String(manager.Id)})`;
    const byName = await svc.get("/Users(UserName='DEMO.Manager')?$select=Id", FULL);
    expect(byName.status).toBe(200);
    expect(byName.json<Row>()['@odata.id']).toBe(canonical);
    for (const role of ["Crm.Role'Manager'", "'Manager'", '1']) {
      const res = await svc.get(`/Users(DisplayName=${quoted(manager.DisplayName)},AccessRole=${role})?$select=Id`);
      expect([role, res.status, res.json<Row>().Id]).toEqual([role, 200, manager.Id]);
    }
    // the parts in any order, names ignoring case
    expect((await svc.get(`/Users(accessrole=Crm.Role'Manager',displayname=${quoted(manager.DisplayName)})/Role`)).json<Row>().value).toBe('Manager');
    expect((await svc.get(`/Users(DisplayName=${quoted(manager.DisplayName)},AccessRole=Crm.Role'Browse')`)).status).toBe(404);
  });

  it('400 for a predicate that is no key: a part missing, an unknown name, a property that is not a key part, a bad enum member', async () => {
    for (const path of [
      `/Users(DisplayName=${quoted(manager.DisplayName)})`, "/Users(Nick='x')", "/Users(Email='x@example.com')",
      `/Users(DisplayName=${quoted(manager.DisplayName)},AccessRole=Crm.Role'Pilot')`, "/Users(UserName='a',UserName='b')", '/Users(UserName=5)',
    ]) {
      const res = await svc.get(path);
      expect([path, res.status, res.json<{ error: { code: string } }>().error.code]).toEqual([path, 400, 'INVALID_KEY']);
    }
    expect((await svc.get("/Users(Nick='x')")).json<{ error: { message: string } }>().error.message).toContain('(Id), (UserName), (DisplayName,AccessRole)');
  });

  it('binds, links and unlinks by alternate keys ($ref, $id, @odata.bind), and navigates from one', async () => {
    const team = await send('POST', '/Teams', { Name: 'Alternates', 'Members@odata.bind': ["Users(UserName='demo.manager')"] });
    expect(team.status).toBe(201);
    const teamId = String(team.json<Row>().Id);
    const members = async () => (await svc.get(`/Teams(${teamId})/Members?$select=UserName&$orderby=UserName`)).json<{ value: Row[] }>().value.map((u) => u.UserName);
    expect(await members()).toEqual(['demo.manager']);
    expect((await send('POST', `/Teams(${teamId})/Members/$ref`, { '@odata.id': `${svc.url}/Users(UserName='demo.browse')` })).status).toBe(204);
    expect(await members()).toEqual(['demo.browse', 'demo.manager']);
    expect((await svc.get(`/Users(UserName='demo.browse')/Teams?$select=Name`)).json<{ value: Row[] }>().value.map((t) => t.Name)).toContain('Alternates');
    expect((await svc.request('DELETE', `/Teams(${teamId})/Members/$ref?$id=Users(DisplayName=${encodeURIComponent(quoted(manager.DisplayName))},AccessRole=Crm.Role'Manager')`)).status).toBe(204);
    expect(await members()).toEqual(['demo.browse']);
    const unknown = await send('POST', `/Teams(${teamId})/Members/$ref`, { '@odata.id': "Users(UserName='nobody')" });
    expect(unknown.status).toBe(400);
    expect(unknown.json<{ error: { details: { code: string }[] } }>().error.details[0].code).toBe('BIND_NOT_FOUND');
  });

  it('upserts by an alternate key: PUT creates with the key values from the URL, then updates the same entity', async () => {
    const created = await send('PUT', "/Users(UserName='upserted')", { DisplayName: 'Up Serted', Email: 'up@example.com', Role: 'Standard' });
    expect(created.status).toBe(201);
    const user = created.json<Row>();
    expect(user).toMatchObject({ UserName: 'upserted', DisplayName: 'Up Serted', Role: 'Standard' });
    expect(created.headers.get('location')).toBe(`${svc.url}/Users(${String(user.Id)})`);
    expect((await send('PATCH', "/Users(UserName='UPSERTED')", { DisplayName: 'Upserted Again' })).status).toBe(204);
    expect((await svc.get(`/Users(${String(user.Id)})/DisplayName`)).json<Row>().value).toBe('Upserted Again');
    const mismatch = await send('PUT', "/Users(UserName='other')", { UserName: 'different', DisplayName: 'x', Role: 'Standard' });
    expect(mismatch.status).toBe(400);
    expect((await svc.get("/Users(UserName='other')")).status).toBe(404);
    expect((await svc.get("/Users(UserName='different')")).status).toBe(404);
  });
});
