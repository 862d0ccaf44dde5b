/**
 * Prepared reads (src/http/prepared-reads.ts): a GET asked again in the same words by the same caller on
 * the same model version skips parse and plan, and reuses the compiled statement and the row writer. What
 * must hold: the same bytes as the first answer, the data read afresh every time (a change shows at once),
 * no kept read shared between callers whose record access differs, a new model version planned anew, and
 * a bound on what is kept.
 */
import { randomUUID } from 'node:crypto';
import { MAX_ENTRIES, preparedReadCount } from '../../src/http/prepared-reads';
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../helpers/service';

type Json = Record<string, unknown>;

for (const engine of ENGINES) describe(`prepared reads (${engine.name})`, () => {
  let svc: TestService;
  let standard: Record<string, string>;
  let restricted: Record<string, string>;
  /** a private contact of demo.standard: visible to it, hidden from demo.restricted */
  let privateId: string;
  const tag = `Prep${Date.now().toString(36)}`;
  const kept = () => preparedReadCount(svc.running.services.model());
  const send = (method: string, path: string, body: Json, headers: Record<string, string> = {}) =>
    svc.request(method, path, { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const answer = (res: TestResponse) => ({ status: res.status, type: res.headers.get('content-type'), etag: res.headers.get('etag'), text: res.text });

  beforeAll(async () => {
    svc = await startTestService(engine);
    standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    restricted = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
    const owner = String((await svc.knex('Users').select('Id').where('UserName', 'demo.standard'))[0].Id);
    const created = await send('POST', '/Contacts', { FirstName: 'Ada', LastName: tag, IsPrivate: true, OwnerId: owner });
    expect(created.status).toBe(201);
    privateId = String(created.json<Json>().Id);
  });
  afterAll(() => svc.close());

  it('answers a repeated read with the same bytes, keeps it once, and reads the rows afresh every time', async () => {
    const path = `/Contacts(${privateId})?$select=FirstName,LastName`;
    const first = await svc.get(path);
    expect(first.status).toBe(200);
    const keptAfterFirst = kept();
    const second = await svc.get(path);
    expect(answer(second)).toEqual(answer(first));
    expect(kept()).toBe(keptAfterFirst);
    expect((await send('PATCH', `/Contacts(${privateId})`, { FirstName: 'Grace' })).status).toBe(204);
    const third = await svc.get(path);
    expect(third.json<Json>()).toMatchObject({ FirstName: 'Grace', LastName: tag });
    expect(third.headers.get('etag')).not.toBe(first.headers.get('etag'));

    const count = `/Contacts/$count?$filter=${encodeURIComponent(`startswith(LastName,'${tag}')`)}`;
    expect((await svc.get(count)).text).toBe('1');
    expect((await send('POST', '/Contacts', { FirstName: 'Bob', LastName: `${tag}-2` })).status).toBe(201);
    expect((await svc.get(count)).text).toBe('2');
  });

  it('answers HEAD and GET of the same read each as itself', async () => {
    const path = `/Contacts(${privateId})?$select=LastName`;
    const head = await svc.request('HEAD', path);
    expect([head.status, head.text]).toEqual([200, '']);
    const get = await svc.get(path);
    expect(get.json<Json>()).toMatchObject({ LastName: tag });
    const again = await svc.request('HEAD', path);
    expect([again.status, again.text, again.headers.get('etag')]).toEqual([200, '', get.headers.get('etag')]);
  });

  it('never shares a kept read between callers whose record access differs (either one first)', async () => {
    const path = (select: string) => `/Contacts(${privateId})?$select=${select}`;
    const count = (n: number) => `/Contacts/$count?$filter=${encodeURIComponent(`LastName eq '${tag}' and ${n} eq ${n}`)}`;
    // the owner first, then a caller who may not see the record, then the owner again
    expect((await svc.get(path('Id,FirstName'), standard)).status).toBe(200);
    expect((await svc.get(path('Id,FirstName'), restricted)).status).toBe(404);
    expect((await svc.get(path('Id,FirstName'), standard)).status).toBe(200);
    expect((await svc.get(count(1), standard)).text).toBe('1');
    expect((await svc.get(count(1), restricted)).text).toBe('0');
    // the other order
    expect((await svc.get(path('Id,LastName'), restricted)).status).toBe(404);
    expect((await svc.get(path('Id,LastName'), standard)).status).toBe(200);
    expect((await svc.get(path('Id,LastName'), restricted)).status).toBe(404);
    expect((await svc.get(count(2), restricted)).text).toBe('0');
    expect((await svc.get(count(2), standard)).text).toBe('1');
  });

  it('plans again on a new model version (a field added at run time is in the next answer)', async () => {
    const path = `/Contacts(${privateId})`;
    const before = await svc.get(path);
    expect(before.json<Json>()).not.toHaveProperty('PrepHobby');
    expect((await svc.get(path)).text).toBe(before.text);
    const field = await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'PrepHobby', FieldType: 'Text', Length: 40 });
    expect(field.status).toBe(201);
    const after = await svc.get(path);
    expect(after.status).toBe(200);
    expect(after.json<Json>()).toHaveProperty('PrepHobby', null);
    expect(after.json<Json>()['@odata.context']).toBe(before.json<Json>()['@odata.context']);
  });

  it(`keeps at most ${MAX_ENTRIES} reads per model version`, async () => {
    const paths = Array.from({ length: MAX_ENTRIES + 25 }, () => `/Contacts(${randomUUID()})?$select=Id`);
    for (let i = 0; i < paths.length; i += 25) {
      const answers = await Promise.all(paths.slice(i, i + 25).map((p) => svc.get(p)));
      for (const res of answers) expect(res.status).toBe(404);
    }
    expect(kept()).toBe(MAX_ENTRIES);
    // still answered correctly once the oldest were let go
    expect((await svc.get(paths[0])).status).toBe(404);
    expect((await svc.get(`/Contacts(${privateId})?$select=LastName`)).json<Json>()).toMatchObject({ LastName: tag });
  }, 120_000);
});
