/**
 * FieldDefinitions and the model's lifecycle over HTTP (issue 17, items 3 and 4): twenty parallel
 * POSTs on one type end with $metadata listing exactly those answered 201; a restart serves the
 * custom fields and the same rows (declared rows keep their Ids).
 */
import { withOverrides } from '../../src/config';
import { startService } from '../../src/server';
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_ADMIN, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';

type Json = Record<string, unknown>;

describe.each(ENGINES.map((e) => [e.name, e] as const))('FieldDefinitions lifecycle on %s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 10 }); });
  afterAll(async () => { await svc?.close(); });

  const post = (body: Json) => svc.request('POST', '/FieldDefinitions', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const contactType = async (url = svc.url, headers = svc.authHeaders): Promise<Json> =>
    ((await (await fetch(`${url}/$metadata?$format=json`, { headers })).json() as Json).Crm as Json).Contact as Json;

  it('twenty parallel creations (two asked twice) end with $metadata listing exactly those answered 201', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `P${i + 1}`);
    const attempts = [...names, 'P3', 'p7'];
    const answers = await Promise.all(attempts.map((name) => post({ EntityType: 'Contact', Name: name, FieldType: 'Text', Length: 20 })));
    const created = attempts.filter((_, i) => answers[i].status === 201);
    expect(answers.filter((r) => r.status !== 201).map((r) => r.status)).toEqual([400, 400]);
    expect(created.map((n) => n.toLowerCase()).sort()).toEqual(names.map((n) => n.toLowerCase()).sort());
    const listed = Object.keys(await contactType()).filter((k) => /^P\d+$/i.test(k));
    expect(listed.sort()).toEqual([...created].sort());
    const rows = (await svc.get("/FieldDefinitions?$filter=EntityType eq 'Contact' and IsCustom&$select=Name&$top=100")).json<{ value: Json[] }>().value;
    expect(rows.map((r) => String(r.Name)).sort()).toEqual([...created].sort());
  });

  it('a restart serves the same fields and rows; declared rows keep their Ids', async () => {
    const before = (await svc.get("/FieldDefinitions?$orderby=EntityType,Name&$select=Id,EntityType,Name&$top=1000")).json<{ value: Json[] }>().value;
    const database = svc.database;
    if (!database) throw new Error('the test service names its database');
    const second = await startService(withOverrides({
      adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, rateLimit: 'off', database, port: 0, host: '127.0.0.1',
      logLevel: 'silent', seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: 0,
    }));
    try {
      const auth = await bearerFor(second.url, TEST_ADMIN.userName, TEST_ADMIN.password);
      const after = await (await fetch(`${second.url}/FieldDefinitions?$orderby=EntityType,Name&$select=Id,EntityType,Name&$top=1000`, { headers: auth })).json() as { value: Json[] };
      expect(after.value).toEqual(before);
      expect(await contactType(second.url, auth)).toHaveProperty('P20');
    } finally {
      await second.close();
    }
  });
});
