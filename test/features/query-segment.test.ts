/**
 * `POST <resource>/$query` (OData 4.01 Protocol, "Passing Query Options in the Request Body"): the
 * options in a text/plain (or form-encoded) body, merged with the URL's, answer as the GET would;
 * also inside $batch; declared as Capabilities.QuerySegmentSupported.
 */
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../helpers/service';
import { asHttp, batchParts, sendJsonBatch, sendMultipart } from './batch/batch-support';
import { enc, tableRows, type Row } from './support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contacts: Row[];

  beforeAll(async () => {
    svc = await startTestService(engine);
    contacts = await tableRows(svc, 'Contacts', ['IsPrivate']);
  });
  afterAll(() => svc.close());

  const postQuery = (path: string, body: string, type = 'text/plain', headers: Record<string, string> = {}): Promise<TestResponse> =>
    svc.request('POST', path, { headers: { 'Content-Type': type, ...headers }, body });

  /** The GET answer for the same options; both must succeed and be identical. */
  async function expectSameAsGet(res: TestResponse, getPath: string): Promise<void> {
    const get = await svc.get(getPath);
    expect(get.status).toBe(200);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(res.text).toBe(get.text);
  }

  const lastName = () => String(contacts.find((c) => c.LastName !== null)!.LastName);

  it('answers the query options of a text/plain body as the GET with them in the URL', async () => {
    const options = `$filter=${enc(`LastName eq '${lastName()}' or startswith(FirstName,'A')`)}&$select=Id,FirstName,LastName&$orderby=LastName desc,Id&$top=7&$count=true`;
    const res = await postQuery('/Contacts/$query', options);
    await expectSameAsGet(res, `/Contacts?${options}`);
    const expected = contacts.filter((c) => c.LastName === lastName() || String(c.FirstName ?? '').startsWith('A')).length;
    expect(res.json()['@odata.count']).toBe(expected);
    expect(res.json().value.length).toBe(Math.min(7, expected));
  });

  it('merges the options of the URL with those of the body', async () => {
    const url = '$select=Id,LastName&$top=3';
    const body = `$filter=${enc(`LastName eq '${lastName()}'`)}&$orderby=Id`;
    const res = await postQuery(`/Contacts/$query?${url}`, body);
    await expectSameAsGet(res, `/Contacts?${url}&${body}`);
    expect(res.json().value.every((c: Row) => c.LastName === lastName() && Object.keys(c).sort().join() === '@odata.etag,Id,LastName')).toBe(true);
  });

  it('accepts application/x-www-form-urlencoded, where + is a space, and a final line end', async () => {
    const res = await postQuery('/Contacts/$query', `$filter=LastName+eq+'${lastName()}'&$select=Id\r\n`, 'application/x-www-form-urlencoded');
    await expectSameAsGet(res, `/Contacts?$filter=${enc(`LastName eq '${lastName()}'`)}&$select=Id`);
    expect(res.json().value.length).toBe(contacts.filter((c) => c.LastName === lastName()).length);
  });

  it('works on navigations, single entities and $count', async () => {
    const withCompany = contacts.find((c) => c.CompanyId !== null)!;
    const nav = `/Companies(${String(withCompany.CompanyId)})/Contacts`;
    await expectSameAsGet(await postQuery(`${nav}/$query`, '$select=Id&$orderby=Id'), `${nav}?$select=Id&$orderby=Id`);
    await expectSameAsGet(await postQuery(`/Contacts(${String(withCompany.Id)})/$query`, '$expand=Company($select=Name)'), `/Contacts(${String(withCompany.Id)})?$expand=Company($select=Name)`);
    const count = await postQuery('/Contacts/$count/$query', `$filter=${enc(`LastName eq '${lastName()}'`)}`);
    expect(count.status).toBe(200);
    expect(count.text).toBe(String(contacts.filter((c) => c.LastName === lastName()).length));
  });

  it('takes $filter=Id in (…) of 1,000 keys, too long for a request line', async () => {
    const real = contacts.slice(0, 150).map((c) => String(c.Id));
    const keys = [...real, ...Array.from({ length: 1000 - real.length }, () => randomUUID())];
    const body = `$filter=${enc(`Id in (${keys.join(',')})`)}&$select=Id&$orderby=Id`;
    expect(body.length).toBeGreaterThan(16 * 1024);
    const res = await postQuery('/Contacts/$query', body, 'text/plain', { Prefer: 'odata.maxpagesize=1000' });
    expect(res.status).toBe(200);
    expect(res.json().value.map((c: Row) => c.Id)).toEqual([...real].sort());
  });

  it('answers an empty body with the URL options alone', async () => {
    await expectSameAsGet(await postQuery('/Contacts/$query?$top=2&$select=Id', ''), '/Contacts?$top=2&$select=Id');
  });

  it('refuses an option given in both places, a body that is not text, other methods, and bad options in the body', async () => {
    const twice = await postQuery('/Contacts/$query?$top=2', '$top=3');
    expect([twice.status, twice.json().error.code]).toEqual([400, 'DUPLICATE_QUERY_OPTION']);
    const json = await postQuery('/Contacts/$query', '{"$top":3}', 'application/json');
    expect([json.status, json.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const get = await svc.get('/Contacts/$query?$top=1');
    expect([get.status, get.json().error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    const bad = await postQuery('/Contacts/$query', '$filter=Nope eq 1');
    expect([bad.status, bad.json().error.code]).toEqual([400, 'UNKNOWN_PROPERTY']);
  });

  it('works inside a multipart and a JSON $batch', async () => {
    const options = `$filter=${enc(`LastName eq '${lastName()}'`)}&$select=Id,LastName&$orderby=Id`;
    const expected = (await svc.get(`/Contacts?${options}`)).json().value;
    const multipart = await sendMultipart(svc, [{ method: 'POST', url: 'Contacts/$query', headers: { 'Content-Type': 'text/plain' }, body: options }]);
    expect(multipart.status).toBe(200);
    const part = asHttp(batchParts(multipart)[0]);
    expect(part.status).toBe(200);
    expect(part.json().value).toEqual(expected);
    const jsonBatch = await sendJsonBatch(svc, { requests: [{ id: 'q', method: 'POST', url: 'Contacts/$query', headers: { 'content-type': 'text/plain' }, body: options }] });
    expect(jsonBatch.status).toBe(200);
    const [response] = jsonBatch.json().responses;
    expect(response.status).toBe(200);
    expect(response.body.value).toEqual(expected);
  });

  it('declares Capabilities.QuerySegmentSupported in $metadata', async () => {
    const csdl = (await svc.get('/$metadata?$format=json')).json();
    expect(csdl.Crm.Service['@Org.OData.Capabilities.V1.QuerySegmentSupported']).toBe(true);
    const xml = (await svc.get('/$metadata')).text;
    expect(xml).toMatch(/<Annotation Term="Org\.OData\.Capabilities\.V1\.QuerySegmentSupported" Bool="true"\s*\/>/);
  });
});
