/**
 * CSV over HTTP (src/http/transfer-endpoint.ts): `POST /$import?set=…` and `GET <Set>?$format=text/csv`.
 */
import { parse } from 'csv-parse/sync';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';

jest.setTimeout(180_000);

const SELECT = 'Id,FirstName,LastName,EmailAddress,JobTitle,BusinessAddress,BirthDate,IsPrivate';

interface Summary { set: string; rowsRead: number; inserted: number; updated: number; rejected: number; committed: boolean; rejectedRows: { line: number; reason: string }[] }

describe.each(ENGINES)('CSV import and export over HTTP ($name)', (engine) => {
  let svc: TestService;
  const postCsv = (query: string, csv: string, headers: Record<string, string> = {}) =>
    svc.request('POST', `/$import?${query}`, { headers: { 'Content-Type': 'text/csv', ...headers }, body: csv });
  const count = async (filter: string): Promise<number> => Number((await svc.get(`/Contacts/$count?$filter=${encodeURIComponent(filter)}`)).text);

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 5 }); });
  afterAll(async () => { await svc?.close(); });

  it('loads good rows and lists the bad ones with line and reason', async () => {
    const res = await postCsv('set=Contacts&batchSize=2', 'FirstName,LastName,EmailAddress,BusinessAddress/City,BirthDate\nHana,One,hana1@http.test,Oslo,1990-01-02\nHana,Two,hana2@http.test,Oslo,1990-02-31\nHana,Three,hana3@http.test,Bergen,\n');
    expect(res.status).toBe(200);
    const summary = res.json<Summary>();
    expect(summary).toMatchObject({ set: 'Contacts', rowsRead: 3, inserted: 2, rejected: 1, committed: true });
    expect(summary.rejectedRows).toEqual([{ line: 3, reason: expect.stringMatching(/BirthDate/) }]);
    const got = await svc.get(`/Contacts?$filter=${encodeURIComponent("endswith(EmailAddress,'@http.test')")}&$select=FullName,BusinessAddress&$orderby=EmailAddress`);
    expect(got.json().value.map((c: { FullName: string; BusinessAddress: { City: string } }) => [c.FullName, c.BusinessAddress.City])).toEqual([['Hana One', 'Oslo'], ['Hana Three', 'Bergen']]);
  });

  it('takes the CSV as a multipart/form-data file, and upserts by an upsert key', async () => {
    const form = new FormData();
    form.append('file', new Blob(['EmailAddress,JobTitle\nhana1@http.test,Pilot\nhana9@http.test,Navigator\n'], { type: 'text/csv' }), 'contacts.csv');
    const res = await fetch(`${svc.url}/$import?set=Contacts&upsertKey=EmailAddress`, { method: 'POST', headers: svc.authHeaders, body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ inserted: 1, updated: 1, rejected: 0 });
    expect(await count("EmailAddress eq 'hana1@http.test' and JobTitle eq 'Pilot'")).toBe(1);
    expect(await count("EmailAddress eq 'hana9@http.test'")).toBe(1);
  });

  it('allOrNothing=true leaves nothing behind when a row is bad', async () => {
    const res = await postCsv('set=Contacts&allOrNothing=true', 'FirstName,LastName,EmailAddress,IsPrivate\nAll,Good,aon1@http.test,true\nAll,Bad,aon2@http.test,perhaps\n');
    expect(res.status).toBe(200);
    expect(res.json<Summary>()).toMatchObject({ inserted: 0, rejected: 1, committed: false, rejectedRows: [{ line: 3 }] });
    expect(await count("endswith(EmailAddress,'@http.test') and startswith(EmailAddress,'aon')")).toBe(0);
  });

  it('answers OData errors for a non-Administrator, an unknown column, a missing set and another body type', async () => {
    const standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    const forbidden = await postCsv('set=Contacts', 'FirstName\nNope\n', standard);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json().error.code).toBe('FORBIDDEN');
    const exportForbidden = await svc.get('/Contacts?$format=text/csv', standard);
    expect(exportForbidden.status).toBe(403);
    const unknown = await postCsv('set=Contacts', 'FirstName,Shoe Size\nZed,44\n');
    expect(unknown.status).toBe(400);
    expect(unknown.json().error.message).toMatch(/Shoe Size/);
    const noSet = await postCsv('', 'FirstName\nZed\n');
    expect(noSet.status).toBe(400);
    expect(noSet.json().error.target).toBe('set');
    const json = await svc.request('POST', '/$import?set=Contacts', { headers: { 'Content-Type': 'application/json' }, body: '[]' });
    expect(json.status).toBe(415);
    const badFilter = await svc.get(`/Contacts?$format=text/csv&$filter=${encodeURIComponent('NoSuch eq 1')}`);
    expect(badFilter.status).toBe(400);
    expect(badFilter.json().error).toBeDefined();
    expect(await count("FirstName eq 'Zed'")).toBe(0);
  });

  it('exports text/csv and NDJSON with $filter and $select, and the CSV imports into another database unchanged', async () => {
    const all = await svc.get(`/Contacts?$select=${SELECT}`, { Prefer: 'odata.maxpagesize=100000' });
    const expected = all.json<{ value: Record<string, unknown>[] }>().value.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.includes('@'))));
    const ndjson = await svc.get(`/Contacts?$format=application/x-ndjson&$select=${SELECT}&$filter=${encodeURIComponent("endswith(EmailAddress,'@http.test')")}`);
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/ndjson/);
    expect(ndjson.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual(expected.filter((e) => String(e.EmailAddress ?? '').endsWith('@http.test')));

    const csv = await svc.get(`/Contacts?$format=text/csv&$select=${SELECT}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const records = parse(csv.text) as string[][];
    expect(records[0]).toEqual(expect.arrayContaining(['Id', 'BusinessAddress/City', 'BirthDate']));
    expect(records.slice(1).map((r) => r[0])).toEqual(expected.map((e) => e.Id));

    const other = await startTestService(engine, { contacts: 0 });
    try {
      const loaded = await other.request('POST', '/$import?set=Contacts', { headers: { 'Content-Type': 'text/csv' }, body: csv.text });
      expect(loaded.json<Summary>()).toMatchObject({ inserted: expected.length, rejected: 0 });
      const back = await other.get(`/Contacts?$format=text/csv&$select=${SELECT}`);
      expect(back.text).toBe(csv.text);
    } finally {
      await other.close();
    }
  });

  it('maps a column to a field by its display name (FieldDefinitions), property names first', async () => {
    const send = (method: string, path: string, body: unknown) => svc.request(method, path, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send('POST', '/FieldDefinitions', { EntityType: 'Contact', Name: 'ShoeSize', DisplayName: 'Shoe size (EU)', FieldType: 'Integer' })).status).toBe(201);
    const jobTitle = (await svc.get(`/FieldDefinitions?$filter=${encodeURIComponent("EntityType eq 'Contact' and Name eq 'JobTitle'")}&$select=Id`)).json().value[0].Id as string;
    expect((await send('PATCH', `/FieldDefinitions(${jobTitle})`, { DisplayName: 'Position' })).status).toBe(204);
    const res = await postCsv('set=Contacts', 'FirstName,LastName,EmailAddress,SHOE SIZE (eu),position\nDee,Play,dee@display.test,44,Pilot\n');
    expect(res.status).toBe(200);
    expect(res.json<Summary>()).toMatchObject({ inserted: 1, rejected: 0 });
    const got = await svc.get(`/Contacts?$filter=${encodeURIComponent("EmailAddress eq 'dee@display.test'")}&$select=ShoeSize,JobTitle`);
    expect(got.json().value).toEqual([expect.objectContaining({ ShoeSize: 44, JobTitle: 'Pilot' })]);
  });
});
