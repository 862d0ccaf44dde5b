/**
 * JSON `$batch` change sets of many inserts of one shape and of mixed shapes (issue 15, the 1000-insert
 * change set): every part keeps its own answer (status, Location, ETag, body); a part that fails in the
 * middle rolls the whole change set back and its answer names that part; dynamic groups still follow
 * a contact written between Notes, and a write to a table a group's Criteria reads.
 */
import { ENGINES } from '../../helpers/engines';
import type { TestResponse, TestService } from '../../helpers/service';
import { startTestService } from '../../helpers/service';
import { countRows, expectStatus, GUID, insertCompany, newId, post, WEAK_ETAG } from '../writes/write-support';
import { marker, sendJsonBatch } from './batch-support';

interface JsonRequest { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown; atomicityGroup?: string }
interface JsonResponse { id?: string; status: number; headers?: Record<string, string>; body?: any; atomicityGroup?: string } // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience

const JSON_TYPE = { 'content-type': 'application/json' };
const PARTS = 300;

function responsesOf(res: TestResponse): JsonResponse[] {
  expectStatus(res, 200);
  return res.json().responses as JsonResponse[];
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 30 }); });
  afterAll(() => svc.close());

  const notes = (prefix: string, n = PARTS, body: (i: number) => Record<string, unknown> = (i) => ({ Text: `${prefix} ${i}`, IsPrivate: i % 2 === 0 })): JsonRequest[] =>
    Array.from({ length: n }, (_, k) => ({ id: String(k + 1), atomicityGroup: 'g', method: 'POST', url: 'Notes', headers: JSON_TYPE, body: body(k + 1) }));

  const notesLike = async (prefix: string): Promise<number> => Number((await svc.knex('Notes').where('Text', 'like', `${prefix} %`).count({ n: '*' }))[0].n);

  it(`${PARTS} same-shape inserts: each part answers its own entity, Location and ETag`, async () => {
    const prefix = marker('shape');
    const responses = responsesOf(await sendJsonBatch(svc, { requests: notes(prefix) }));
    expect(responses).toHaveLength(PARTS);
    const ids = new Set<string>();
    responses.forEach((r, k) => {
      expect(r).toMatchObject({ id: String(k + 1), status: 201, atomicityGroup: 'g' });
      expect(r.body).toMatchObject({ Text: `${prefix} ${k + 1}`, IsPrivate: (k + 1) % 2 === 0 });
      expect(r.body.Id).toMatch(GUID);
      expect(r.headers!.location).toBe(`${svc.url}/Notes(${r.body.Id})`);
      expect(r.headers!.etag).toMatch(WEAK_ETAG);
      ids.add(r.body.Id);
    });
    expect(ids.size).toBe(PARTS);
    expect(await notesLike(prefix)).toBe(PARTS);
  }, 120000);

  it.each([
    ['invalid (Text null)', 400, 'VALIDATION_FAILED', (dup: string) => (i: number) => (i === 150 ? { Text: null } : { Id: i === 1 ? dup : undefined, Text: `x ${i}` })],
    ['a key an earlier part of the set took', 409, 'ALREADY_EXISTS', (dup: string) => (i: number) => ({ Id: i === 1 || i === 150 ? dup : undefined, Text: `x ${i}` })],
  ] as const)('part 150 of %s: the whole change set rolls back and the one answer names part 150', async (_label, status, code, bodyFor) => {
    const prefix = marker('fails');
    const dup = newId();
    const before = await countRows(svc, 'Notes');
    const make = bodyFor(dup);
    const requests = notes(prefix, PARTS, (i) => {
      const b = make(i) as Record<string, unknown>;
      if (b.Id === undefined) delete b.Id;
      return typeof b.Text === 'string' ? { ...b, Text: `${prefix} ${i}` } : b;
    });
    const responses = responsesOf(await sendJsonBatch(svc, { requests }));
    expect(responses).toHaveLength(1);
    const [answer] = responses;
    expect(answer.id).toBe('150');
    expect(answer.atomicityGroup).toBe('g');
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(await countRows(svc, 'Notes')).toBe(before);
    expect(await notesLike(prefix)).toBe(0);
    expect(await svc.knex('Notes').where('Id', dup).first('Id')).toBeUndefined();
  }, 120000);

  it('mixed shapes in one change set: each part answered for its own entity set, properties and references', async () => {
    const prefix = marker('mixed');
    const company = await insertCompany(svc);
    const surname = `Shape${newId().slice(0, 8)}`;
    const group = await post(svc, '/Groups', { Name: `Group ${surname}`, Criteria: `LastName eq '${surname}'` });
    expectStatus(group, 201);
    const groupId = group.json().Id as string;
    const requests: JsonRequest[] = [];
    const add = (method: string, url: string, body?: unknown) => requests.push({ id: String(requests.length + 1), atomicityGroup: 'm', method, url, headers: JSON_TYPE, body });
    for (let i = 1; i <= 40; i++) {
      if (i % 10 === 5) add('POST', 'Contacts', { FirstName: `F${i}`, LastName: surname, 'Company@odata.bind': `Companies(${company})` });
      else if (i % 10 === 7) add('PATCH', `$${i - 2}`, { JobTitle: `title ${i}` });
      else if (i % 3 === 0) add('POST', 'Notes', { Text: `${prefix} ${i}` });
      else if (i % 3 === 1) add('POST', 'Notes', { Text: `${prefix} ${i}`, IsPrivate: true });
      else add('POST', 'Companies', { Name: `${prefix} ${i}` });
    }
    const responses = responsesOf(await sendJsonBatch(svc, { requests }));
    expect(responses.map((r) => r.id)).toEqual(requests.map((r) => r.id));
    responses.forEach((r, k) => {
      const req = requests[k];
      if (req.method === 'PATCH') {
        expect(r.status).toBe(204);
        expect(r.headers!.etag).toMatch(WEAK_ETAG);
        return;
      }
      expect(r.status).toBe(201);
      expect(r.headers!.location).toBe(`${svc.url}/${req.url}(${r.body.Id})`);
      expect(r.body).toMatchObject(Object.fromEntries(Object.entries(req.body as Record<string, unknown>).filter(([key]) => !key.includes('@'))));
      if (req.url === 'Contacts') expect(r.body.CompanyId).toBe(company);
    });
    const contacts = responses.filter((_, k) => requests[k].url === 'Contacts').map((r) => r.body.Id as string);
    expect(contacts).toHaveLength(4);
    const stored = (await svc.knex('Contacts').whereIn('Id', contacts).select('Id', 'JobTitle')) as { Id: string; JobTitle: string }[];
    expect(new Map(stored.map((s) => [s.Id, s.JobTitle]))).toEqual(new Map(contacts.map((id, n) => [id, `title ${n * 10 + 7}`])));
    // the contacts written between Notes joined the dynamic group their LastName matches
    const members = responsesOf(await sendJsonBatch(svc, { requests: [{ id: 'm', method: 'GET', url: `Groups(${groupId})/Contacts?$select=Id` }] }))[0];
    expect((members.body.value as { Id: string }[]).map((c) => c.Id).sort()).toEqual([...contacts].sort());
  }, 120000);

  it('Notes, then a write to a table a Criteria reads through navigation: the group is recomputed in the same change set', async () => {
    const prefix = marker('criteria');
    const company = await insertCompany(svc, { Name: `${prefix} before` });
    const contact = await post(svc, '/Contacts', { LastName: `${prefix} c`, 'Company@odata.bind': `Companies(${company})` });
    expectStatus(contact, 201);
    const renamed = `${prefix} after`;
    const group = await post(svc, '/Groups', { Name: `Group ${prefix}`, Criteria: `Company/Name eq '${renamed}'` });
    expectStatus(group, 201);
    const requests = notes(prefix, 50);
    requests.push({ id: '51', atomicityGroup: 'g', method: 'PATCH', url: `Companies(${company})`, headers: JSON_TYPE, body: { Name: renamed } });
    requests.push(...notes(prefix, 10).map((r, k) => ({ ...r, id: String(52 + k), body: { Text: `${prefix} late ${k}` } })));
    const responses = responsesOf(await sendJsonBatch(svc, { requests }));
    expect(responses.map((r) => r.status)).toEqual([...Array(50).fill(201), 204, ...Array(10).fill(201)]);
    const members = await svc.get(`/Groups(${group.json().Id})/Contacts?$select=Id`);
    expect((members.json().value as { Id: string }[]).map((c) => c.Id)).toEqual([contact.json().Id]);
  }, 120000);
});
