/**
 * Collections of primitives (issue 17, item 11), on Contact.Categories and AccessToken.Scopes: `$select`,
 * `$filter` with any/all and `/$count` compiled to SQL (json_each on SQLite, jsonb_array_elements_text on
 * PostgreSQL), the property's own URL (GET, PUT), and PATCH of the entity replacing the whole collection.
 * Expected answers are computed in JS from the rows the service wrote.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';

const JSON_HEADERS = { 'content-type': 'application/json' };
const SAMPLES: readonly (readonly string[])[] = [[], ['VIP'], ['VIP', 'Golf'], ['Golf', 'Gardening'], ['Newsletter', 'vip'], ['M', 'L'], ["O'Brien's"]];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  const ids: string[] = [];
  const send = (method: string, path: string, body?: unknown) => svc.request(method, path, { headers: JSON_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  /** the sample contacts' categories as the service stores them (checked against the database below) */
  const categories = new Map<string, readonly string[]>();
  const matching = async (filter: string): Promise<string[]> => {
    const res = await svc.get(`/Contacts?$filter=LastName eq 'Collected' and (${encodeURIComponent(filter)})&$select=Id&$orderby=Id`);
    if (res.status !== 200) throw new Error(`${filter}: ${res.status} ${res.text}`);
    return res.json<{ value: Row[] }>().value.map((r) => String(r.Id));
  };
  const expected = (predicate: (values: readonly string[]) => boolean) => ids.filter((id) => predicate(categories.get(id)!)).sort();

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 10 });
    for (const sample of SAMPLES) {
      const res = await send('POST', '/Contacts', { LastName: 'Collected', Categories: sample });
      expect(res.status).toBe(201);
      expect(res.json<Row>().Categories).toEqual(sample);
      ids.push(String(res.json<Row>().Id));
    }
    const stored = await svc.knex('Contacts').where({ LastName: 'Collected' }).select('Id', 'Categories');
    for (const row of stored) categories.set(String(row.Id), JSON.parse(String(row.Categories)) as string[]);
    expect(ids.map((id) => categories.get(id))).toEqual(SAMPLES);
  });
  afterAll(() => svc.close());

  it('$select returns the array; a contact created without it has []', async () => {
    const res = await svc.get(`/Contacts(${ids[2]})?$select=Categories`);
    expect(res.json<Row>().Categories).toEqual(['VIP', 'Golf']);
    const plain = await send('POST', '/Contacts', { LastName: 'Uncategorised' });
    expect(plain.json<Row>().Categories).toEqual([]);
  });

  it('any/all with a predicate, any() without one, and /$count filter in SQL', async () => {
    expect(await matching("Categories/any(c: c eq 'VIP')")).toEqual(expected((v) => v.includes('VIP')));
    expect(await matching("Categories/any(c: tolower(c) eq 'vip')")).toEqual(expected((v) => v.some((c) => c.toLowerCase() === 'vip')));
    expect(await matching("Categories/all(c: startswith(c, 'G'))")).toEqual(expected((v) => v.every((c) => c.startsWith('G'))));
    expect(await matching('Categories/any()')).toEqual(expected((v) => v.length > 0));
    expect(await matching('not Categories/any()')).toEqual(expected((v) => v.length === 0));
    expect(await matching('Categories/$count ge 2')).toEqual(expected((v) => v.length >= 2));
    expect(await matching("Categories/any(c: c in ('M', 'S')) or Categories/any(c: contains(c, 'Brien'))")).toEqual(expected((v) => v.some((c) => ['M', 'S'].includes(c) || c.includes('Brien'))));
    // the lambda variable beside the entity's own properties, and inside a navigation's lambda
    expect(await matching("Categories/any(c: c eq 'VIP' and $it/LastName eq 'Collected')")).toEqual(expected((v) => v.includes('VIP')));
    const ordered = await svc.get(`/Contacts?$filter=LastName eq 'Collected'&$orderby=Categories/$count desc,Id&$select=Id`);
    expect(ordered.json<{ value: Row[] }>().value.map((r) => r.Id)).toEqual([...ids].sort((a, b) => categories.get(b)!.length - categories.get(a)!.length || (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('refuses what does not type: the variable has no members, the collection is not a value', async () => {
    expect((await svc.get(`/Contacts?$filter=${encodeURIComponent("Categories/any(c: c/Name eq 'x')")}`)).status).toBe(400);
    expect((await svc.get(`/Contacts?$filter=${encodeURIComponent("Categories eq 'x'")}`)).status).toBe(400);
    expect((await svc.get(`/Contacts?$filter=${encodeURIComponent('Categories/any(c: c)')}`)).status).toBe(400);
  });

  it('the property URL: GET, PUT replaces the whole collection, PATCH of the entity too; null members refused', async () => {
    const id = ids[1];
    const read = await svc.get(`/Contacts(${id})/Categories`);
    expect(read.status).toBe(200);
    expect(read.json<Row>().value).toEqual(['VIP']);
    expect((await send('PUT', `/Contacts(${id})/Categories`, { value: ['A', 'B', 'C'] })).status).toBe(204);
    expect((await svc.get(`/Contacts(${id})/Categories`)).json<Row>().value).toEqual(['A', 'B', 'C']);
    expect((await send('PATCH', `/Contacts(${id})`, { Categories: ['Z'] })).status).toBe(204);
    expect((await svc.get(`/Contacts(${id})?$select=Categories`)).json<Row>().Categories).toEqual(['Z']);
    expect((await send('PATCH', `/Contacts(${id})`, { Categories: ['Y', null] })).status).toBe(400);
    expect((await send('PATCH', `/Contacts(${id})/Categories`, { value: ['Y'] })).status).toBe(405);
    expect((await svc.get(`/Contacts(${id})/Categories`)).json<Row>().value).toEqual(['Z']);
    expect(await matching("Categories/any(c: c eq 'Z')")).toEqual([id]);
  });

  it('works on an existing collection beyond Contacts: AccessToken.Scopes', async () => {
    const made = await send('POST', '/AccessTokens', { Name: 'both', Scopes: ['data', 'login'] });
    expect(made.status).toBe(201);
    const dataOnly = await send('POST', '/AccessTokens', { Name: 'data only', Scopes: ['data'] });
    expect(dataOnly.status).toBe(201);
    const names = async (filter: string) => (await svc.get(`/AccessTokens?$filter=${encodeURIComponent(filter)}&$select=Name&$orderby=Name`)).json<{ value: Row[] }>().value.map((t) => t.Name);
    expect(await names("Scopes/any(s: s eq 'login')")).toEqual(['both']);
    expect(await names("Scopes/all(s: s eq 'data') and Name ne 'x'")).toEqual(['data only']);
    expect(await names('Scopes/$count eq 2')).toEqual(['both']);
  });
});
