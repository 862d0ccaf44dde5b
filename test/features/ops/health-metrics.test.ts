/**
 * Operators' endpoints and timing: /healthz, /readyz (database, migrations, model; 503 naming what
 * failed), /metrics (Prometheus text: requests by entity set, method and status, latency histograms,
 * $batch parts, statement time, pool use, rate-limit refusals, model version) and the Server-Timing
 * header on every answer.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../../helpers/service';

const SERVER_ROOT = (service: TestService) => service.url.replace(/\/odata$/, '');

async function plain(service: TestService, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const res = await fetch(SERVER_ROOT(service) + path, { method: init.method ?? 'GET', headers: init.headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** The samples of a Prometheus text answer: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    found.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return found;
}

function sample(all: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const [key, value] of all) {
    const brace = key.indexOf('{');
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const text = brace < 0 ? '' : key.slice(brace);
    if (wanted.every(([k, v]) => text.includes(`${k}="${v}"`)) && (wanted.length > 0 || brace < 0)) return value;
  }
  return undefined;
}

/** Server-Timing as stage → milliseconds. */
function stagesOf(response: TestResponse): Record<string, number> {
  const header = response.headers.get('server-timing');
  expect(header).not.toBeNull();
  const stages: Record<string, number> = {};
  for (const entry of header!.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const dur = params.find((p) => p.startsWith('dur='));
    expect(dur).toBeDefined();
    stages[name] = Number(dur!.slice(4));
    expect(stages[name]).toBeGreaterThanOrEqual(0);
  }
  return stages;
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(engine, { contacts: 30 });
  }, 60000);
  afterAll(async () => {
    await service?.close();
  });

  test('/healthz answers while the process runs', async () => {
    const res = await plain(service, '/healthz');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'up', pid: process.pid });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  test('/readyz names its checks; a missing migration makes it 503 naming it', async () => {
    const ready = await plain(service, '/readyz');
    expect(ready.status).toBe(200);
    const body = ready.json<{ status: string; checks: Record<string, string> }>();
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual({ database: 'reachable', migrations: 'all applied', model: expect.stringMatching(/^version .+, \d+ entity sets$/) });

    const [last] = await service.knex('knex_migrations').orderBy('id', 'desc').limit(1) as { id: number; name: string }[];
    await service.knex('knex_migrations').where('id', last.id).delete();
    try {
      const notReady = await plain(service, '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.headers.get('retry-after')).toBe('5');
      const { error } = notReady.json<{ error: { code: string; message: string; target: string; details: { code: string; target: string; message: string }[] } }>();
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.target).toBe('readyz');
      expect(error.details).toEqual([{ code: 'NOT_READY', target: 'migrations', message: `not applied: ${last.name}` }]);
    } finally {
      await service.knex('knex_migrations').insert(last);
    }
    expect((await plain(service, '/readyz')).status).toBe(200);
  });

  test('the operators\' endpoints answer GET and HEAD only', async () => {
    const post = await plain(service, '/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(post.json().error.code).toBe('METHOD_NOT_ALLOWED');
    const head = await plain(service, '/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  test('Server-Timing gives each stage a request went through', async () => {
    const list = await service.get('/Contacts?$top=5&$select=FullName');
    expect(list.status).toBe(200);
    const stages = stagesOf(list);
    expect(Object.keys(stages)).toEqual(['auth', 'parse', 'plan', 'db', 'serialize', 'total']);
    const parts = stages.auth + stages.parse + stages.plan + stages.db + stages.serialize;
    expect(parts).toBeLessThanOrEqual(stages.total + 0.01);

    const created = await service.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Timing', LastName: 'Test' }) });
    expect(created.status).toBe(201);
    expect(Object.keys(stagesOf(created))).toEqual(['auth', 'parse', 'plan', 'db', 'serialize', 'total']);

    const metadata = await service.get('/$metadata');
    expect(Object.keys(stagesOf(metadata))).toEqual(['auth', 'parse', 'plan', 'serialize', 'total']);

    const refused = await service.get('/Contacts', { Authorization: 'Bearer nonsense' });
    expect(refused.status).toBe(401);
    expect(Object.keys(stagesOf(refused))).toEqual(['auth', 'serialize', 'total']);

    const badSyntax = await service.get('/Contacts?$filter=FirstName eq');
    expect(badSyntax.status).toBe(400);
    expect(Object.keys(stagesOf(badSyntax))).toEqual(['auth', 'serialize', 'total']);

    const outside = await plain(service, '/nowhere');
    expect(outside.status).toBe(404);
    expect(Object.keys(stagesOf(outside))).toEqual(['total']);
    expect(Object.keys(stagesOf(await plain(service, '/healthz')))).toEqual(['total']);
    // the portal's pages (Express routes) carry it too
    const landing = await plain(service, '/', { headers: { Accept: 'text/html' } });
    expect(landing.status).toBe(200);
    expect(Object.keys(stagesOf(landing))).toEqual(['total']);
  });

  test('/metrics counts requests by entity set, method and status, with bounded labels', async () => {
    const before = samples((await plain(service, '/metrics')).text);
    const count = (all: Map<string, number>, set: string, method: string, status: string) => sample(all, 'odata_requests_total', { entity_set: set, method, status }) ?? 0;

    for (let i = 0; i < 3; i++) expect((await service.get('/Contacts?$top=2')).status).toBe(200);
    expect((await service.get('/contacts?$top=1')).status).toBe(200);
    expect((await service.get('/Contacts(00000000-0000-0000-0000-000000000000)')).status).toBe(404);
    expect((await service.get('/NoSuchSet/x/y?$top=1')).status).toBe(404);
    expect((await service.get('/No%20Such%20Set(1)')).status).toBe(400);
    expect((await service.get('/Companies/$count')).status).toBe(200);
    expect((await service.get('/$metadata')).status).toBe(200);
    const batch = await service.request('POST', '/$batch', {
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ requests: [
        { id: '1', method: 'GET', url: 'Contacts?$top=1' },
        { id: '2', method: 'GET', url: 'Companies?$top=1' },
        { id: '3', method: 'GET', url: 'Groups?$top=1' },
      ] }),
    });
    expect(batch.status).toBe(200);

    const res = await plain(service, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const after = samples(res.text);
    expect(count(after, 'Contacts', 'GET', '200') - count(before, 'Contacts', 'GET', '200')).toBe(4);
    expect(count(after, 'Contacts', 'GET', '404') - count(before, 'Contacts', 'GET', '404')).toBe(1);
    expect(count(after, 'other', 'GET', '404') - count(before, 'other', 'GET', '404')).toBe(1);
    expect(count(after, 'other', 'GET', '400') - count(before, 'other', 'GET', '400')).toBe(1);
    expect(count(after, 'Companies', 'GET', '200') - count(before, 'Companies', 'GET', '200')).toBe(1);
    expect(count(after, '$metadata', 'GET', '200') - count(before, '$metadata', 'GET', '200')).toBe(1);
    expect(count(after, '$batch', 'POST', '200') - count(before, '$batch', 'POST', '200')).toBe(1);
    // no label value is made from a raw URL
    expect(res.text).not.toMatch(/NoSuchSet|No Such Set|contacts"/);
    // a latency histogram per series, with +Inf equal to the count
    const contactsOk = { entity_set: 'Contacts', method: 'GET', status: '200' };
    expect(sample(after, 'odata_request_duration_seconds_count', contactsOk)).toBe(count(after, 'Contacts', 'GET', '200'));
    expect(sample(after, 'odata_request_duration_seconds_bucket', { ...contactsOk, le: '+Inf' })).toBe(count(after, 'Contacts', 'GET', '200'));
    expect(sample(after, 'odata_request_duration_seconds_sum', contactsOk)).toBeGreaterThan(0);

    expect((sample(after, 'odata_batch_parts_total') ?? 0) - (sample(before, 'odata_batch_parts_total') ?? 0)).toBe(3);
    const statements = (all: Map<string, number>) => [...all].filter(([k]) => k.startsWith('odata_db_statement_duration_seconds_count')).reduce((n, [, v]) => n + v, 0);
    expect(statements(after) - statements(before)).toBeGreaterThanOrEqual(9);
    expect(sample(after, 'odata_db_pool_connections', { pool: 'primary', state: 'max' })).toBe(engine.name === 'sqlite' ? 1 : 10);
    if (engine.name === 'sqlite') expect(sample(after, 'odata_db_pool_connections', { pool: 'read-processes', state: 'max' })).toBe(2);
    expect(sample(after, 'odata_rate_limit_refusals_total')).toBe(0);
    const model = [...after.keys()].filter((k) => k.startsWith('odata_model_info{'));
    expect(model).toEqual([`odata_model_info{version="${service.running.services.model().version}"}`]);
    expect(after.get(model[0])).toBe(1);
    // the runtime's own metrics come along
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  test('/readyz is 503 naming the database when it cannot be reached (last: closes the pool)', async () => {
    // the model poll would go on asking the closed pool (and knex would log each failure)
    await service.running.lifecycle.close();
    await service.running.db.knex.destroy();
    const res = await plain(service, '/readyz');
    expect(res.status).toBe(503);
    const { error } = res.json<{ error: { code: string; details: { target: string; message: string }[] } }>();
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.details.map((d) => d.target)).toEqual(['database', 'migrations']);
    expect(error.details[0].message).toMatch(/^unreachable: /);
    expect((await plain(service, '/healthz')).status).toBe(200);
  });
});

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s, rate limited', (_name, engine) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(engine, { contacts: 5, config: { rateLimit: 'on', rateLimitPerSecond: 1, rateLimitBurst: 3 } });
  }, 60000);
  afterAll(async () => {
    await service?.close();
  });

  test('refusals are counted, and the operators\' endpoints are never limited', async () => {
    const statuses: number[] = [];
    // without credentials: the address's bucket (the sign-in of the test helper spent one of its tokens)
    for (let i = 0; i < 8; i++) statuses.push((await service.get('/$metadata', { Authorization: '' })).status);
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 10; i++) expect((await plain(service, '/healthz')).status).toBe(200);
    const all = samples((await plain(service, '/metrics')).text);
    expect(sample(all, 'odata_rate_limit_refusals_total')).toBe(refused);
    expect(sample(all, 'odata_requests_total', { entity_set: '$metadata', method: 'GET', status: '429' })).toBe(refused);
  });
});
