/**
 * Every request limit is a setting, and exceeding one answers its status with an OData error that
 * names it: URL length (414), request line and headers (431), body bytes (413), `$select` and
 * `$expand` width, `$expand` depth, body nesting and `$batch` parts (400 LIMIT_EXCEEDED). The limits
 * set low here prove the setting is what decides, not a built-in constant.
 */
import net from 'node:net';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../../helpers/service';
import { asHttp, batchParts, sendJsonBatch, sendMultipart } from '../batch/batch-support';

function expectLimit(res: TestResponse, status: number, code: string, names: RegExp): void {
  expect([res.status, res.text.slice(0, 300)]).toEqual([status, expect.stringContaining(code)]);
  const { error } = res.json();
  expect(error.code).toBe(code);
  expect(error.message).toMatch(names);
}

/** Sends raw bytes and answers the status and body of what came back (fetch cannot read a 431 reliably mid-send). */
function rawStatus(url: string, text: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    socket.on('data', (d: Buffer) => { received += d.toString('utf8'); });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close after 5 s; got ${received.slice(0, 200)}`)); }, 5000);
    socket.on('close', () => clearTimeout(timer));
    socket.on('close', () => resolve({ status: Number(received.split(' ')[1]), body: received.slice(received.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
  });
}

const LIMITS = {
  maxUrlLength: 600, maxHeaderBytes: 4096, maxSelectItems: 4, maxExpandItems: 3, maxExpandDepth: 2,
  maxBodyDepth: 6, batchMaxParts: 3, maxBodyBytes: 20000, maxTop: 50, maxFilterNodes: 40, maxPageSize: 200,
};

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  beforeAll(async () => { svc = await startTestService(engine, { contacts: 5, config: LIMITS }); }, 60000);
  afterAll(async () => { await svc.close(); });

  it('a URL longer than ODATA_MAX_URL_LENGTH answers 414 URI_TOO_LONG; one at the limit is served', async () => {
    // a custom query option as filler: nothing in it is percent-encoded on the way, so its length is what arrives
    const prefix = '/Contacts?$top=1&filler=';
    const within = prefix + 'x'.repeat(LIMITS.maxUrlLength - prefix.length);
    expect((await svc.get(within)).status).toBe(200);
    expectLimit(await svc.get(within + 'x'), 414, 'URI_TOO_LONG', /ODATA_MAX_URL_LENGTH allows 600/);
  });

  it('the URL limit holds for a $batch part too', async () => {
    const res = await sendJsonBatch(svc, { requests: [{ id: '1', method: 'GET', url: `Contacts?$filter=FirstName ne '${'y'.repeat(700)}'` }] });
    expect(res.status).toBe(200);
    const [answer] = res.json().responses;
    expect([answer.status, answer.body.error.code]).toEqual([414, 'URI_TOO_LONG']);
  });

  it('headers beyond ODATA_MAX_HEADER_BYTES answer 431 HEADERS_TOO_LARGE', async () => {
    const { host } = new URL(svc.url);
    const small = await rawStatus(svc.url, `GET /odata/$metadata HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${'a'.repeat(2000)}\r\nConnection: close\r\n\r\n`);
    expect(small.status).toBe(200);
    const big = await rawStatus(svc.url, `GET /odata/$metadata HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${'a'.repeat(5000)}\r\nConnection: close\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body).error.code).toBe('HEADERS_TOO_LARGE');
  });

  it('a body beyond ODATA_MAX_BODY_BYTES answers 413 naming the setting', async () => {
    const res = await svc.request('POST', '/Notes', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Text: 'z'.repeat(LIMITS.maxBodyBytes) }) });
    expectLimit(res, 413, 'PAYLOAD_TOO_LARGE', /ODATA_MAX_BODY_BYTES/);
  });

  it('$select with more items than ODATA_MAX_SELECT_ITEMS (nested ones counted) answers 400 LIMIT_EXCEEDED', async () => {
    expect((await svc.get('/Contacts?$select=Id,FirstName,LastName,FullName')).status).toBe(200);
    expectLimit(await svc.get('/Contacts?$select=Id,FirstName,LastName,FullName,EmailAddress'), 400, 'LIMIT_EXCEEDED', /ODATA_MAX_SELECT_ITEMS allows 4/);
    const nested = await svc.get('/Contacts?$select=Id,FirstName,LastName&$expand=Company($select=Id,Name)');
    expectLimit(nested, 400, 'LIMIT_EXCEEDED', /\$select names 5 items/);
    expect(nested.json().error.target).toBe('$select');
  });

  it('$expand with more navigations than ODATA_MAX_EXPAND_ITEMS (nested ones counted) answers 400 LIMIT_EXCEEDED', async () => {
    expect((await svc.get('/Contacts?$expand=Company,Owner,Notes')).status).toBe(200);
    expectLimit(await svc.get('/Contacts?$expand=Company,Owner,Notes,Groups'), 400, 'LIMIT_EXCEEDED', /ODATA_MAX_EXPAND_ITEMS allows 3/);
    const nested = await svc.get('/Contacts?$expand=Company($expand=Contacts),Owner,Notes');
    expectLimit(nested, 400, 'LIMIT_EXCEEDED', /\$expand names 4 navigations/);
    expect(nested.json().error.target).toBe('$expand');
  });

  it('$expand deeper than ODATA_MAX_EXPAND_DEPTH answers 400, and $metadata publishes the depth as ExpandRestrictions/MaxLevels', async () => {
    expect((await svc.get('/Contacts?$expand=Company($expand=Contacts)')).status).toBe(200);
    expectLimit(await svc.get('/Contacts?$expand=Company($expand=Contacts($expand=Company))'), 400, 'LIMIT_EXCEEDED', /at most 2 levels \(ODATA_MAX_EXPAND_DEPTH\)/);
    const metadata = (await svc.get('/$metadata?$format=json')).json();
    expect(metadata.Crm.Service.Contacts['@Org.OData.Capabilities.V1.ExpandRestrictions'].MaxLevels).toBe(LIMITS.maxExpandDepth);
  });

  it('the planner\'s limits name their setting: $top (ODATA_MAX_TOP), $filter/$orderby nodes (ODATA_MAX_FILTER_NODES), Ids per mass operation (ODATA_MAX_PAGE_SIZE)', async () => {
    expect((await svc.get(`/Contacts?$top=${LIMITS.maxTop}`)).status).toBe(200);
    const top = await svc.get(`/Contacts?$top=${LIMITS.maxTop + 1}`);
    expectLimit(top, 400, 'LIMIT_EXCEEDED', /\$top may be at most 50 \(ODATA_MAX_TOP\)/);
    expect(top.json().error.target).toBe('$top');
    const terms = (n: number) => Array(n).fill('Id eq Id').join(' or ');
    expect((await svc.get(`/Contacts?$filter=${encodeURIComponent(terms(5))}`)).status).toBe(200);
    expectLimit(await svc.get(`/Contacts?$filter=${encodeURIComponent(terms(20))}`), 400, 'LIMIT_EXCEEDED', /\$filter has more than 40 nodes \(ODATA_MAX_FILTER_NODES\)/);
    expectLimit(await svc.get(`/Contacts?$orderby=${Array(50).fill('Id').join(',')}`), 400, 'LIMIT_EXCEEDED', /\$orderby has more than 40 nodes \(ODATA_MAX_FILTER_NODES\)/);
    const ids = Array.from({ length: LIMITS.maxPageSize + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const mass = await svc.request('POST', '/Contacts/Crm.MassDelete', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Ids: ids }) });
    expectLimit(mass, 400, 'LIMIT_EXCEEDED', /At most 200 Ids per call \(ODATA_MAX_PAGE_SIZE\)/);
  });

  it('a body nested deeper than ODATA_MAX_BODY_DEPTH answers 400 naming the setting', async () => {
    let body = '{"Name":"leaf"}';
    for (let i = 0; i < 4; i++) body = `{"Name":"n${i}","Divisions":[${body}]}`;
    expectLimit(await svc.request('POST', '/Companies', { headers: { 'Content-Type': 'application/json' }, body }), 400, 'LIMIT_EXCEEDED', /ODATA_MAX_BODY_DEPTH/);
  });

  it('a $batch with more parts than ODATA_BATCH_MAX_PARTS answers 400 naming the setting, in both formats', async () => {
    const get = { method: 'GET', url: 'Contacts?$top=1' };
    const ok = await sendMultipart(svc, [get, get, get]);
    expect(batchParts(ok).map((p) => asHttp(p).status)).toEqual([200, 200, 200]);
    expectLimit(await sendMultipart(svc, [get, get, get, get]), 400, 'LIMIT_EXCEEDED', /ODATA_BATCH_MAX_PARTS/);
    const json = { requests: [1, 2, 3, 4].map((id) => ({ id: String(id), ...get })) };
    expectLimit(await sendJsonBatch(svc, json), 400, 'LIMIT_EXCEEDED', /ODATA_BATCH_MAX_PARTS/);
  });
});
