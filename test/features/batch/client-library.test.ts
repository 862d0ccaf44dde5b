/**
 * Round trip with a real OData client library, @odata/client: it builds the batch, sends it and parses the answer;
 * the test checks what the library parsed and the database.
 *
 * What the library can do (node_modules/@odata/client/src/batch.ts, odata.ts):
 * - multipart (`execBatchRequests`): every GET is a top-level part, every write is wrapped in a change set of its own,
 *   and no part carries a Content-ID, so a multipart change set with a `$<Content-ID>` reference cannot be built with it;
 * - JSON (`execBatchRequestsJson`, OData 4.01): `requestId`, `atomicityGroup` and `dependsOn` are passed through, so
 *   reads plus an atomicity group with `$1` references (in the URL and in `@odata.bind`) can be built with it.
 * Both are exercised below. The library's own fetch is used through its `fetchProxy` option, only to record what it sent.
 */
import { EdmV4, OData } from '@odata/client';
import type { ParsedResponseV4 } from '@odata/client';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import { countRows, insertCompany, insertContact, insertRow, rowOf } from '../writes/write-support';
import { marker, notesWithText } from './batch-support';

interface Sent { url: string; headers: Record<string, string>; body: string }

/** A header of a parsed part, whatever the case of its name. */
const header = (r: ParsedResponseV4, name: string): string | undefined =>
  Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** A v4 client of the test service that records every request it sends. */
  function client(sent: Sent[]) {
    return OData.New4({
      serviceEndpoint: `${svc.url}/`,
      variant: 'default',
      fetchProxy: async (url, init) => {
        const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
        sent.push({ url, headers, body: String(init.body ?? '') });
        const response = await fetch(url, { method: init.method, headers: { ...svc.authHeaders, ...headers }, body: init.body as string | undefined });
        const text = await response.text();
        const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
        return { content: json ? JSON.parse(text) : text, response };
      },
    });
  }

  it('multipart: reads and writes (each write in its own change set) go through and parse back', async () => {
    const company = await insertCompany(svc, { Name: 'Client Lib Co' });
    const contact = await insertContact(svc, { FirstName: 'Lib', LastName: 'Reader', CompanyId: company, JobTitle: 'Old' });
    const created = marker('client multipart');
    const sent: Sent[] = [];
    const odata = client(sent);

    const responses: ParsedResponseV4[] = await odata.execBatchRequests([
      odata.newBatchRequest({ collection: 'Contacts', params: odata.newOptions().top(3).select(['Id', 'LastName']).custom('$orderby', 'Id').count(true) }),
      odata.newBatchRequest({ collection: 'Contacts', id: EdmV4.Guid.from(contact) }),
      odata.newBatchRequest({ collection: 'Notes', method: 'POST', entity: { Text: created, IsPrivate: true } }),
      odata.newBatchRequest({ collection: 'Contacts', id: EdmV4.Guid.from(contact), method: 'PATCH', entity: { JobTitle: 'Set by client' } }),
    ]);

    // what the library sent: one multipart batch, each write in a change set of its own, no Content-IDs
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe(`${svc.url}/$batch`);
    expect(sent[0].headers['Content-Type']).toMatch(/^multipart\/mixed; boundary=/);
    expect(sent[0].body.match(/Content-Type: multipart\/mixed; boundary=/g)).toHaveLength(2);
    expect(sent[0].body).not.toMatch(/Content-ID/i);

    expect(responses).toHaveLength(4);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 201, 204]);

    const list = await responses[0].json();
    const expected = ((await svc.knex('Contacts').orderBy('Id').limit(3).select('Id', 'LastName')) as Row[]).map((r) => ({ Id: r.Id, LastName: r.LastName }));
    expect(list.value.map((r: Row) => ({ Id: r.Id, LastName: r.LastName }))).toEqual(expected);
    expect(list['@odata.count']).toBe(await countRows(svc, 'Contacts'));

    expect(await responses[1].json()).toMatchObject({ Id: contact, FirstName: 'Lib', LastName: 'Reader', CompanyId: company, JobTitle: 'Old' });
    expect(header(responses[1], 'ETag')).toMatch(/^W\/".+"$/);

    const posted = await responses[2].json();
    expect(posted).toMatchObject({ Text: created, IsPrivate: true });
    expect(header(responses[2], 'Location')).toBe(`${svc.url}/Notes(${posted.Id})`);

    expect((await responses[3].text()).trim()).toBe('');
    expect(header(responses[3], 'ETag')).toMatch(/^W\/".+"$/);

    expect((await rowOf(svc, 'Notes', posted.Id, ['IsPrivate']))).toMatchObject({ Text: created, IsPrivate: true });
    expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Set by client');
  });

  it('multipart: a DELETE built by the library (its part ends in blank lines, no Content-Type) answers 204', async () => {
    // The library writes `DELETE Notes(<id>) HTTP/1.1`, its headers, then two more CRLFs before the delimiter;
    // the same DELETE sent alone with such a body and no Content-Type answers 204.
    const alone = await insertRow(svc, 'Notes', { Text: 'deleted alone', IsPrivate: false });
    expect((await svc.request('DELETE', `/Notes(${alone})`, { headers: { Accept: 'application/json' }, body: '\r\n\r\n' })).status).toBe(204);
    const note = await insertRow(svc, 'Notes', { Text: 'to be deleted by the client', IsPrivate: false });
    const sent: Sent[] = [];
    const odata = client(sent);
    const responses: ParsedResponseV4[] = await odata.execBatchRequests([
      odata.newBatchRequest({ collection: 'Notes', id: EdmV4.Guid.from(note), method: 'DELETE' }),
    ]);
    expect(sent[0].body).toContain(`DELETE Notes(${note}) HTTP/1.1`);
    expect(responses).toHaveLength(1);
    expect(responses[0].status).toBe(204);
    expect(await rowOf(svc, 'Notes', note)).toBeUndefined();
  });

  it('multipart: a failed write answers its error and changes nothing', async () => {
    const contact = await insertContact(svc, { JobTitle: 'Stays' });
    const notes = await countRows(svc, 'Notes');
    const sent: Sent[] = [];
    const odata = client(sent);
    const responses: ParsedResponseV4[] = await odata.execBatchRequests([
      odata.newBatchRequest({ collection: 'Contacts', id: EdmV4.Guid.from(contact), method: 'PATCH', entity: { JobTitle: 'x'.repeat(101) } }),
      odata.newBatchRequest({ collection: 'Notes', method: 'POST', entity: { IsPrivate: true } }),
    ]);
    // both writes are invalid; whether the batch goes on after a failed change set is not specified
    expect(responses.length).toBeGreaterThanOrEqual(1);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 400));
    const body = await responses[0].json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Stays');
    expect(await countRows(svc, 'Notes')).toBe(notes);
  });

  it('JSON: reads and an atomicity group with $1 references (URL and @odata.bind) go through and parse back', async () => {
    const existing = await insertContact(svc, { FirstName: 'Json', LastName: 'Reader' });
    const name = marker('client json co');
    const sent: Sent[] = [];
    const odata = client(sent);

    const responses: ParsedResponseV4[] = await odata.execBatchRequestsJson([
      odata.newBatchRequest({ collection: 'Companies', method: 'POST', entity: { Name: name }, requestId: '1', atomicityGroup: 'g1' }),
      odata.newBatchRequest({ collection: '$1/Contacts', method: 'POST', entity: { LastName: 'Via URL' }, requestId: '2', atomicityGroup: 'g1', dependsOn: ['1'] }),
      odata.newBatchRequest({
        collection: 'Contacts', method: 'POST', entity: { LastName: 'Via bind', 'Company@odata.bind': '$1' } as Row, requestId: '3', atomicityGroup: 'g1', dependsOn: ['1'],
      }),
      odata.newBatchRequest({ collection: 'Contacts', id: EdmV4.Guid.from(existing), requestId: '4' }),
      odata.newBatchRequest({ collection: 'Companies', params: odata.newOptions().select(['Id', 'Name']).custom('$orderby', 'Id').top(2), requestId: '5' }),
    ]);

    // what the library sent: one JSON batch carrying the ids, the group and dependsOn
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe(`${svc.url}/$batch`);
    const request = JSON.parse(sent[0].body);
    expect(request.requests.map((r: Row) => [r.id, r.method, r.url, r.atomicityGroup ?? null])).toEqual([
      ['1', 'post', 'Companies', 'g1'], ['2', 'post', '$1/Contacts', 'g1'], ['3', 'post', 'Contacts', 'g1'],
      ['4', 'get', `Contacts(${existing})`, null], ['5', 'get', 'Companies?$orderby=Id&$select=Id,Name&$top=2', null],
    ]);

    expect(responses).toHaveLength(5);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 200, 200]);
    const company = await responses[0].json();
    expect(company.Name).toBe(name);
    expect(header(responses[0], 'location')).toBe(`${svc.url}/Companies(${company.Id})`);
    const viaUrl = await responses[1].json();
    const viaBind = await responses[2].json();
    expect(viaUrl).toMatchObject({ LastName: 'Via URL', CompanyId: company.Id });
    expect(viaBind).toMatchObject({ LastName: 'Via bind', CompanyId: company.Id });
    expect(await responses[3].json()).toMatchObject({ Id: existing, LastName: 'Reader' });
    const expected = ((await svc.knex('Companies').orderBy('Id').limit(2).select('Id', 'Name')) as Row[]).map((r) => ({ Id: r.Id, Name: r.Name }));
    expect((await responses[4].json()).value.map((r: Row) => ({ Id: r.Id, Name: r.Name }))).toEqual(expected);

    expect((await rowOf(svc, 'Companies', company.Id))!.Name).toBe(name);
    expect(await rowOf(svc, 'Contacts', viaUrl.Id)).toMatchObject({ LastName: 'Via URL', CompanyId: company.Id });
    expect(await rowOf(svc, 'Contacts', viaBind.Id)).toMatchObject({ LastName: 'Via bind', CompanyId: company.Id });
  });

  it('JSON: a failing atomicity group leaves nothing and the library gets the failed request\'s error', async () => {
    const name = marker('client json doomed');
    const text = marker('client json note');
    const sent: Sent[] = [];
    const odata = client(sent);
    const companies = await countRows(svc, 'Companies');
    const responses: ParsedResponseV4[] = await odata.execBatchRequestsJson([
      odata.newBatchRequest({ collection: 'Companies', method: 'POST', entity: { Name: name }, requestId: '1', atomicityGroup: 'g' }),
      odata.newBatchRequest({ collection: 'Notes', method: 'POST', entity: { Text: text }, requestId: '2', atomicityGroup: 'g' }),
      odata.newBatchRequest({ collection: '$1/Contacts', method: 'POST', entity: { LastName: 'x'.repeat(101) }, requestId: '3', atomicityGroup: 'g', dependsOn: ['1'] }),
    ]);
    expect(responses).toHaveLength(1);
    expect(responses[0].status).toBe(400);
    expect((await responses[0].json()).error.code).toBe('VALIDATION_FAILED');
    expect(await countRows(svc, 'Companies')).toBe(companies);
    expect(await countRows(svc, 'Companies', { Name: name })).toBe(0);
    expect(await notesWithText(svc, text)).toBe(0);
  });
});
