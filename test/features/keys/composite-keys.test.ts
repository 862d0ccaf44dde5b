/**
 * Keys that are not one property named Id (issue 17, item 2): `Edition` has the composite key
 * (`Code`, `Year`), `Venue` the single string key `Code`. The test-only model
 * (test/fixtures/composite-keys-model.ts) is the shipped one plus these two sets and navigations both
 * ways; the service starts on it through the `modelFile` setting (ODATA_MODEL_FILE).
 */
import type { RunningService } from '../../../src/server';
import { call, startCompositeKeyService, type Answer, type CompositeKeyService } from '../../helpers/composite-keys-service';
import { ENGINES } from '../../helpers/engines';

type Json = Record<string, unknown>;

const values = (a: Answer) => a.json.value as Json[];
const keysOf = (rows: Json[]) => rows.map((r) => `${String(r.Code)}/${String(r.Year)}`);

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let fixture: CompositeKeyService | undefined;
  let svc: RunningService;
  let contactId: string;

  beforeAll(async () => {
    fixture = await startCompositeKeyService(engine, 3);
    svc = fixture.service;
    contactId = String(values(await call(svc, 'GET', '/Contacts?$top=1&$orderby=Id&$select=Id'))[0].Id);
    expect((await call(svc, 'POST', '/Venues', { Code: 'HALL', Name: 'Main hall' })).status).toBe(201);
    expect((await call(svc, 'POST', '/Venues', { Code: 'PARK', Name: 'City park' })).status).toBe(201);
    for (const [code, year] of [['FEST', 2024], ['FEST', 2025], ['FEST', 2026], ['EXPO', 2025], ['EXPO', 2026]] as const) {
      const created = await call(svc, 'POST', '/Editions', { Code: code, Year: year, Title: `${code} ${year}`, 'Venue@odata.bind': code === 'FEST' ? "Venues('PARK')" : "Venues('HALL')" });
      expect(`${created.status} ${JSON.stringify(created.json.error ?? '')}`).toBe('201 ""');
    }
  });
  afterAll(async () => { await fixture?.close(); });

  it('creates the table with a primary key of both parts', async () => {
    const duplicate = await svc.db.knex('Editions').insert({ Code: 'FEST', Year: 2024 }).then(() => 'inserted', (err: { message: string }) => err.message);
    expect(duplicate).not.toBe('inserted');
    const xml = await (await fetch(`${svc.url}/$metadata`)).text();
    expect(xml).toMatch(/<EntityType Name="Edition">\s*<Key>\s*<PropertyRef Name="Code"\/>\s*<PropertyRef Name="Year"\/>\s*<\/Key>/);
  });

  it('reads an entity by both key parts, in any order, with its canonical @odata.id', async () => {
    const one = await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)", undefined, { Accept: 'application/json;odata.metadata=full' });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ Code: 'FEST', Year: 2025, Title: 'FEST 2025', VenueCode: 'PARK' });
    expect(one.json['@odata.id']).toBe(`${svc.url}/Editions(Code='FEST',Year=2025)`);
    expect(one.json['@odata.context']).toContain('$metadata#Editions/$entity');
    const reversed = await call(svc, 'GET', "/Editions(Year=2025,Code='FEST')?$select=Title");
    expect(reversed.json.Title).toBe('FEST 2025');
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2019)")).status).toBe(404);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Title")).json.value).toBe('FEST 2025');
  });

  it('answers 400 for a key predicate without every part, with an unknown part or a value of the wrong type', async () => {
    for (const url of ["/Editions(Code='FEST')", "/Editions('FEST')", "/Editions(Code='FEST',Year=2025,Month=1)", "/Editions(Code='FEST',Year='2025')", '/Editions(Year=2025)']) {
      const answer = await call(svc, 'GET', url);
      expect(`${url} ${answer.status}`).toBe(`${url} 400`);
      expect(answer.json.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
  });

  it('pages a collection in key order across next links, every part of the key in the $skiptoken', async () => {
    const seen: Json[] = [];
    let url: string | undefined = '/Editions?$select=Code,Year';
    let pages = 0;
    while (url) {
      const page = await call(svc, 'GET', url, undefined, { Prefer: 'odata.maxpagesize=2' });
      expect(page.status).toBe(200);
      seen.push(...values(page));
      const next = page.json['@odata.nextLink'] as string | undefined;
      url = next === undefined ? undefined : next.slice(svc.url.length);
      pages++;
    }
    expect(pages).toBe(3);
    expect(keysOf(seen)).toEqual(['EXPO/2025', 'EXPO/2026', 'FEST/2024', 'FEST/2025', 'FEST/2026']);
    const byYear: Json[] = [];
    url = '/Editions?$select=Code,Year&$orderby=Year desc';
    while (url) {
      const page = await call(svc, 'GET', url, undefined, { Prefer: 'odata.maxpagesize=2' });
      byYear.push(...values(page));
      const next = page.json['@odata.nextLink'] as string | undefined;
      url = next === undefined ? undefined : next.slice(svc.url.length);
    }
    expect(keysOf(byYear)).toEqual(['EXPO/2026', 'FEST/2026', 'EXPO/2025', 'FEST/2025', 'FEST/2024']);
  });

  it('filters, orders and counts on key parts', async () => {
    const answer = await call(svc, 'GET', "/Editions?$filter=Code eq 'FEST' and Year ge 2025&$orderby=Year desc&$count=true&$select=Code,Year");
    expect(answer.json['@odata.count']).toBe(2);
    expect(keysOf(values(answer))).toEqual(['FEST/2026', 'FEST/2025']);
    expect((await call(svc, 'GET', '/Editions/$count')).json).toBe(5);
    const skipped = await call(svc, 'GET', '/Editions?$skip=3&$top=1&$select=Code,Year');
    expect(keysOf(values(skipped))).toEqual(['FEST/2025']);
  });

  it('expands to and from the composite-key set and the string-keyed set', async () => {
    const edition = await call(svc, 'GET', "/Editions(Code='EXPO',Year=2026)?$expand=Venue($select=Code,Name)");
    expect(edition.json.Venue).toEqual({ Code: 'HALL', Name: 'Main hall' });
    const venue = await call(svc, 'GET', "/Venues('PARK')?$expand=Editions($select=Code,Year;$orderby=Year)");
    expect(keysOf(venue.json.Editions as Json[])).toEqual(['FEST/2024', 'FEST/2025', 'FEST/2026']);
    const venues = await call(svc, 'GET', "/Venues?$filter=Editions/any(e: e/Year eq 2024)&$select=Code&$expand=Editions/$count");
    expect(values(venues)).toEqual([{ Code: 'PARK', 'Editions@odata.count': 3 }]);
    const full = await call(svc, 'GET', "/Venues('HALL')?$expand=Editions($select=Code,Year)", undefined, { Accept: 'application/json;odata.metadata=full' });
    expect((full.json.Editions as Json[]).map((e) => e['@odata.id'])).toEqual([`${svc.url}/Editions(Code='EXPO',Year=2025)`, `${svc.url}/Editions(Code='EXPO',Year=2026)`]);
    expect(full.json['@odata.id']).toBe(`${svc.url}/Venues('HALL')`);
    const filtered = await call(svc, 'GET', "/Editions?$filter=Venue/Name eq 'Main hall'&$select=Code,Year");
    expect(keysOf(values(filtered))).toEqual(['EXPO/2025', 'EXPO/2026']);
  });

  it('creates with a Location naming both parts, refuses a duplicate and a body without every part', async () => {
    const created = await call(svc, 'POST', '/Editions', { Code: 'NEW', Year: 2030, Title: "O'Neil" });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${svc.url}/Editions(Code='NEW',Year=2030)`);
    expect(created.json).toMatchObject({ Code: 'NEW', Year: 2030, Title: "O'Neil" });
    expect((await call(svc, 'POST', '/Editions', { Code: 'NEW', Year: 2030 })).status).toBe(409);
    const partial = await call(svc, 'POST', '/Editions', { Code: 'NEW', Title: 'no year' });
    expect(partial.status).toBe(400);
    expect(JSON.stringify(partial.json.error)).toContain('Year');
    const none = await call(svc, 'POST', '/Editions', { Title: 'no key' });
    expect(none.status).toBe(400);
    const minimal = await call(svc, 'POST', '/Editions', { Code: 'NEW', Year: 2031 }, { Prefer: 'return=minimal' });
    expect(minimal.status).toBe(204);
    expect(minimal.headers.get('odata-entityid')).toBe(`${svc.url}/Editions(Code='NEW',Year=2031)`);
  });

  it('updates and deletes by the composite key, touching only that row', async () => {
    expect((await call(svc, 'PATCH', "/Editions(Code='NEW',Year=2030)", { Title: 'Renamed' })).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='NEW',Year=2030)?$select=Title")).json.Title).toBe('Renamed');
    expect((await call(svc, 'GET', "/Editions(Code='NEW',Year=2031)?$select=Title")).json.Title).toBeNull();
    const mismatch = await call(svc, 'PATCH', "/Editions(Code='NEW',Year=2030)", { Code: 'NEW', Year: 2099 });
    expect(mismatch.status).toBe(400);
    const put = await call(svc, 'PUT', "/Editions(Code='NEW',Year=2031)", { Title: 'Put' }, { Prefer: 'return=representation' });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ Code: 'NEW', Year: 2031, Title: 'Put' });
    expect((await call(svc, 'PUT', "/Editions(Code='NEW',Year=2031)/Title", { value: 'Raw' })).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='NEW',Year=2031)/Title")).json.value).toBe('Raw');
    // PATCH of a key that does not exist creates the entity (upsert) with both parts from the URL
    expect((await call(svc, 'PATCH', "/Editions(Code='UPS',Year=2031)", { Title: 'upserted' })).status).toBe(201);
    expect((await call(svc, 'GET', "/Editions(Code='UPS',Year=2031)")).json).toMatchObject({ Code: 'UPS', Year: 2031, Title: 'upserted' });
    expect((await call(svc, 'DELETE', "/Editions(Code='UPS',Year=2031)")).status).toBe(204);

    expect((await call(svc, 'DELETE', "/Editions(Code='NEW',Year=2030)")).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='NEW',Year=2030)")).status).toBe(404);
    expect((await call(svc, 'GET', "/Editions(Code='NEW',Year=2031)")).status).toBe(200);
    expect((await call(svc, 'DELETE', "/Editions(Code='NEW',Year=2031)")).status).toBe(204);
    expect((await call(svc, 'DELETE', "/Editions(Code='NEW',Year=2031)")).status).toBe(404);
  });

  it('binds and links by a composite key: @odata.bind, $ref and $id', async () => {
    const bound = await call(svc, 'PATCH', `/Contacts(${contactId})`, { 'Editions@odata.bind': ["Editions(Code='FEST',Year=2024)", `${svc.url}/Editions(Code='EXPO',Year=2025)`] });
    expect(`${bound.status} ${JSON.stringify(bound.json.error ?? '')}`).toBe('204 ""');
    const organizer = await call(svc, 'GET', `/Contacts(${contactId})?$select=Id&$expand=Editions($select=Code,Year;$orderby=Code,Year)`);
    expect(keysOf(organizer.json.Editions as Json[])).toEqual(['EXPO/2025', 'FEST/2024']);
    const missing = await call(svc, 'PATCH', `/Contacts(${contactId})`, { 'Editions@odata.bind': ["Editions(Code='FEST',Year=1999)"] });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json.error)).toContain("Editions(Code='FEST',Year=1999)");
    expect((await call(svc, 'PATCH', `/Contacts(${contactId})`, { 'Editions@odata.bind': ["Editions(Code='FEST')"] })).status).toBe(400);

    expect((await call(svc, 'POST', `/Contacts(${contactId})/Editions/$ref`, { '@odata.id': "Editions(Code='FEST',Year=2026)" })).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2026)?$select=HostId")).json.HostId).toBe(contactId);
    expect((await call(svc, 'DELETE', `/Contacts(${contactId})/Editions/$ref?$id=Editions(Code='FEST',Year=2026)`)).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2026)?$select=HostId")).json.HostId).toBeNull();
    expect((await call(svc, 'DELETE', `/Contacts(${contactId})/Editions/$ref?$id=Editions(Code='FEST',Year=2026)`)).status).toBe(404);

    const withHost = await call(svc, 'POST', '/Editions', { Code: 'BIND', Year: 2027, 'Host@odata.bind': `Contacts(${contactId})`, 'Venue@odata.bind': "Venues('HALL')" });
    expect(withHost.json).toMatchObject({ HostId: contactId, VenueCode: 'HALL' });
    const contacts = await call(svc, 'GET', '/Contacts?$filter=Editions/any(e: e/Code eq \'BIND\')&$select=Id');
    expect(values(contacts).map((c) => c.Id)).toEqual([contactId]);
    const references = await call(svc, 'GET', `/Contacts(${contactId})?$select=Id&$expand=Editions/$ref`);
    expect((references.json.Editions as Json[]).map((r) => r['@odata.id'])).toEqual(expect.arrayContaining([`${svc.url}/Editions(Code='BIND',Year=2027)`]));
    expect((await call(svc, 'DELETE', "/Editions(Code='BIND',Year=2027)")).status).toBe(204);
  });

  it('deep-inserts and deep-updates entities with a composite key under their parent', async () => {
    const created = await call(svc, 'POST', '/Contacts', { FirstName: 'Deep', LastName: 'Host', Editions: [{ Code: 'DEEP', Year: 2040, Title: 'first' }, { Code: 'DEEP', Year: 2041 }] });
    expect(`${created.status} ${JSON.stringify(created.json.error ?? '')}`).toBe('201 ""');
    const host = String(created.json.Id);
    const editionsOf = async () => keysOf((await call(svc, 'GET', `/Contacts(${host})?$select=Id&$expand=Editions($select=Code,Year;$orderby=Year)`)).json.Editions as Json[]);
    expect(await editionsOf()).toEqual(['DEEP/2040', 'DEEP/2041']);
    // the relation becomes exactly the entities given: 2040 changed, 2041 left out (unlinked: its foreign key is nullable)
    const unknown = await call(svc, 'PATCH', `/Contacts(${host})`, { Editions: [{ Code: 'DEEP', Year: 2042 }] });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json.error)).toContain("Editions(Code='DEEP',Year=2042) does not exist");
    const updated = await call(svc, 'PATCH', `/Contacts(${host})`, { Editions: [{ Code: 'DEEP', Year: 2040, Title: 'changed' }] });
    expect(`${updated.status} ${JSON.stringify(updated.json.error ?? '')}`).toBe('204 ""');
    expect(await editionsOf()).toEqual(['DEEP/2040']);
    expect((await call(svc, 'GET', "/Editions(Code='DEEP',Year=2040)?$select=Title")).json.Title).toBe('changed');
    expect((await call(svc, 'GET', "/Editions(Code='DEEP',Year=2041)?$select=HostId")).json.HostId).toBeNull();
    for (const year of [2040, 2041]) expect((await call(svc, 'DELETE', `/Editions(Code='DEEP',Year=${year})`)).status).toBe(204);
    expect((await call(svc, 'DELETE', `/Contacts(${host})`)).status).toBe(204);
  });

  it('runs a $batch change set that creates and then changes an entity through its Location', async () => {
    const res = await fetch(`${svc.url}/$batch`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        requests: [
          { id: '1', atomicityGroup: 'g', method: 'POST', url: 'Editions', headers: { 'content-type': 'application/json' }, body: { Code: 'BATCH', Year: 2028 } },
          { id: '2', atomicityGroup: 'g', dependsOn: ['1'], method: 'PATCH', url: '$1', headers: { 'content-type': 'application/json' }, body: { Title: 'From batch' } },
          { id: '3', dependsOn: ['g'], method: 'GET', url: "Editions(Code='BATCH',Year=2028)?$select=Title" },
        ],
      }),
    });
    const body = await res.json() as { responses: { id: string; status: number; body?: Json; headers?: Record<string, string> }[] };
    const byId = new Map(body.responses.map((r) => [r.id, r]));
    expect(byId.get('1')?.status).toBe(201);
    expect(byId.get('1')?.headers?.location).toBe(`${svc.url}/Editions(Code='BATCH',Year=2028)`);
    expect(byId.get('2')?.status).toBe(204);
    expect(byId.get('3')?.body?.Title).toBe('From batch');
  });

  it('navigates paths that start or end at a composite key', async () => {
    const venue = await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Venue?$select=Code,Name");
    expect(venue.status).toBe(200);
    expect(venue.json).toMatchObject({ Code: 'PARK', Name: 'City park' });
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Venue/Name")).json.value).toBe('City park');
    expect((await call(svc, 'GET', "/Editions(Code='NONE',Year=2025)/Venue")).status).toBe(404);
    expect((await call(svc, 'POST', '/Editions', { Code: 'LONE', Year: 2020 })).status).toBe(201);
    expect((await call(svc, 'GET', "/Editions(Code='LONE',Year=2020)/Venue")).status).toBe(204);

    const editions = await call(svc, 'GET', "/Venues('PARK')/Editions?$select=Code,Year&$orderby=Year desc");
    expect(keysOf(values(editions))).toEqual(['FEST/2026', 'FEST/2025', 'FEST/2024']);
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions/$count")).json).toBe(3);
    const one = await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2024)?$select=Title");
    expect(`${one.status} ${String(one.json.Title)}`).toBe('200 FEST 2024');
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions(Code='EXPO',Year=2025)")).status).toBe(404);
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions(Year=2024)")).status).toBe(400);
    const refs = await call(svc, 'GET', "/Venues('HALL')/Editions/$ref");
    expect(values(refs).map((r) => r['@odata.id'])).toEqual([`${svc.url}/Editions(Code='EXPO',Year=2025)`, `${svc.url}/Editions(Code='EXPO',Year=2026)`]);
    const paged = await call(svc, 'GET', "/Venues('PARK')/Editions?$select=Code,Year", undefined, { Prefer: 'odata.maxpagesize=2' });
    expect(keysOf(values(paged))).toEqual(['FEST/2024', 'FEST/2025']);
    const next = await call(svc, 'GET', String(paged.json['@odata.nextLink']).slice(svc.url.length));
    expect(keysOf(values(next))).toEqual(['FEST/2026']);

    // writes through such paths
    const created = await call(svc, 'POST', "/Venues('PARK')/Editions", { Code: 'PATH', Year: 2029 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ Code: 'PATH', Year: 2029, VenueCode: 'PARK' });
    expect((await call(svc, 'PATCH', "/Venues('PARK')/Editions(Code='PATH',Year=2029)", { Title: 'via path' })).status).toBe(204);
    expect((await call(svc, 'PATCH', "/Venues('HALL')/Editions(Code='PATH',Year=2029)", { Title: 'wrong venue' })).status).toBe(404);
    expect((await call(svc, 'GET', "/Editions(Code='PATH',Year=2029)?$select=Title")).json.Title).toBe('via path');
    expect((await call(svc, 'DELETE', "/Venues('PARK')/Editions(Code='PATH',Year=2029)/$ref")).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='PATH',Year=2029)?$select=VenueCode")).json.VenueCode).toBeNull();
    expect((await call(svc, 'DELETE', "/Editions(Code='PATH',Year=2029)")).status).toBe(204);
    expect((await call(svc, 'DELETE', "/Editions(Code='LONE',Year=2020)")).status).toBe(204);
  });

  it('aggregates and pages $apply results over a composite-key set', async () => {
    const groups = await call(svc, 'GET', '/Editions?$apply=filter(Year le 2026)/groupby((Code),aggregate($count as N))&$orderby=Code');
    expect(`${groups.status} ${JSON.stringify(groups.json.error ?? '')}`).toBe('200 ""');
    expect(values(groups).map((g) => [g.Code, g.N])).toEqual([['EXPO', 2], ['FEST', 3]]);
    const top = await call(svc, 'GET', '/Editions?$apply=filter(Year le 2026)/topcount(2,Year)&$select=Code,Year');
    expect(keysOf(values(top)).sort()).toEqual(['EXPO/2026', 'FEST/2026']);
    const seen: Json[] = [];
    let url: string | undefined = '/Editions?$apply=filter(Year ge 2024 and Year le 2026)&$select=Code,Year';
    while (url) {
      const page = await call(svc, 'GET', url, undefined, { Prefer: 'odata.maxpagesize=2' });
      expect(page.status).toBe(200);
      seen.push(...values(page));
      const next = page.json['@odata.nextLink'] as string | undefined;
      url = next === undefined ? undefined : next.slice(svc.url.length);
    }
    expect(keysOf(seen)).toEqual(['EXPO/2025', 'EXPO/2026', 'FEST/2024', 'FEST/2025', 'FEST/2026']);
  });

  it('finds an entity with a composite key by its alternate key; @odata.id and binds stay canonical', async () => {
    expect((await call(svc, 'PATCH', "/Editions(Code='FEST',Year=2025)", { Slug: 'fest-25' })).status).toBe(204);
    const found = await call(svc, 'GET', "/Editions(Slug='fest-25')?$select=Code,Year", undefined, { Accept: 'application/json;odata.metadata=full' });
    expect(`${found.status} ${JSON.stringify(found.json.error ?? '')}`).toBe('200 ""');
    expect(found.json).toMatchObject({ Code: 'FEST', Year: 2025, '@odata.id': `${svc.url}/Editions(Code='FEST',Year=2025)` });
    expect((await call(svc, 'GET', "/Editions(Slug='nope')")).status).toBe(404);
    expect((await call(svc, 'PATCH', "/Editions(Slug='fest-25')", { Title: 'by slug' })).status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Title")).json.value).toBe('by slug');
    const bound = await call(svc, 'POST', `/Contacts(${contactId})/Editions/$ref`, { '@odata.id': "Editions(Slug='fest-25')" });
    expect(bound.status).toBe(204);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)?$select=HostId")).json.HostId).toBe(contactId);
    expect((await call(svc, 'DELETE', `/Contacts(${contactId})/Editions/$ref?$id=Editions(Slug='fest-25')`)).status).toBe(204);
    expect((await call(svc, 'PATCH', "/Editions(Code='FEST',Year=2025)", { Slug: null, Title: 'FEST 2025' })).status).toBe(204);
  });

  it('navigates through a composite key in the middle of a path (was 501)', async () => {
    // FEST 2024's host was bound earlier in this file
    const host = await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2024)/Host?$select=Id");
    expect(`${host.status} ${String(host.json.Id)}`).toBe(`200 ${contactId}`);
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2025)/Host")).status).toBe(204);
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2024)/Venue/Name")).json.value).toBe('City park');
    expect((await call(svc, 'GET', "/Venues('HALL')/Editions(Code='FEST',Year=2024)/Venue")).status).toBe(404);
  });

  it('serves a single string key that is not named Id', async () => {
    expect((await call(svc, 'GET', "/Venues('HALL')")).json).toMatchObject({ Code: 'HALL', Name: 'Main hall' });
    expect((await call(svc, 'GET', "/Venues(Code='HALL')?$select=Name")).json.Name).toBe('Main hall');
    expect((await call(svc, 'PATCH', "/Venues('HALL')", { Name: 'Great hall' })).status).toBe(204);
    expect((await call(svc, 'POST', '/Venues', { Code: 'HALL' })).status).toBe(409);
    // an Int32 key named Number, and a single-valued navigation through the other side's foreign key
    expect((await call(svc, 'POST', '/Plaques', { Number: 7, Text: 'Opened 1990', 'Venue@odata.bind': "Venues('HALL')" })).status).toBe(201);
    expect((await call(svc, 'POST', '/Plaques', { Text: 'no number' })).status).toBe(400);
    const withPlaque = await call(svc, 'GET', "/Venues?$filter=Plaque/Text eq 'Opened 1990'&$select=Code&$expand=Plaque($select=Number)");
    expect(values(withPlaque)).toEqual([{ Code: 'HALL', Plaque: { Number: 7 } }]);
    expect((await call(svc, 'GET', "/Venues('HALL')/Plaque/Text")).json.value).toBe('Opened 1990');
    expect((await call(svc, 'GET', "/Plaques(7)?$select=Number&$expand=Venue($select=Name)")).json).toMatchObject({ Number: 7, Venue: { Name: 'Great hall' } });
    expect((await call(svc, 'GET', "/Venues?$orderby=Plaque/Number desc,Code&$select=Code")).json.value).toEqual([{ Code: 'HALL' }, { Code: 'PARK' }]);
  });
});
