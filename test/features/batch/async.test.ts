/** Asynchronous $batch (Prefer: respond-async): 202 + status monitor, polling to the application/http result, completion without polling. */
import http from 'node:http';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../../helpers/service';
import { countRows, expectError, MISSING, newId } from '../writes/write-support';
import {
  asChangeSet, asHttp, expectPartError, expectPartStatus, marker, multipartBody, multipartType, notesWithText, parseHttpResponse,
  parseMultipart, postNote, sendBatch, sendJsonBatch, sleep, type Entry, type HttpPart,
} from './batch-support';

/** POSTs a body and closes the connection as soon as the status line arrives; resolves with that status. */
function postAndHangUp(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const status = res.statusCode ?? 0;
      res.destroy();
      req.destroy();
      resolve(status);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tokens = (header: string | null): string[] => (header ?? '').split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const monitorPattern = (): RegExp => new RegExp(`^${svc.url.replace(/[.$]/g, (c) => `\\${c}`)}/\\$batch-status/[^/?#]+$`);

  /** Asserts the 202 answer to an asynchronous batch; returns the monitor path below the service root. */
  function accepted(res: TestResponse): string {
    if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${res.text.slice(0, 400)}`);
    expect(res.text).toBe('');
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(monitorPattern());
    expect(tokens(res.headers.get('preference-applied'))).toContain('respond-async');
    return location.slice(svc.url.length);
  }

  /** GETs the monitor until it stops answering 202 (each 202 must carry Retry-After); returns the final answer. */
  async function poll(monitor: string, timeoutMs = 30000): Promise<TestResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await svc.get(monitor);
      if (res.status !== 202) return res;
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      if (Date.now() > deadline) throw new Error(`${monitor} still 202 after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Asserts the final monitor answer (200 application/http, AsyncResult: 200) and returns the HTTP response inside. */
  function finished(res: TestResponse): HttpPart {
    if (res.status !== 200) throw new Error(`expected the monitor to answer 200, got ${res.status}: ${res.text.slice(0, 400)}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/http/i);
    expect(res.headers.get('asyncresult')).toBe('200');
    expect(res.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    const inner = parseHttpResponse(res.text.split(/\r?\n/));
    expect(inner.status).toBe(200);
    return inner;
  }

  async function until(check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not done after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  const sendAsync = (entries: readonly Entry[], prefer = 'respond-async') => sendBatch(svc, multipartBody(entries), multipartType(), { Prefer: prefer });

  it('multipart: 202 with a monitor, then 200 application/http holding the multipart batch response', async () => {
    const text = marker('async');
    const res = await sendAsync([postNote(text), { method: 'GET', url: 'Notes/$count' }, { changeset: [{ ...postNote(`${text} cs`), contentId: '1' }] }]);
    const inner = finished(await poll(accepted(res)));
    expect(inner.headers['content-type']).toMatch(/^multipart\/mixed\s*;\s*boundary=/i);
    const parts = parseMultipart(inner.body, inner.headers['content-type']);
    expect(parts).toHaveLength(3);
    expectPartStatus(asHttp(parts[0]), 201);
    expect(asHttp(parts[0]).json().Text).toBe(text);
    expectPartStatus(asHttp(parts[1]), 200);
    expect(Number(asHttp(parts[1]).body)).toBeGreaterThan(0);
    expectPartStatus(asChangeSet(parts[2]).parts[0], 201);
    expect(await notesWithText(svc, text)).toBe(1);
    expect(await notesWithText(svc, `${text} cs`)).toBe(1);
  });

  it('a large batch: every 202 while running carries Retry-After, and the result holds all 1000 answers', async () => {
    const prefix = marker('async thousand');
    const count = await countRows(svc, 'Notes');
    const members = Array.from({ length: 1000 }, (_, i) => ({ ...postNote(`${prefix} ${i}`), contentId: String(i + 1) }));
    const inner = finished(await poll(accepted(await sendAsync([{ changeset: members }]))));
    const cs = asChangeSet(parseMultipart(inner.body, inner.headers['content-type'])[0]);
    expect(cs.parts).toHaveLength(1000);
    expect(cs.parts.every((p) => p.status === 201)).toBe(true);
    expect(await countRows(svc, 'Notes')).toBe(count + 1000);
  }, 120000);

  it('JSON batch: the monitor answers the JSON batch response inside application/http', async () => {
    const text = marker('async json');
    const res = await sendJsonBatch(svc, { requests: [{ id: '1', method: 'post', url: 'Notes', headers: { 'content-type': 'application/json' }, body: { Text: text } }] }, { Prefer: 'respond-async' });
    const inner = finished(await poll(accepted(res)));
    expect(inner.headers['content-type']).toMatch(/^application\/json/);
    const responses = inner.json().responses;
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ id: '1', status: 201, body: { Text: text } });
    expect(await notesWithText(svc, text)).toBe(1);
  });

  it('respond-async with odata.continue-on-error: both apply', async () => {
    const text = marker('async continue');
    const res = await sendAsync([{ method: 'GET', url: `Contacts(${MISSING})` }, postNote(text)], 'respond-async, odata.continue-on-error');
    const inner = finished(await poll(accepted(res)));
    const parts = parseMultipart(inner.body, inner.headers['content-type']).map(asHttp);
    expect(parts).toHaveLength(2);
    expectPartError(parts[0], 404, 'NOT_FOUND');
    expectPartStatus(parts[1], 201);
    expect(await notesWithText(svc, text)).toBe(1);
  });

  it('a failed request inside still makes the batch itself a 200 result (AsyncResult: 200)', async () => {
    const text = marker('async stop');
    const res = await sendAsync([{ method: 'DELETE', url: `Notes(${MISSING})` }, postNote(text)]);
    const inner = finished(await poll(accepted(res)));
    const parts = parseMultipart(inner.body, inner.headers['content-type']).map(asHttp);
    expect(parts).toHaveLength(1);
    expectPartError(parts[0], 404, 'NOT_FOUND');
    expect(await notesWithText(svc, text)).toBe(0);
  });

  it('the work completes without anyone polling the monitor', async () => {
    const prefix = marker('unpolled');
    const count = await countRows(svc, 'Notes');
    const entries = Array.from({ length: 50 }, (_, i) => postNote(`${prefix} ${i}`));
    accepted(await sendAsync(entries));
    await until(async () => (await countRows(svc, 'Notes')) >= count + 50);
    await sleep(200);
    expect(await countRows(svc, 'Notes')).toBe(count + 50);
    expect(await svc.knex('Notes').where('Text', 'like', `${prefix} %`).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(50);
  });

  it('the work completes when the client disconnects right after the 202', async () => {
    const prefix = marker('hung up');
    const members = Array.from({ length: 200 }, (_, i) => ({ ...postNote(`${prefix} ${i}`), contentId: String(i + 1) }));
    const status = await postAndHangUp(`${svc.url}/$batch`, multipartBody([{ changeset: members }]), { ...svc.authHeaders, 'Content-Type': multipartType(), Prefer: 'respond-async' });
    expect(status).toBe(202);
    await until(async () => (await svc.knex('Notes').where('Text', 'like', `${prefix} %`).count({ n: '*' }).then((r) => Number(r[0].n))) === 200);
  });

  it('a change set completes atomically without polling', async () => {
    const prefix = marker('unpolled cs');
    const members = Array.from({ length: 20 }, (_, i) => ({ ...postNote(`${prefix} ${i}`), contentId: String(i + 1) }));
    accepted(await sendAsync([{ changeset: members }]));
    await until(async () => (await svc.knex('Notes').where('Text', 'like', `${prefix} %`).count({ n: '*' }).then((r) => Number(r[0].n))) === 20);
  });

  it.each([['a random id', () => newId()], ['a made-up word', () => 'no-such-job']])('an unknown monitor id (%s) answers 404', async (_what, id) => {
    expectError(await svc.get(`/$batch-status/${id()}`), 404, 'NOT_FOUND');
  });
});
