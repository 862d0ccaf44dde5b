/**
 * Change-set members that differ only in their bodies (same method, URL and headers) run as one unit
 * (src/batch/request-runs.ts, src/http/handle-run.ts): the URL is parsed and authorized once, each body
 * is still read, checked, written and answered on its own. These cases pin what must not change when
 * requests share those stages: `$<id>` references to the member just before, alternate keys in
 * bodies, deep inserts, a shared `Prefer`, per-record write rules, a URL every member fails on, and
 * multipart change sets.
 */
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../../helpers/service';
import { countRows, expectStatus, GUID, insertRow } from '../writes/write-support';
import { asChangeSet, batchParts, expectPartStatus, idFromLocation, marker, sendJsonBatch, sendMultipart } from './batch-support';

interface JsonRequest { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown; atomicityGroup?: string }
interface JsonResponse { id?: string; status: number; headers?: Record<string, string>; body?: any; atomicityGroup?: string } // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience

const JSON_TYPE = { 'content-type': 'application/json' };

function responsesOf(res: TestResponse): JsonResponse[] {
  expectStatus(res, 200);
  return res.json().responses as JsonResponse[];
}

function group(url: string, bodies: readonly unknown[], headers: Record<string, string> = JSON_TYPE): JsonRequest[] {
  return bodies.map((body, k) => ({ id: String(k + 1), atomicityGroup: 'g', method: 'POST', url, headers, body }));
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 10 }); });
  afterAll(() => svc.close());

  const companiesNamed = async (prefix: string) =>
    (await svc.knex('Companies').where('Name', 'like', `${prefix}%`).select('Id', 'Name', 'ParentId')) as { Id: string; Name: string; ParentId: string | null }[];

  it('each member binds the member just before it ($<id>): every reference resolves to the entity that member created', async () => {
    const prefix = marker('chain');
    const bodies = Array.from({ length: 8 }, (_, k) => (k === 0 ? { Name: `${prefix} 1` } : { Name: `${prefix} ${k + 1}`, 'Parent@odata.bind': `$${k}` }));
    const responses = responsesOf(await sendJsonBatch(svc, { requests: group('Companies', bodies) }));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ids = responses.map((r) => r.body.Id as string);
    responses.forEach((r, k) => expect(r.body.ParentId).toBe(k === 0 ? null : ids[k - 1]));
    const stored = new Map((await companiesNamed(prefix)).map((c) => [c.Id, c.ParentId]));
    expect(stored).toEqual(new Map(ids.map((id, k) => [id, k === 0 ? null : ids[k - 1]])));
  });

  it('a shared Prefer: return=minimal answers every member 204 with its own OData-EntityId, and later references use it', async () => {
    const prefix = marker('minimal');
    const requests = group('Companies', Array.from({ length: 6 }, (_, k) => ({ Name: `${prefix} ${k + 1}` })), { ...JSON_TYPE, prefer: 'return=minimal' });
    requests.push({ id: '7', atomicityGroup: 'g', method: 'PATCH', url: '$6', headers: JSON_TYPE, body: { Name: `${prefix} six renamed` } });
    const responses = responsesOf(await sendJsonBatch(svc, { requests }));
    expect(responses.map((r) => r.status)).toEqual([...Array(6).fill(204), 204]);
    const ids = responses.slice(0, 6).map((r) => {
      expect(r.body).toBeUndefined();
      expect(r.headers!['preference-applied']).toBe('return=minimal');
      expect(r.headers!['odata-entityid']).toBe(r.headers!.location);
      return idFromLocation(r.headers!['odata-entityid']);
    });
    expect(new Set(ids).size).toBe(6);
    const stored = new Map((await companiesNamed(prefix)).map((c) => [c.Id, c.Name]));
    expect(stored).toEqual(new Map(ids.map((id, k) => [id, k === 5 ? `${prefix} six renamed` : `${prefix} ${k + 1}`])));
  });

  it('alternate keys in bodies and deep inserts: each member binds its own tag and creates its own notes', async () => {
    const prefix = marker('deep');
    const tags = [`${prefix} a`, `${prefix} b`];
    const tagIds = [await insertRow(svc, 'Tags', { Name: tags[0] }), await insertRow(svc, 'Tags', { Name: tags[1] })];
    const bodies = Array.from({ length: 5 }, (_, k) => ({
      LastName: `${prefix} ${k + 1}`,
      'Tags@odata.bind': [`Tags(Name='${tags[k % 2]}')`],
      Notes: Array.from({ length: k }, (__, n) => ({ Text: `${prefix} note ${k + 1}.${n + 1}` })),
    }));
    const responses = responsesOf(await sendJsonBatch(svc, { requests: group('Contacts', bodies) }));
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(201));
    for (const [k, r] of responses.entries()) {
      const id = r.body.Id as string;
      expect(id).toMatch(GUID);
      const linked = (await svc.knex('Contact_Tag').where('ContactId', id).select('TagId')).map((row: { TagId: string }) => row.TagId);
      expect(linked).toEqual([tagIds[k % 2]]);
      const notes = (await svc.knex('Notes').join('Contact_Note', 'Contact_Note.NoteId', 'Notes.Id').where('Contact_Note.ContactId', id).select('Notes.Text'))
        .map((row: { Text: string }) => row.Text).sort();
      expect(notes).toEqual(Array.from({ length: k }, (__, n) => `${prefix} note ${k + 1}.${n + 1}`));
    }
  });

  it('a URL every member fails on the same way: the change set answers with the first member\'s error', async () => {
    const unknown = responsesOf(await sendJsonBatch(svc, { requests: group('NoSuchSet', Array.from({ length: 5 }, () => ({ Name: 'x' }))) }));
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ id: '1', status: 404, atomicityGroup: 'g' });
    const before = await countRows(svc, 'Companies');
    const badOption = responsesOf(await sendJsonBatch(svc, { requests: group('Companies?$select=NoSuchProperty', Array.from({ length: 5 }, (_, k) => ({ Name: `bad ${k}` }))) }));
    expect(badOption).toHaveLength(1);
    expect(badOption[0]).toMatchObject({ id: '1', status: 400, atomicityGroup: 'g' });
    expect(await countRows(svc, 'Companies')).toBe(before);
  });

  it('per-record write rules hold for each member: a Restricted user\'s run fails at the member that gives the record away', async () => {
    const restricted = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
    const own = String((await svc.knex('Users').where('UserName', 'demo.restricted').first('Id')).Id);
    const other = String((await svc.knex('Users').where('UserName', 'demo.standard').first('Id')).Id);
    const prefix = marker('rules');
    const bodies = Array.from({ length: 6 }, (_, k) => ({ LastName: `${prefix} ${k + 1}`, OwnerId: k === 3 ? other : own }));
    const before = await countRows(svc, 'Contacts');
    const responses = responsesOf(await sendJsonBatch(svc, { requests: group('Contacts', bodies) }, restricted));
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ id: '4', status: 403, atomicityGroup: 'g' });
    expect(responses[0].body.error.code).toBe('FORBIDDEN');
    expect(await countRows(svc, 'Contacts')).toBe(before);
    const allowed = responsesOf(await sendJsonBatch(svc, { requests: group('Contacts', bodies.map((b) => ({ ...b, OwnerId: own }))) }, restricted));
    expect(allowed.map((r) => [r.status, r.body.OwnerId])).toEqual(Array(6).fill([201, own]));
  });

  it('multipart change set: Content-IDs, $<Content-ID> references inside the run, one answer part per member', async () => {
    const prefix = marker('multipart');
    const parts = Array.from({ length: 6 }, (_, k) => ({
      method: 'POST', url: 'Companies', contentId: `c${k + 1}`,
      body: k === 0 ? { Name: `${prefix} 1` } : { Name: `${prefix} ${k + 1}`, 'Parent@odata.bind': `$c${k}` },
    }));
    const [changeSet] = batchParts(await sendMultipart(svc, [{ changeset: parts }]));
    const members = asChangeSet(changeSet).parts;
    expect(members.map((m) => m.mime['content-id'])).toEqual(parts.map((p) => p.contentId));
    members.forEach((m) => expectPartStatus(m, 201));
    const ids = members.map((m) => idFromLocation(m.headers.location));
    members.forEach((m, k) => expect(m.json().ParentId).toBe(k === 0 ? null : ids[k - 1]));
    expect((await companiesNamed(prefix)).length).toBe(6);
  });

  it('multipart members that each carry their own Content-Length: every body is read and written as its own', async () => {
    const prefix = marker('lengths');
    const bodies = Array.from({ length: 6 }, (_, k) => ({ Name: `${prefix} ${'x'.repeat(k)}${k + 1}` }));
    const parts = bodies.map((body, k) => ({
      method: 'POST', url: 'Companies', contentId: `l${k + 1}`, body,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(JSON.stringify(body))) },
    }));
    const [changeSet] = batchParts(await sendMultipart(svc, [{ changeset: parts }]));
    const members = asChangeSet(changeSet).parts;
    members.forEach((m) => expectPartStatus(m, 201));
    expect(members.map((m) => m.json().Name)).toEqual(bodies.map((b) => b.Name));
    expect((await companiesNamed(prefix)).map((c) => c.Name).sort()).toEqual(bodies.map((b) => b.Name).sort());
  });

  it('members whose headers differ are not one run, and each keeps its own preference', async () => {
    const prefix = marker('headers');
    const requests = group('Companies', Array.from({ length: 6 }, (_, k) => ({ Name: `${prefix} ${k + 1}` })))
      .map((r, k) => ({ ...r, headers: k % 2 === 0 ? JSON_TYPE : { ...JSON_TYPE, prefer: 'return=minimal' } }));
    const responses = responsesOf(await sendJsonBatch(svc, { requests }));
    expect(responses.map((r) => r.status)).toEqual([201, 204, 201, 204, 201, 204]);
    expect((await companiesNamed(prefix)).length).toBe(6);
  });
});
