/**
 * `Prefer: respond-async` on every request (reads, writes, actions, $batch): 202 with a status monitor,
 * the monitor before and after completion, DELETE on it, results kept in the database and read by
 * another service instance on the same database (another worker, or after a restart), expiry.
 */
import { withOverrides, type Config } from '../../src/config';
import { startService, type RunningService } from '../../src/server';
import type { WriteEvent } from '../../src/write/session';
import { ENGINES, type EngineTarget } from '../helpers/engines';
import { bearerFor, TEST_ADMIN, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../helpers/service';
import { parseHttpResponse, sendJsonBatch, sleep, type HttpPart } from './batch/batch-support';
import { expectError, insertContact, newId, patch, post, rowOf } from './writes/write-support';

const JOBS_TABLE = 'odata_async_jobs';

/** A service on `database` (created and seeded by the first one); several can share one database. */
async function serviceOn(database: string, settings: Partial<Record<keyof Config, string | number>> = {}): Promise<TestService> {
  const running: RunningService = await startService(withOverrides({
    database, port: 0, host: '127.0.0.1', logLevel: 'silent', seedContacts: 40, adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, ...settings,
  }));
  const authHeaders = await bearerFor(running.url, TEST_ADMIN.userName, TEST_ADMIN.password);
  const request = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> => {
    const res = await fetch(running.url + path, { method, headers: Object.assign({}, authHeaders, init.headers), body: init.body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  return {
    url: running.url, running, knex: running.db.knex, request, authHeaders, get: (path, headers) => request('GET', path, { headers }), close: () => running.close(),
  };
}

const tokens = (header: string | null): string[] => (header ?? '').split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine: EngineTarget) => {
  let database: string;
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    database = await engine.freshUrl();
    a = await serviceOn(database);
    b = await serviceOn(database);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await engine.dispose(database);
  });

  const ASYNC = { Prefer: 'respond-async' };

  /** Asserts the 202 answer; returns the monitor path below the service root. */
  function accepted(svc: TestService, res: TestResponse, segment = '$async'): string {
    if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${res.text.slice(0, 400)}`);
    expect(res.text).toBe('');
    expect(tokens(res.headers.get('preference-applied'))).toContain('respond-async');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const location = res.headers.get('location') ?? '';
    expect(location.startsWith(`${svc.url}/${segment}/`)).toBe(true);
    return location.slice(svc.url.length);
  }

  /** GETs the monitor on `svc` until it stops answering 202 (each 202 carries Location and Retry-After). */
  async function poll(svc: TestService, monitor: string, timeoutMs = 20000): Promise<TestResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await svc.get(monitor);
      if (res.status !== 202) return res;
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('location')).toBe(`${svc.url}${monitor}`);
      if (Date.now() > deadline) throw new Error(`${monitor} still 202 after ${timeoutMs} ms`);
      await sleep(30);
    }
  }

  /** Asserts a finished monitor answer (200 application/http, AsyncResult = the inner status); returns the inner response. */
  function result(res: TestResponse, status: number): HttpPart {
    if (res.status !== 200) throw new Error(`expected the monitor to answer 200, got ${res.status}: ${res.text.slice(0, 400)}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/http/i);
    expect(res.headers.get('asyncresult')).toBe(String(status));
    const inner = parseHttpResponse(res.text.split(/\r?\n/));
    expect(inner.status).toBe(status);
    return inner;
  }

  /** A running job of some other live process (fresh heartbeat), or of a dead one (`heartbeatAt` long ago). */
  async function foreignRunningJob(method: string, heartbeatAt: number): Promise<string> {
    const id = newId();
    const admin = await a.knex('Users').where({ UserName: TEST_ADMIN.userName }).first('Id');
    await a.knex(JOBS_TABLE).insert({
      id, state: 'running', request_method: method, request_url: '/Contacts', requested_by: String(admin.Id), owner: 'another-process', created_at: heartbeatAt, heartbeat_at: heartbeatAt,
    });
    return id;
  }

  it('declares Capabilities.AsynchronousRequestsSupported in $metadata', async () => {
    const res = await a.get('/$metadata?$format=json');
    expect(res.status).toBe(200);
    const doc = res.json();
    const [namespace, name] = String(doc.$EntityContainer).split('.');
    expect(doc[namespace][name]['@Org.OData.Capabilities.V1.AsynchronousRequestsSupported']).toBe(true);
    expect((await a.get('/$metadata')).text).toMatch(/<Annotation Term="Org\.OData\.Capabilities\.V1\.AsynchronousRequestsSupported" Bool="true"\s*\/>/);
  });

  it('an asynchronous GET answers 202, then the monitor holds exactly the synchronous answer', async () => {
    const path = '/Contacts?$select=Id,FirstName,LastName&$orderby=LastName,Id&$top=5';
    const monitor = accepted(a, await a.get(path, ASYNC));
    const inner = result(await poll(a, monitor), 200);
    expect(inner.headers['content-type']).toMatch(/^application\/json/);
    const sync = await a.get(path);
    expect(sync.status).toBe(200);
    expect(inner.json()).toEqual(sync.json());
    expect(inner.json().value).toHaveLength(5);
    expect(Number(inner.headers['content-length'])).toBe(Buffer.byteLength(inner.body));
  });

  it('an asynchronous request that fails has its error as the result (AsyncResult 404)', async () => {
    const monitor = accepted(a, await a.get(`/Contacts(${newId()})`, ASYNC));
    const inner = result(await poll(a, monitor), 404);
    expect(inner.json().error.code).toBe('NOT_FOUND');
  });

  it('an asynchronous PATCH: 204 result, the change made, other preferences still applied', async () => {
    const id = await insertContact(a, { FirstName: 'Before' });
    const monitor = accepted(a, await patch(a, `/Contacts(${id})`, { FirstName: 'After' }, { Prefer: 'respond-async, return=representation' }));
    const inner = result(await poll(a, monitor), 200);
    expect(inner.json().FirstName).toBe('After');
    expect(tokens(inner.headers['preference-applied'] ?? null)).toContain('return=representation');
    expect((await rowOf(a, 'Contacts', id))!.FirstName).toBe('After');

    const second = accepted(a, await patch(a, `/Contacts(${id})`, { FirstName: 'Again' }, ASYNC));
    result(await poll(a, second), 204);
    expect((await rowOf(a, 'Contacts', id))!.FirstName).toBe('Again');
  });

  it('an asynchronous action (Crm.MassUpdate) runs and answers its entities', async () => {
    const ids = [await insertContact(a, { JobTitle: 'Intern' }), await insertContact(a, { JobTitle: 'Intern' })];
    const monitor = accepted(a, await post(a, '/Contacts/Crm.MassUpdate', { Ids: ids, Changes: { JobTitle: 'Async CTO' } }, ASYNC));
    const inner = result(await poll(a, monitor), 200);
    expect(inner.json().value.map((c: { Id: string }) => c.Id).sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await rowOf(a, 'Contacts', id))!.JobTitle).toBe('Async CTO');
  });

  it('an asynchronous $batch keeps its $batch-status monitor; a request inside a batch never goes asynchronous', async () => {
    const text = `async batch ${newId()}`;
    const batch = { requests: [
      { id: '1', method: 'post', url: 'Notes', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: { Text: text } },
      { id: '2', method: 'get', url: 'Notes/$count', headers: { prefer: 'respond-async' } },
    ] };
    const monitor = accepted(a, await sendJsonBatch(a, batch, ASYNC), '$batch-status');
    const responses = result(await poll(a, monitor), 200).json().responses;
    expect(responses.map((r: { status: number }) => r.status)).toEqual([201, 200]);
    expect(responses[0].body.Text).toBe(text);

    const sync = await sendJsonBatch(a, { requests: [{ id: '1', method: 'get', url: 'Notes/$count', headers: { prefer: 'respond-async' } }] });
    expect(sync.status).toBe(200);
    expect(sync.json().responses[0].status).toBe(200);
  });

  it('another instance on the same database answers the monitor: 202 while a write runs elsewhere, then its result', async () => {
    const id = await insertContact(a, { FirstName: 'Slow' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let reached!: () => void;
    const blocked = new Promise<void>((resolve) => { reached = resolve; });
    const hook = async (_event: WriteEvent): Promise<void> => { reached(); await released; };
    const hooks = a.running.services.hooks.afterWriteStatement;
    hooks.push(hook);
    try {
      const monitor = accepted(a, await patch(a, `/Contacts(${id})`, { FirstName: 'Slowly' }, ASYNC));
      await blocked;
      // b has its own connection: it reads the job while a's write transaction is still open
      const running = await b.get(monitor);
      if (running.status !== 202) throw new Error(`expected 202, got ${running.status}: ${running.text}`);
      expect(running.headers.get('location')).toBe(`${b.url}${monitor}`);
      expect(running.headers.get('retry-after')).toMatch(/^\d+$/);
      expectError(await b.request('DELETE', monitor), 409, 'CONFLICT');
      release();
      result(await poll(b, monitor), 204);
      expect((await rowOf(b, 'Contacts', id))!.FirstName).toBe('Slowly');
    } finally {
      release();
      hooks.splice(hooks.indexOf(hook), 1);
    }
  });

  it('a finished result outlives the process that made it (read after it closed, by a newly started one)', async () => {
    const first = await serviceOn(database);
    const monitor = accepted(first, await first.get('/Contacts/$count', ASYNC));
    const expected = (await poll(first, monitor)).text;
    await first.close();
    const restarted = await serviceOn(database);
    try {
      const res = await restarted.get(monitor);
      expect(res.text).toBe(expected);
      const count = (await restarted.get('/Contacts/$count')).text;
      expect(result(res, 200).body).toBe(count);
    } finally {
      await restarted.close();
    }
  });

  it('a running job whose process died (heartbeat stopped) is answered as a 5xx result, never 202 forever', async () => {
    const alive = await foreignRunningJob('PATCH', Date.now());
    expect((await b.get(`/$async/${alive}`)).status).toBe(202);
    const dead = await foreignRunningJob('PATCH', Date.now() - 10 * 60 * 1000);
    const inner = result(await b.get(`/$async/${dead}`), 500);
    expect(inner.json().error.code).toBe('ASYNC_REQUEST_ABANDONED');
    // the verdict is stored: the other instance answers the same
    expect(result(await a.get(`/$async/${dead}`), 500).json().error.code).toBe('ASYNC_REQUEST_ABANDONED');
  });

  it('DELETE on the monitor forgets a finished result and drops a running read; afterwards the monitor is 404', async () => {
    const monitor = accepted(a, await a.get('/Contacts/$count', ASYNC));
    result(await poll(a, monitor), 200);
    const forgotten = await b.request('DELETE', monitor);
    expect(forgotten.status).toBe(204);
    expectError(await a.get(monitor), 404, 'NOT_FOUND');
    expect(await a.knex(JOBS_TABLE).where({ id: monitor.split('/').pop() }).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);

    const read = await foreignRunningJob('GET', Date.now());
    expect((await a.request('DELETE', `/$async/${read}`)).status).toBe(204);
    expectError(await a.get(`/$async/${read}`), 404, 'NOT_FOUND');
  });

  it('the monitor answers only GET and DELETE, and 404 to an unknown id', async () => {
    const monitor = accepted(a, await a.get('/Contacts/$count', ASYNC));
    expectError(await a.request('POST', monitor), 405, 'METHOD_NOT_ALLOWED');
    expectError(await a.get(`/$async/${newId()}`), 404, 'NOT_FOUND');
    expectError(await a.get('/$async/no-such-job'), 404, 'NOT_FOUND');
  });

  it("only the caller who sent a request reads or forgets its monitor; another user's is 404", async () => {
    const monitor = accepted(a, await a.get('/Contacts/$count', ASYNC));
    result(await poll(a, monitor), 200);
    const other = await bearerFor(a.url, 'demo.standard', TEST_DEMO_PASSWORD);
    expectError(await b.get(monitor, other), 404, 'NOT_FOUND');
    expectError(await b.request('DELETE', monitor, { headers: other }), 404, 'NOT_FOUND');
    expect((await b.get(monitor)).status).toBe(200);
    expect((await fetch(b.url + monitor)).status).toBe(401);
  });

  it('results expire after the configured time: 404 and deleted from the table', async () => {
    const brief = await serviceOn(database, { asyncResultSeconds: 1 });
    try {
      const monitor = accepted(brief, await brief.get('/Contacts/$count', ASYNC));
      result(await poll(brief, monitor), 200);
      const id = monitor.split('/').pop();
      const stored = () => brief.knex(JOBS_TABLE).where({ id }).count({ n: '*' }).then((r) => Number(r[0].n));
      expect(await stored()).toBe(1);
      await sleep(1200);
      expectError(await a.get(monitor), 404, 'NOT_FOUND');
      expect(await stored()).toBe(0);
      // a's default of an hour still keeps its own results
      const kept = accepted(a, await a.get('/Contacts/$count', ASYNC));
      await poll(a, kept);
      await sleep(200);
      expect((await b.get(kept)).status).toBe(200);
    } finally {
      await brief.close();
    }
  });
});
