/**
 * Server-driven paging (keyset $skiptoken links that survive concurrent writes, $top across pages,
 * odata.maxpagesize, $count) and response formats (metadata levels, IEEE754Compatible, date-times,
 * the OData-Version header, $metadata negotiation).
 */
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc, idsOf, relative, tableRows, type Row } from './support';

const PAGE = 25;

/** OData ordering: ascending nulls first, descending nulls last (URL Conventions §5.1.5). */
function compareBy(keys: readonly (readonly [string, 'asc' | 'desc'])[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const [key, dir] of [...keys, ['Id', 'asc'] as const]) {
      const x = a[key] === null ? null : String(a[key]);
      const y = b[key] === null ? null : String(b[key]);
      if (x === y) continue;
      const ascending = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return dir === 'asc' ? ascending : -ascending;
    }
    return 0;
  };
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contacts: Row[];

  beforeAll(async () => {
    svc = await startTestService(engine, { pageSize: PAGE });
    contacts = await tableRows(svc, 'Contacts');
  });
  afterAll(() => svc.close());

  describe('server-driven paging', () => {
    it('pages a collection with an absolute @odata.nextLink holding a $skiptoken (not $skip)', async () => {
      const res = await svc.get('/Contacts?$orderby=LastName');
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.value).toHaveLength(PAGE);
      const next: string = body['@odata.nextLink'];
      expect(next.startsWith(`${svc.url}/Contacts?`)).toBe(true);
      const params = new URL(next).searchParams;
      expect(params.get('$skiptoken')).toEqual(expect.any(String));
      expect(params.has('$skip')).toBe(false);
      expect(params.get('$orderby')).toBe('LastName');
    });

    it('returns every row exactly once in order when following all links ($orderby=LastName)', async () => {
      const pages = await allPages(svc, '/Contacts?$orderby=LastName&$select=Id,LastName');
      expect(pages).toHaveLength(Math.ceil(contacts.length / PAGE));
      for (const p of pages.slice(0, -1)) expect(p.body.value).toHaveLength(PAGE);
      expect(idsOf(pages.flatMap((p) => p.body.value))).toEqual(idsOf([...contacts].sort(compareBy([['LastName', 'asc']]))));
    });

    it('returns every row exactly once in order for $orderby=LastName desc,FirstName', async () => {
      const pages = await allPages(svc, `/Contacts?$orderby=${enc('LastName desc,FirstName')}&$select=Id`);
      const expected = [...contacts].sort(compareBy([['LastName', 'desc'], ['FirstName', 'asc']]));
      expect(idsOf(pages.flatMap((p) => p.body.value))).toEqual(idsOf(expected));
    });

    it('pages by a nullable column, nulls first ascending and last descending', async () => {
      for (const dir of ['asc', 'desc'] as const) {
        const pages = await allPages(svc, `/Contacts?$orderby=${enc(`JobTitle ${dir}`)}&$select=Id`);
        expect(idsOf(pages.flatMap((p) => p.body.value))).toEqual(idsOf([...contacts].sort(compareBy([['JobTitle', dir]]))));
      }
    });

    it('pages a filtered collection and leaves no nextLink on the last page', async () => {
      const filter = enc(`startswith(LastName,'S') or startswith(LastName,'M')`);
      const pages = await allPages(svc, `/Contacts?$filter=${filter}&$select=Id`);
      const expected = contacts.filter((c) => /^[SM]/.test(String(c.LastName)));
      expect(expected.length).toBeGreaterThan(PAGE);
      expect(pages.flatMap((p) => p.body.value).map((r) => r.Id).sort()).toEqual(expected.map((c) => c.Id).sort());
      expect(pages[pages.length - 1].body['@odata.nextLink']).toBeUndefined();
    });

    it('honours a $top larger than the page size across pages', async () => {
      const pages = await allPages(svc, '/Contacts?$top=60&$orderby=LastName&$select=Id');
      expect(pages.map((p) => p.body.value.length)).toEqual([25, 25, 10]);
      expect(idsOf(pages.flatMap((p) => p.body.value))).toEqual(idsOf([...contacts].sort(compareBy([['LastName', 'asc']])).slice(0, 60)));
      expect(pages[2].body['@odata.nextLink']).toBeUndefined();
    });

    it('combines $skip with paging', async () => {
      const pages = await allPages(svc, '/Contacts?$skip=10&$top=40&$orderby=LastName&$select=Id');
      expect(idsOf(pages.flatMap((p) => p.body.value))).toEqual(idsOf([...contacts].sort(compareBy([['LastName', 'asc']])).slice(10, 50)));
      expect(pages[0].body['@odata.nextLink']).not.toContain('$skip=');
    });

    it('uses Prefer: odata.maxpagesize and says so in Preference-Applied', async () => {
      const prefer = { Prefer: 'odata.maxpagesize=10' };
      const first = await svc.get('/Contacts?$select=Id', prefer);
      expect(first.json().value).toHaveLength(10);
      expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=10');
      const pages = await allPages(svc, '/Contacts?$select=Id', prefer);
      expect(pages).toHaveLength(Math.ceil(contacts.length / 10));
      expect(pages.flatMap((p) => p.body.value)).toHaveLength(contacts.length);
    });

    it('counts the whole set with $count=true on every page', async () => {
      const filter = enc(`startswith(LastName,'S')`);
      const pages = await allPages(svc, `/Contacts?$count=true&$filter=${filter}&$select=Id`);
      const expected = contacts.filter((c) => String(c.LastName).startsWith('S')).length;
      expect(pages.length).toBeGreaterThan(1);
      for (const p of pages) expect(p.body['@odata.count']).toBe(expected);
    });

    it('answers 400 for a $skiptoken it did not issue', async () => {
      const res = await svc.get('/Contacts?$skiptoken=not-a-token');
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe('INVALID_SKIPTOKEN');
      const forged = Buffer.from(JSON.stringify({ m: 'x', v: [1, 2, 3] })).toString('base64url');
      expect((await svc.get(`/Contacts?$skiptoken=${forged}`)).status).toBe(400);
    });

    it('answers 400 for a $skiptoken used with a different $orderby', async () => {
      const next: string = (await svc.get('/Contacts?$orderby=LastName')).json()['@odata.nextLink'];
      const token = new URL(next).searchParams.get('$skiptoken')!;
      expect((await svc.get(`/Contacts?$skiptoken=${token}`)).status).toBe(400);
    });
  });

  describe('formats', () => {
    it('writes minimal metadata by default: a context and only the ETag per entity', async () => {
      const res = await svc.get('/Companies?$top=2');
      expect(res.headers.get('content-type')).toMatch(/odata\.metadata=minimal/);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Companies`);
      for (const e of body.value) {
        expect(Object.keys(e).filter((k) => k.startsWith('@'))).toEqual(['@odata.etag']);
        expect(e['@odata.etag']).toBe(`W/"${e.Edited}"`);
      }
    });

    it('writes odata.metadata=full with @odata.id, @odata.type and @odata.editLink', async () => {
      const res = await svc.get('/Companies?$top=2', { Accept: 'application/json;odata.metadata=full' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/odata\.metadata=full/);
      const e = res.json().value[0];
      expect(e['@odata.type']).toBe('#Crm.Company');
      expect(e['@odata.id']).toBe(`${svc.url}/Companies(${e.Id})`);
      expect(e['@odata.editLink']).toBe(`Companies(${e.Id})`);
      expect(e['Created@odata.type']).toBe('#DateTimeOffset');
      expect(e['Id@odata.type']).toBe('#Guid');
      expect(e['Contacts@odata.navigationLink']).toBe(`Companies(${e.Id})/Contacts`);
    });

    it('writes odata.metadata=none without any annotations', async () => {
      const res = await svc.get('/Companies?$top=2&$format=application/json;odata.metadata=none');
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBeUndefined();
      expect(Object.keys(body)).toEqual(['value']);
      for (const e of body.value) expect(Object.keys(e).filter((k) => k.startsWith('@'))).toEqual([]);
    });

    it('keeps the nextLink with odata.metadata=none', async () => {
      const body = (await svc.get('/Contacts?$select=Id', { Accept: 'application/json;odata.metadata=none' })).json();
      expect(body['@odata.nextLink']).toEqual(expect.stringContaining('$skiptoken='));
    });

    it('writes Decimal values and @odata.count as strings with IEEE754Compatible=true', async () => {
      const companies = await tableRows(svc, 'Companies');
      const withRevenue = companies.find((c) => c.Revenue !== null)!;
      const res = await svc.get(`/Companies?$count=true&$filter=Id eq ${String(withRevenue.Id)}`, { Accept: 'application/json;IEEE754Compatible=true' });
      expect(res.headers.get('content-type')).toMatch(/IEEE754Compatible=true/i);
      const body = res.json();
      expect(body['@odata.count']).toBe('1');
      expect(typeof body.value[0].Revenue).toBe('string');
      expect(Number(body.value[0].Revenue)).toBeCloseTo(Number(withRevenue.Revenue), 2);
      expect(typeof body.value[0].EmployeeCount === 'number' || body.value[0].EmployeeCount === null).toBe(true);
    });

    it('writes Decimal values as numbers without IEEE754Compatible', async () => {
      const body = (await svc.get('/Companies?$count=true&$filter=Revenue ne null&$top=1')).json();
      expect(typeof body['@odata.count']).toBe('number');
      expect(typeof body.value[0].Revenue).toBe('number');
    });

    it('writes DateTimeOffset values in UTC ending in Z', async () => {
      const value = (await svc.get('/Contacts?$select=Id,Created,Edited&$top=25')).json().value;
      const byId = new Map(contacts.map((c) => [c.Id, c]));
      for (const c of value) {
        expect(c.Created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        expect(Date.parse(c.Created)).toBe(Date.parse(String(byId.get(c.Id)!.Created)));
      }
    });

    it('sends OData-Version: 4.0 exactly once on every response', async () => {
      const id = String(contacts.find((c) => c.JobTitle === null)!.Id);
      const requests: [string, Record<string, string>?][] = [
        ['/'], ['/$metadata'], ['/Contacts?$top=1'], [`/Contacts(${id})`], [`/Contacts(${id})/JobTitle`], ['/Contacts/$count'],
        ['/Contacts?$filter=Nope eq 1'], ['/Nope'], ['/Contacts?$apply=groupby((LastName))'], ['/Contacts', { Accept: 'text/html' }],
        ['/Contacts?$top=1', { 'OData-MaxVersion': '3.0' }],
      ];
      for (const [path, headers] of requests) {
        const res = await svc.get(path, headers);
        expect({ path, status: res.status < 600, version: res.headers.get('odata-version') }).toEqual({ path, status: true, version: '4.0' });
      }
    });

    it('serves $metadata as XML by default and when XML is acceptable', async () => {
      for (const headers of [undefined, { Accept: 'application/xml, application/json' }, { Accept: 'application/xml' }]) {
        const res = await svc.get('/$metadata', headers);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
        expect(res.text).toMatch(/^<\?xml[^>]*\?>\s*<edmx:Edmx[^>]*Version="4\.0"/);
      }
    });

    it('serves $metadata as JSON for $format=json and Accept: application/json', async () => {
      for (const [path, headers] of [['/$metadata?$format=json', undefined], ['/$metadata', { Accept: 'application/json' }]] as const) {
        const res = await svc.get(path, headers);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const doc = res.json();
        expect(doc.$Version).toMatch(/^4\.0/);
        expect(doc.Crm.Contact.$Kind).toBe('EntityType');
      }
    });
  });

  describe('paging while the data changes', () => {
    it('neither repeats nor loses rows when one is inserted before the cursor and one deleted after it', async () => {
      const order = compareBy([['LastName', 'asc']]);
      const before = [...contacts].sort(order);
      const template: Row = await svc.knex('Contacts').where({ Id: before[0].Id }).first();
      const copy = (lastName: string): Row => ({ ...template, Id: randomUUID(), LastName: lastName, EmailAddress: `${randomUUID()}@example.com` });
      // a row that sorts after the first page, deleted once that page has been read
      const victim = copy(`${String(before[PAGE * 3].LastName)}`);
      await svc.knex('Contacts').insert(victim);

      const first = (await svc.get('/Contacts?$orderby=LastName&$select=Id')).json();
      expect(idsOf(first.value)).toEqual(idsOf([...before, victim].sort(order).slice(0, PAGE)));

      // a row that sorts before the cursor (digits sort before letters), inserted between pages
      await svc.knex('Contacts').insert(copy('0 Inserted'));
      await svc.knex('Contacts').where({ Id: victim.Id }).delete();

      const rest = await allPages(svc, relative(svc, first['@odata.nextLink']));
      const seen = [...idsOf(first.value), ...idsOf(rest.flatMap((p) => p.body.value))];
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(idsOf(before));
    });
  });
});
