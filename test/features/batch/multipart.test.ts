/** multipart/mixed $batch: the response envelope, every kind of read, writes, $ref, operations, per-part headers, URL forms, Content-ID. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  countRows, etagOf, expectError, expectStatus, insertCompany, insertContact, insertGroup, linked, rowOf, WEAK_ETAG,
} from '../writes/write-support';
import {
  asHttp, batchParts, expectHttpPartHeaders, expectPartError, expectPartStatus, idFromLocation, marker, mediaType, multipartBody, notesWithText,
  postNote, sendBatch, sendMultipart, type PartSpec,
} from './batch-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const rootPath = (): string => new URL(svc.url).pathname;
  const get = (url: string, headers?: Record<string, string>, contentId?: string): PartSpec => ({ method: 'GET', url, headers, contentId });

  /** A contact with a company, linked to a group. */
  async function fixture(): Promise<{ contact: string; company: string; group: string }> {
    const company = await insertCompany(svc, { Name: 'Batch Fixture Co', Industry: 'Batching' });
    const contact = await insertContact(svc, { FirstName: 'Bea', LastName: 'Batch', JobTitle: 'Tester', CompanyId: company });
    const group = await insertGroup(svc);
    await svc.knex('Contact_Group').insert({ ContactId: contact, GroupId: group });
    return { contact, company, group };
  }

  describe('envelope', () => {
    it('GET /$batch answers 405', async () => {
      expectError(await svc.get('/$batch'), 405, 'METHOD_NOT_ALLOWED');
    });

    it('answers 200 multipart/mixed with one application/http part per request, in order', async () => {
      const { contact, company } = await fixture();
      const res = await sendMultipart(svc, [get(`Contacts(${contact})`), get(`Companies(${company})`), get('SystemInfo()')]);
      const parts = batchParts(res);
      expect(parts).toHaveLength(3);
      const [a, b, c] = parts.map(asHttp);
      for (const p of [a, b, c]) {
        expectHttpPartHeaders(p);
        expectPartStatus(p, 200);
        expect(p.statusLine).toBe('HTTP/1.1 200 OK');
        expect(p.headers['content-type']).toMatch(/^application\/json/);
        expect(p.headers['odata-version']).toBe('4.0');
      }
      expect(a.json()).toMatchObject({ Id: contact, LastName: 'Batch', CompanyId: company });
      expect(a.headers.etag).toMatch(WEAK_ETAG);
      expect(b.json()).toMatchObject({ Id: company, Name: 'Batch Fixture Co' });
      expect(c.json()).toMatchObject({ ProductName: 'crm-odata-service', Engine: engine.name });
    });

    it('echoes the Content-ID of the parts that had one, and only those', async () => {
      const { contact } = await fixture();
      const parts = batchParts(await sendMultipart(svc, [get(`Contacts(${contact})`, undefined, 'first'), get('SystemInfo()'), get('Contacts/$count', undefined, '7')]));
      expect(parts).toHaveLength(3);
      expectHttpPartHeaders(asHttp(parts[0]), 'first');
      expectHttpPartHeaders(asHttp(parts[1]));
      expectHttpPartHeaders(asHttp(parts[2]), '7');
    });

    it('accepts LF alone as line end', async () => {
      const { contact } = await fixture();
      const text = marker('lf');
      const body = multipartBody([get(`Contacts(${contact})`), postNote(text)], { eol: '\n' });
      expect(body).not.toContain('\r');
      const parts = batchParts(await sendBatch(svc, body, 'multipart/mixed;boundary=batch_b'));
      expect(parts).toHaveLength(2);
      expect(asHttp(parts[0]).json().Id).toBe(contact);
      expectPartStatus(asHttp(parts[1]), 201);
      expect(await notesWithText(svc, text)).toBe(1);
    });

    it('accepts a space before boundary= and any boundary text', async () => {
      const boundary = 'batch_36d5c8c6-a0d2-4b1e-8e8c-2f1d0c7a9b11';
      const body = multipartBody([get('SystemInfo()')], { boundary });
      const parts = batchParts(await sendBatch(svc, body, `multipart/mixed; boundary=${boundary}`));
      expectPartStatus(asHttp(parts[0]), 200);
    });

    it.each(['7bit', '8bit'])('accepts Content-Transfer-Encoding: %s', async (cte) => {
      const text = marker(cte);
      const parts = batchParts(await sendMultipart(svc, [postNote(text, { mime: { 'Content-Transfer-Encoding': cte } })]));
      expectPartStatus(asHttp(parts[0]), 201);
      expect(await notesWithText(svc, text)).toBe(1);
    });
  });

  describe('reads of every kind answer like the same request sent alone', () => {
    const READS: readonly [string, (f: { contact: string; company: string; group: string }) => string][] = [
      ['entity set with $filter, $select, $orderby, $top, $count', () => `Contacts?$filter=startswith(LastName,'B')&$select=Id,LastName&$orderby=LastName,Id&$top=5&$count=true`],
      ['$expand with nested options', (f) => `Companies(${f.company})?$expand=Contacts($select=LastName;$orderby=LastName)`],
      ['/$count', () => 'Contacts/$count'],
      ['entity by key', (f) => `Contacts(${f.contact})`],
      ['entity by named key', (f) => `Contacts(Id=${f.contact})`],
      ['single navigation', (f) => `Contacts(${f.contact})/Company`],
      ['collection navigation with $count', (f) => `Groups(${f.group})/Contacts?$count=true&$select=Id`],
      ['property', (f) => `Contacts(${f.contact})/JobTitle`],
      ['property /$value', (f) => `Contacts(${f.contact})/JobTitle/$value`],
      ['$ref of a single navigation', (f) => `Contacts(${f.contact})/Company/$ref`],
      ['$ref of a collection', (f) => `Groups(${f.group})/Contacts/$ref`],
      ['function import', () => 'SystemInfo()'],
      ['bound function with an alias', () => `Opportunities/Crm.TotalAmount(Status=@s)?@s=Crm.OpportunityStatus'Open'`],
      ['$search', () => 'Contacts?$search=Batch&$select=Id'],
      ['a key that does not exist (404)', () => 'Contacts(00000000-0000-4000-8000-000000000000)'],
    ];

    it.each(READS)('%s', async (_what, url) => {
      const f = await fixture();
      const path = url(f);
      const alone = await svc.get(`/${path}`);
      const part = asHttp(batchParts(await sendMultipart(svc, [get(path)]))[0]);
      expect(part.status).toBe(alone.status);
      expect(mediaType(part.headers['content-type'])).toBe(mediaType(alone.headers.get('content-type')));
      if (alone.headers.get('etag')) expect(part.headers.etag).toBe(alone.headers.get('etag'));
      if ((alone.headers.get('content-type') ?? '').startsWith('application/json')) expect(part.json()).toEqual(alone.json());
      else expect(part.body).toBe(alone.text);
    });

    it('the answers match the database', async () => {
      const f = await fixture();
      const parts = batchParts(await sendMultipart(svc, [
        get('Contacts/$count'), get(`Contacts(${f.contact})/JobTitle/$value`), get(`Groups(${f.group})/Contacts?$select=Id&$count=true`),
        get(`Companies(${f.company})?$expand=Contacts($select=Id)`),
      ])).map(asHttp);
      expect(parts).toHaveLength(4);
      expect(Number(parts[0].body)).toBe(await countRows(svc, 'Contacts'));
      expect(parts[0].headers['content-type']).toMatch(/^text\/plain/);
      expect(parts[1].body).toBe('Tester');
      expect(parts[2].json().value.map((r: Row) => r.Id)).toEqual([f.contact]);
      expect(parts[2].json()['@odata.count']).toBe(1);
      expect(parts[3].json().Contacts.map((r: Row) => r.Id)).toEqual([f.contact]);
    });
  });

  describe('writes, $ref and actions outside change sets', () => {
    it('POST answers 201 with Location, ETag and the entity, and stores it', async () => {
      const { company } = await fixture();
      const part = asHttp(batchParts(await sendMultipart(svc, [{ method: 'POST', url: 'Contacts', body: { FirstName: 'Nia', LastName: 'Posted', CompanyId: company } }]))[0]);
      expectPartStatus(part, 201);
      expect(part.statusLine).toMatch(/^HTTP\/1\.1 201 Created$/);
      const body = part.json();
      expect(part.headers.location).toBe(`${svc.url}/Contacts(${body.Id})`);
      expect(part.headers.etag).toMatch(WEAK_ETAG);
      expect(body).toMatchObject({ FirstName: 'Nia', LastName: 'Posted', FullName: 'Nia Posted', CompanyId: company });
      expect(await rowOf(svc, 'Contacts', body.Id)).toMatchObject({ LastName: 'Posted', FullName: 'Nia Posted', CompanyId: company });
      expect(await etagOf(svc, `/Contacts(${body.Id})`)).toBe(part.headers.etag);
    });

    it('PATCH, PUT and DELETE answer 204 and change the database', async () => {
      const [a, b, c] = [await insertContact(svc, { JobTitle: 'Old', EmailAddress: 'a@example.com' }), await insertContact(svc, { JobTitle: 'Old', EmailAddress: 'b@example.com' }), await insertContact(svc)];
      const oldEtag = await etagOf(svc, `/Contacts(${a})`);
      const parts = batchParts(await sendMultipart(svc, [
        { method: 'PATCH', url: `Contacts(${a})`, body: { JobTitle: 'Patched' } },
        { method: 'PUT', url: `Contacts(${b})`, body: { LastName: 'Replaced' } },
        { method: 'DELETE', url: `Contacts(${c})` },
      ])).map(asHttp);
      expect(parts.map((p) => p.status)).toEqual([204, 204, 204]);
      for (const p of parts) expect(p.body).toBe('');
      expect(parts[0].headers.etag).toMatch(WEAK_ETAG);
      expect(parts[0].headers.etag).not.toBe(oldEtag);
      expect(await rowOf(svc, 'Contacts', a)).toMatchObject({ JobTitle: 'Patched', EmailAddress: 'a@example.com' });
      expect(await rowOf(svc, 'Contacts', b)).toMatchObject({ LastName: 'Replaced', JobTitle: null, EmailAddress: null });
      expect(await rowOf(svc, 'Contacts', c)).toBeUndefined();
    });

    it('$ref POST adds a link and $ref DELETE removes one', async () => {
      const group = await insertGroup(svc);
      const [x, y] = [await insertContact(svc), await insertContact(svc)];
      await svc.knex('Contact_Group').insert({ ContactId: y, GroupId: group });
      const parts = batchParts(await sendMultipart(svc, [
        { method: 'POST', url: `Groups(${group})/Contacts/$ref`, body: { '@odata.id': `Contacts(${x})` } },
        { method: 'DELETE', url: `Groups(${group})/Contacts(${y})/$ref` },
      ])).map(asHttp);
      expect(parts.map((p) => p.status)).toEqual([204, 204]);
      expect(await linked(svc, 'Contact_Group', 'GroupId', group, 'ContactId')).toEqual([x]);
    });

    it('an action (POST Contacts/Crm.MassUpdate) answers 200 with the updated entities', async () => {
      const [a, b] = [await insertContact(svc, { JobTitle: 'Before' }), await insertContact(svc, { JobTitle: 'Before' })];
      const part = asHttp(batchParts(await sendMultipart(svc, [{ method: 'POST', url: 'Contacts/Crm.MassUpdate', body: { Ids: [a, b], Changes: { JobTitle: 'Mass' } } }]))[0]);
      expectPartStatus(part, 200);
      expect(part.json().value.map((r: Row) => r.Id).sort()).toEqual([a, b].sort());
      expect(part.json().value.map((r: Row) => r.JobTitle)).toEqual(['Mass', 'Mass']);
      expect((await rowOf(svc, 'Contacts', a))!.JobTitle).toBe('Mass');
      expect((await rowOf(svc, 'Contacts', b))!.JobTitle).toBe('Mass');
    });
  });

  describe('per-part headers', () => {
    it('Accept with odata.metadata=full applies to its part only', async () => {
      const { company } = await fixture();
      const full = { Accept: 'application/json;odata.metadata=full' };
      const alone = await svc.get(`/Companies(${company})`, full);
      const parts = batchParts(await sendMultipart(svc, [get(`Companies(${company})`, full), get(`Companies(${company})`)])).map(asHttp);
      expect(parts[0].headers['content-type']).toMatch(/odata\.metadata=full/);
      expect(parts[0].json()).toEqual(alone.json());
      expect(parts[0].json()['@odata.id']).toBeDefined();
      expect(parts[0].json()['@odata.type']).toBeDefined();
      expect(parts[1].headers['content-type']).toMatch(/odata\.metadata=minimal/);
      expect(parts[1].json()['@odata.type']).toBeUndefined();
    });

    it('If-Match: the current ETag lets a PATCH through; a stale one answers 412 and changes nothing', async () => {
      const [a, b] = [await insertContact(svc, { JobTitle: 'A0' }), await insertContact(svc, { JobTitle: 'B0' })];
      const etagA = await etagOf(svc, `/Contacts(${a})`);
      const before = await rowOf(svc, 'Contacts', b);
      const parts = batchParts(await sendMultipart(svc, [
        { method: 'PATCH', url: `Contacts(${a})`, headers: { 'If-Match': etagA }, body: { JobTitle: 'A1' } },
        { method: 'PATCH', url: `Contacts(${b})`, headers: { 'If-Match': 'W/"2001-01-01T00:00:00.000Z"' }, body: { JobTitle: 'B1' } },
      ])).map(asHttp);
      expectPartStatus(parts[0], 204);
      expectPartError(parts[1], 412, 'PRECONDITION_FAILED');
      expect((await rowOf(svc, 'Contacts', a))!.JobTitle).toBe('A1');
      expect(await rowOf(svc, 'Contacts', b)).toEqual(before);
    });

    it('Prefer: return=minimal answers 204 for that POST only; return=representation 200 for a PATCH', async () => {
      const [t1, t2] = [marker('minimal'), marker('full')];
      const c = await insertContact(svc, { JobTitle: 'Rep' });
      const parts = batchParts(await sendMultipart(svc, [
        postNote(t1, { headers: { Prefer: 'return=minimal' } }), postNote(t2),
        { method: 'PATCH', url: `Contacts(${c})`, headers: { Prefer: 'return=representation' }, body: { JobTitle: 'Represented' } },
      ])).map(asHttp);
      expectPartStatus(parts[0], 204);
      expect(parts[0].body).toBe('');
      expect(parts[0].headers['preference-applied']).toBe('return=minimal');
      const id = idFromLocation(parts[0].headers['odata-entityid']);
      expect(parts[0].headers.location).toBe(`${svc.url}/Notes(${id})`);
      expect((await rowOf(svc, 'Notes', id))!.Text).toBe(t1);
      expectPartStatus(parts[1], 201);
      expect(parts[1].json().Text).toBe(t2);
      expectPartStatus(parts[2], 200);
      expect(parts[2].json()).toMatchObject({ Id: c, JobTitle: 'Represented' });
      expect((await rowOf(svc, 'Contacts', c))!.JobTitle).toBe('Represented');
    });

    it('Content-Type applies per part: text/plain to /$value works, text/plain to an entity set is 415', async () => {
      const c = await insertContact(svc, { JobTitle: 'Plain' });
      const t = marker('415');
      const parts = batchParts(await sendMultipart(svc, [
        { method: 'PUT', url: `Contacts(${c})/JobTitle/$value`, headers: { 'Content-Type': 'text/plain' }, body: 'Typed' },
        { method: 'POST', url: 'Notes', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ Text: t }) },
      ])).map(asHttp);
      expectPartStatus(parts[0], 204);
      expect((await rowOf(svc, 'Contacts', c))!.JobTitle).toBe('Typed');
      expectPartError(parts[1], 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await notesWithText(svc, t)).toBe(0);
    });

    it('Prefer: odata.maxpagesize on a part pages that part only', async () => {
      const parts = batchParts(await sendMultipart(svc, [
        get('Contacts?$select=Id&$orderby=Id', { Prefer: 'odata.maxpagesize=5' }), get('Companies?$select=Id'),
      ])).map(asHttp);
      expectPartStatus(parts[0], 200);
      expect(parts[0].json().value).toHaveLength(5);
      expect(parts[0].json()['@odata.nextLink']).toMatch(new RegExp(`^${svc.url.replace(/[.]/g, '\\.')}/Contacts\\?`));
      expect(parts[0].headers['preference-applied']).toBe('odata.maxpagesize=5');
      const expected = ((await svc.knex('Contacts').orderBy('Id').limit(5).select('Id')) as Row[]).map((r) => String(r.Id));
      expect(parts[0].json().value.map((r: Row) => r.Id)).toEqual(expected);
      expect(parts[1].json().value).toHaveLength(await countRows(svc, 'Companies'));
      expect(parts[1].json()['@odata.nextLink']).toBeUndefined();
    });
  });

  describe('URL forms', () => {
    const FORMS: readonly [string, (svc: TestService, rest: string) => string][] = [
      ['service-relative', (_s, rest) => rest],
      ['root-relative', (_s, rest) => `${rootPath()}/${rest}`],
      ['absolute', (s, rest) => `${s.url}/${rest}`],
    ];

    it.each(FORMS)('%s URLs address the same resources', async (_form, url) => {
      const [r, w] = [await insertContact(svc, { JobTitle: 'Read me' }), await insertContact(svc, { JobTitle: 'Write me' })];
      const parts = batchParts(await sendMultipart(svc, [
        get(url(svc, `Contacts(${r})`)), { method: 'PATCH', url: url(svc, `Contacts(${w})`), body: { JobTitle: 'Written' } },
        { method: 'POST', url: url(svc, 'Notes'), body: { Text: `form ${_form} ${w}` } },
      ])).map(asHttp);
      expectPartStatus(parts[0], 200);
      expect(parts[0].json()).toMatchObject({ Id: r, JobTitle: 'Read me' });
      expect(parts[0].json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts/$entity`);
      expectPartStatus(parts[1], 204);
      expect((await rowOf(svc, 'Contacts', w))!.JobTitle).toBe('Written');
      expectPartStatus(parts[2], 201);
      expect(parts[2].headers.location).toBe(`${svc.url}/Notes(${parts[2].json().Id})`);
      expect(await notesWithText(svc, `form ${_form} ${w}`)).toBe(1);
    });
  });

  describe('identity and limits', () => {
    it('a part GET Contacts answers at most the server page size (100) with a nextLink', async () => {
      const missing = 130 - (await countRows(svc, 'Contacts'));
      for (let i = 0; i < missing; i++) await insertContact(svc, { LastName: `Filler ${i}` });
      const total = await countRows(svc, 'Contacts');
      expect(total).toBeGreaterThan(100);
      const part = asHttp(batchParts(await sendMultipart(svc, [get('Contacts?$select=Id')]))[0]);
      expectPartStatus(part, 200);
      const body = part.json();
      expect(body.value).toHaveLength(100);
      const next: string = body['@odata.nextLink'];
      expect(next.startsWith(`${svc.url}/Contacts?`)).toBe(true);
      const rest = await svc.get(next.slice(svc.url.length));
      expectStatus(rest, 200);
      const ids = [...body.value, ...rest.json().value].map((r: Row) => r.Id);
      expect(new Set(ids).size).toBe(total);
    });
  });
});
