/** JSON $batch (OData 4.01 JSON Format §19): responses, atomicityGroup, dependsOn and 424, references, continue-on-error, malformed batches. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../../helpers/service';
import { countRows, expectStatus, GUID, insertContact, MISSING, rowOf, snapshot, WEAK_ETAG } from '../writes/write-support';
import { expectBatchError, marker, notesWithText, sendJsonBatch } from './batch-support';

interface JsonRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  atomicityGroup?: string;
  dependsOn?: string[];
}

interface JsonResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  atomicityGroup?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };

const note = (id: string, text: string | null, extra: Partial<JsonRequest> = {}): JsonRequest => ({
  id, method: 'post', url: 'Notes', headers: JSON_TYPE, body: { Text: text }, ...extra,
});

/** Asserts a 200 application/json batch response and returns `responses`. */
function responsesOf(res: TestResponse): JsonResponse[] {
  expectStatus(res, 200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = res.json();
  expect(Array.isArray(body.responses)).toBe(true);
  for (const r of body.responses as JsonResponse[]) {
    expect(typeof r.id).toBe('string');
    expect(typeof r.status).toBe('number');
    for (const name of Object.keys(r.headers ?? {})) expect(name).toBe(name.toLowerCase());
  }
  return body.responses;
}

const byId = (responses: readonly JsonResponse[], id: string): JsonResponse => {
  const r = responses.find((x) => x.id === id);
  if (!r) throw new Error(`no response with id ${id}: ${JSON.stringify(responses).slice(0, 600)}`);
  return r;
};

function expectJsonError(r: JsonResponse, status: number, code?: string): void {
  if (r.status !== status) throw new Error(`expected ${status} for id ${r.id}, got ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
  expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  if (code !== undefined) expect(r.body.error.code).toBe(code);
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const send = (requests: JsonRequest[], headers?: Record<string, string>) => sendJsonBatch(svc, { requests }, headers);

  describe('responses', () => {
    it('answers 200 application/json with one response per request: id, status, lower-case headers, JSON body', async () => {
      const contact = await insertContact(svc, { LastName: 'Jason' });
      const text = marker('json post');
      const responses = responsesOf(await send([note('a', text), { id: 'b', method: 'get', url: `Contacts(${contact})` }]));
      expect(responses.map((r) => r.id)).toEqual(['a', 'b']);
      const [a, b] = responses;
      expect(a.status).toBe(201);
      expect(a.body).toMatchObject({ Text: text, IsPrivate: false });
      expect(a.body.Id).toMatch(GUID);
      expect(a.headers!.location).toBe(`${svc.url}/Notes(${a.body.Id})`);
      expect(a.headers!.etag).toMatch(WEAK_ETAG);
      expect(a.headers!['content-type']).toMatch(/^application\/json/);
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ Id: contact, LastName: 'Jason' });
      expect(b.headers!.etag).toMatch(WEAK_ETAG);
      expect(a.atomicityGroup).toBeUndefined();
      expect((await rowOf(svc, 'Notes', a.body.Id))!.Text).toBe(text);
    });

    it('omits the body of a 204 response', async () => {
      const contact = await insertContact(svc, { JobTitle: 'Old' });
      const text = marker('minimal');
      const responses = responsesOf(await send([
        { id: '1', method: 'patch', url: `Contacts(${contact})`, headers: JSON_TYPE, body: { JobTitle: 'New' } },
        note('2', text, { headers: { ...JSON_TYPE, prefer: 'return=minimal' } }),
      ]));
      expect(responses.map((r) => r.status)).toEqual([204, 204]);
      for (const r of responses) expect(r).not.toHaveProperty('body');
      expect(responses[0].headers!.etag).toMatch(WEAK_ETAG);
      expect(responses[1].headers!['odata-entityid']).toMatch(new RegExp(`^${svc.url.replace(/[.]/g, '\\.')}/Notes\\(`));
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('New');
      expect(await notesWithText(svc, text)).toBe(1);
    });

    it('a request body without a content-type header is read as JSON (as in the spec example)', async () => {
      const text = marker('no header');
      const responses = responsesOf(await send([{ id: '1', method: 'post', url: 'Notes', body: { Text: text } }]));
      expect(responses[0].status).toBe(201);
      expect(await notesWithText(svc, text)).toBe(1);
    });
  });

  describe('atomicityGroup', () => {
    it('the spec example (request 2 without headers): a company, a contact of it through $1, then a read', async () => {
      const responses = responsesOf(await send([
        { id: '1', method: 'post', url: 'Companies', headers: { 'content-type': 'application/json' }, body: { Name: 'X' }, atomicityGroup: 'g1' },
        { id: '2', method: 'post', url: '$1/Contacts', dependsOn: ['1'], atomicityGroup: 'g1', body: { LastName: 'Grouped' } },
        { id: '3', method: 'get', url: 'Contacts?$top=1' },
      ]));
      expect(responses.map((r) => [r.id, r.status, r.atomicityGroup])).toEqual([['1', 201, 'g1'], ['2', 201, 'g1'], ['3', 200, undefined]]);
      const company = responses[0].body.Id;
      expect(responses[1].body.CompanyId).toBe(company);
      expect(responses[1].headers!.location).toBe(`${svc.url}/Contacts(${responses[1].body.Id})`);
      expect(await rowOf(svc, 'Contacts', responses[1].body.Id)).toMatchObject({ LastName: 'Grouped', CompanyId: company });
      expect(responses[2].body.value).toHaveLength(1);
    });

    it('"@odata.bind": "$1" in a body refers to the entity created by request 1', async () => {
      const responses = responsesOf(await send([
        { id: '1', method: 'post', url: 'Companies', headers: JSON_TYPE, body: { Name: 'Bound JSON Co' }, atomicityGroup: 'g' },
        { id: '2', method: 'post', url: 'Contacts', headers: JSON_TYPE, body: { LastName: 'Bound', 'Company@odata.bind': '$1' }, dependsOn: ['1'], atomicityGroup: 'g' },
      ]));
      expect(responses.map((r) => r.status)).toEqual([201, 201]);
      expect((await rowOf(svc, 'Contacts', responses[1].body.Id))!.CompanyId).toBe(responses[0].body.Id);
    });

    it('PATCH $1 and DELETE $2 address entities created earlier in the group', async () => {
      const [kept, gone] = [marker('kept'), marker('gone')];
      const responses = responsesOf(await send([
        note('1', 'draft', { atomicityGroup: 'g' }), note('2', gone, { atomicityGroup: 'g' }),
        { id: '3', method: 'patch', url: '$1', headers: JSON_TYPE, body: { Text: kept }, dependsOn: ['1'], atomicityGroup: 'g' },
        { id: '4', method: 'delete', url: '$2', dependsOn: ['2'], atomicityGroup: 'g' },
      ]));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 204, 204]);
      expect((await rowOf(svc, 'Notes', responses[0].body.Id))!.Text).toBe(kept);
      expect(await notesWithText(svc, gone)).toBe(0);
    });

    it('a failure in the group: none of it stays, and the failed request answers for the group', async () => {
      const contact = await insertContact(svc, { JobTitle: 'Untouched' });
      const [before, inGroup] = [marker('before group'), marker('in group')];
      const companies = await snapshot(svc, 'Companies');
      const responses = responsesOf(await send([
        note('0', before),
        { id: '1', method: 'post', url: 'Companies', headers: JSON_TYPE, body: { Name: 'Doomed Co' }, atomicityGroup: 'g1' },
        { id: '2', method: 'post', url: '$1/Contacts', headers: JSON_TYPE, body: { LastName: 'Doomed' }, dependsOn: ['1'], atomicityGroup: 'g1' },
        { id: '3', method: 'patch', url: `Contacts(${contact})`, headers: JSON_TYPE, body: { JobTitle: 'Changed' }, atomicityGroup: 'g1' },
        note('4', inGroup, { atomicityGroup: 'g1' }),
        note('5', null, { atomicityGroup: 'g1' }),
      ]));
      expect(responses.map((r) => r.id)).toEqual(['0', '5']);
      expect(responses[0].status).toBe(201);
      expectJsonError(responses[1], 400, 'VALIDATION_FAILED');
      expect(responses[1].atomicityGroup).toBe('g1');
      expect(await snapshot(svc, 'Companies')).toEqual(companies);
      expect(await countRows(svc, 'Contacts', { LastName: 'Doomed' })).toBe(0);
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Untouched');
      expect(await notesWithText(svc, inGroup)).toBe(0);
      expect(await notesWithText(svc, before)).toBe(1);
    });
  });

  describe('large groups (answers over several 64 KB chunks)', () => {
    const group = (prefix: string, size: number, text: (i: number) => string | null) => Array.from({ length: size }, (_, i) => note(`${prefix}${i}`, text(i), { atomicityGroup: prefix }));

    it('a committed group of 300, a group of 300 failing at its last member, then a request: the failed group leaves only its one answer', async () => {
      const [kept, dropped, after] = [marker('kept large'), marker('dropped large'), marker('after large')];
      const responses = responsesOf(await send([
        ...group('a', 300, () => kept),
        ...group('b', 300, (i) => (i === 299 ? null : dropped)),
        note('z', after),
      ], { prefer: 'odata.continue-on-error' }));
      expect(responses).toHaveLength(302);
      expect(responses.slice(0, 300).every((r, i) => r.id === `a${i}` && r.status === 201 && r.atomicityGroup === 'a' && r.body.Text === kept)).toBe(true);
      expect(responses[300].id).toBe('b299');
      expectJsonError(responses[300], 400, 'VALIDATION_FAILED');
      expect(responses[300].atomicityGroup).toBe('b');
      expect(responses[301]).toMatchObject({ id: 'z', status: 201 });
      expect(await notesWithText(svc, kept)).toBe(300);
      expect(await notesWithText(svc, dropped)).toBe(0);
      expect(await notesWithText(svc, after)).toBe(1);
    });

    it('five concurrent batches of 600 creates each all complete, each with every answer', async () => {
      const text = marker('concurrent large');
      const answers = await Promise.all(Array.from({ length: 5 }, (_, b) => send(group(`c${b}_`, 600, () => text))));
      for (const [b, res] of answers.entries()) {
        const responses = responsesOf(res);
        expect(responses.map((r) => `${r.id}:${r.status}`)).toEqual(Array.from({ length: 600 }, (_, i) => `c${b}_${i}:201`));
      }
      expect(await notesWithText(svc, text)).toBe(3000);
    });
  });

  describe('dependsOn and continue-on-error', () => {
    const coe = { Prefer: 'odata.continue-on-error' };

    it('a request that depends on a failed request answers 424 and does not run', async () => {
      const [dependent, independent] = [marker('dependent'), marker('independent')];
      const res = await send([
        { id: '1', method: 'get', url: `Contacts(${MISSING})` },
        note('2', dependent, { dependsOn: ['1'] }),
        note('3', independent),
      ], coe);
      const responses = responsesOf(res);
      expectJsonError(byId(responses, '1'), 404, 'NOT_FOUND');
      expect(byId(responses, '2').status).toBe(424);
      expect(byId(responses, '3').status).toBe(201);
      expect(await notesWithText(svc, dependent)).toBe(0);
      expect(await notesWithText(svc, independent)).toBe(1);
      expect((res.headers.get('preference-applied') ?? '').split(',').map((t) => t.trim())).toContain('odata.continue-on-error');
    });

    it('a request that depends on a failed atomicity group answers 424 and does not run', async () => {
      const [inGroup, dependent] = [marker('failed group'), marker('depends on group')];
      const responses = responsesOf(await send([
        note('1', inGroup, { atomicityGroup: 'g' }), note('2', null, { atomicityGroup: 'g' }),
        note('3', dependent, { dependsOn: ['g'] }),
      ], coe));
      expectJsonError(byId(responses, '2'), 400, 'VALIDATION_FAILED');
      expect(byId(responses, '3').status).toBe(424);
      expect(responses.find((r) => r.id === '1')).toBeUndefined();
      expect(await notesWithText(svc, inGroup)).toBe(0);
      expect(await notesWithText(svc, dependent)).toBe(0);
    });

    it('a request that depends on a successful request or group runs', async () => {
      const [a, b, c] = [marker('dep a'), marker('dep b'), marker('dep c')];
      const responses = responsesOf(await send([note('1', a), note('2', b, { atomicityGroup: 'g' }), note('3', c, { dependsOn: ['1', 'g'] })]));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
      for (const t of [a, b, c]) expect(await notesWithText(svc, t)).toBe(1);
    });

    it('without continue-on-error processing stops after the first failure', async () => {
      const [first, later] = [marker('first'), marker('later')];
      const res = await send([note('1', first), { id: '2', method: 'get', url: `Contacts(${MISSING})` }, note('3', later)]);
      const responses = responsesOf(res);
      expect(responses.map((r) => r.id)).toEqual(['1', '2']);
      expectJsonError(responses[1], 404, 'NOT_FOUND');
      expect(await notesWithText(svc, first)).toBe(1);
      expect(await notesWithText(svc, later)).toBe(0);
      expect(res.headers.get('preference-applied')).toBeNull();
    });

    it.each(['odata.continue-on-error', 'continue-on-error'])('with Prefer: %s every request runs', async (prefer) => {
      const [first, later] = [marker('first'), marker('later')];
      const res = await send([note('1', first), { id: '2', method: 'get', url: `Contacts(${MISSING})` }, note('3', later)], { Prefer: prefer });
      const responses = responsesOf(res);
      expect(responses.map((r) => [r.id, r.status])).toEqual([['1', 201], ['2', 404], ['3', 201]]);
      expect(await notesWithText(svc, first)).toBe(1);
      expect(await notesWithText(svc, later)).toBe(1);
      expect((res.headers.get('preference-applied') ?? '').split(',').map((t) => t.trim())).toContain('odata.continue-on-error');
    });
  });

  describe('malformed → 400 INVALID_BATCH, nothing runs', () => {
    const MALFORMED: readonly [string, (text: string) => unknown, RegExp][] = [
      ['an array, not an object', (t) => [note('1', t)], /object/i],
      ['a string', () => 'requests', /object/i],
      ['no requests member', (t) => ({ request: [note('1', t)] }), /requests/i],
      ['requests not an array', (t) => ({ requests: { 1: note('1', t) } }), /requests|array/i],
      ['a request without method', (t) => ({ requests: [note('1', t), { id: '2', url: 'Notes', body: { Text: t } }] }), /method/i],
      ['a request without url', (t) => ({ requests: [note('1', t), { id: '2', method: 'post', body: { Text: t } }] }), /url/i],
      ['a duplicate id', (t) => ({ requests: [note('1', t), note('1', `${t} again`)] }), /duplicate|twice|more than once|unique|id/i],
      ['an id repeated in a later atomicity group', (t) => ({
        requests: [note('1', t, { atomicityGroup: 'g' }), note('2', `${t} 2`, { atomicityGroup: 'h' }), note('1', `${t} 3`, { atomicityGroup: 'h' })],
      }), /twice/i],
      ['an id repeated inside one atomicity group', (t) => ({
        requests: [note('1', t, { atomicityGroup: 'g' }), note('1', `${t} 2`, { atomicityGroup: 'g' })],
      }), /twice/i],
      ['dependsOn an unknown id', (t) => ({ requests: [note('1', t), note('2', `${t} 2`, { dependsOn: ['9'] })] }), /dependsOn|unknown|9/i],
      ['dependsOn a later id', (t) => ({ requests: [note('1', t, { dependsOn: ['2'] }), note('2', `${t} 2`)] }), /dependsOn|later|before|2/i],
      ['atomicityGroup members not adjacent', (t) => ({
        requests: [note('1', t, { atomicityGroup: 'g' }), note('2', `${t} 2`), note('3', `${t} 3`, { atomicityGroup: 'g' })],
      }), /atomicityGroup|adjacent|contiguous|together/i],
    ];

    it.each(MALFORMED)('%s', async (_what, build, message) => {
      const text = marker('malformed json');
      const count = await countRows(svc, 'Notes');
      expectBatchError(await sendJsonBatch(svc, JSON.stringify(build(text))), 400, 'INVALID_BATCH', message);
      expect(await countRows(svc, 'Notes')).toBe(count);
      expect(await svc.knex('Notes').where('Text', 'like', `${text}%`).first('Id')).toBeUndefined();
    });

    it('a well-formed batch built the same way runs (the builders are sound)', async () => {
      const text = marker('sound json');
      const responses = responsesOf(await sendJsonBatch(svc, JSON.stringify({ requests: [note('1', text), note('2', `${text} 2`, { dependsOn: ['1'] })] })));
      expect(responses.map((r) => r.status)).toEqual([201, 201]);
      expect(await notesWithText(svc, text)).toBe(1);
    });
  });
});
