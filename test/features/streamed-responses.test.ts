/**
 * Collections are written piece by piece: a large page goes out with chunked transfer encoding as it
 * is serialised, a small one whole with a Content-Length; both are the same JSON. Inside $batch and
 * for HEAD the pieces are gathered (or never made).
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { idsOf, tableRows, type Row } from './support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contactIds: string[];

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 400, pageSize: 1000 });
    contactIds = idsOf(await tableRows(svc, 'Contacts')).sort();
  });
  afterAll(() => svc.close());

  it('sends a large collection in pieces (chunked, no Content-Length) that form the whole JSON answer', async () => {
    const res = await svc.get('/Contacts?$count=true');
    expect(res.status).toBe(200);
    expect(res.text.length).toBeGreaterThan(128 * 1024);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const body = res.json<{ '@odata.context': string; '@odata.count': number; value: Row[] }>();
    expect(Object.keys(body)).toEqual(['@odata.context', '@odata.count', 'value']);
    expect(body['@odata.count']).toBe(contactIds.length);
    expect(idsOf(body.value)).toEqual(contactIds);
    expect(Object.keys(body.value[0])).toContain('@odata.etag');
  });

  it('ends a large piecewise page with its @odata.nextLink', async () => {
    const res = await svc.get('/Contacts', { prefer: 'odata.maxpagesize=300' });
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const body = res.json<{ value: Row[]; '@odata.nextLink': string }>();
    expect(idsOf(body.value)).toEqual(contactIds.slice(0, 300));
    expect(Object.keys(body).at(-1)).toBe('@odata.nextLink');
    expect(body['@odata.nextLink']).toContain('$skiptoken=');
  });

  it('sends a small collection whole, with a Content-Length', async () => {
    const res = await svc.get('/Contacts?$top=2&$select=Id');
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(res.text));
    expect(idsOf(res.json<{ value: Row[] }>().value)).toEqual(contactIds.slice(0, 2));
  });

  it('answers HEAD on a large collection with headers only', async () => {
    const res = await svc.request('HEAD', '/Contacts');
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('gathers a large collection whole inside a $batch answer', async () => {
    const res = await svc.request('POST', '/$batch', {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ requests: [{ id: 'all', method: 'GET', url: 'Contacts' }] }),
    });
    expect(res.status).toBe(200);
    const [part] = res.json<{ responses: { status: number; body: { value: Row[] } }[] }>().responses;
    expect(part.status).toBe(200);
    expect(idsOf(part.body.value)).toEqual(contactIds);
  });
});
