/**
 * Hostile input answers a clean 4xx OData error that names the limit or the problem, quickly, on
 * both engines alike; protocol-level refusals (Node's parser, CONNECT, Expect, Host) carry an OData
 * JSON body too; every answer has a request id; a 500 tells the client only a generic message with
 * that id while the log gets the database's text, the SQL and the stack.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../helpers/service';
import { asHttp, batchParts, sendBatch, sendMultipart } from './batch/batch-support';
import { enc } from './support';
import { countRows } from './writes/write-support';

/** Sends bytes on a fresh connection and returns everything the server wrote until it closed. */
function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    socket.on('data', (d: Buffer) => { received += d.toString('utf8'); });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    setTimeout(() => { socket.destroy(); reject(new Error(`no close after 5 s; got ${received.slice(0, 200)}`)); }, 5000);
  });
}

interface RawAnswer { status: number; headers: Record<string, string>; body: string }

function parseRaw(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

function expectRefusal(res: TestResponse, status: number, code: string, mention: RegExp): { message: string; target?: string } {
  expect([res.status, res.text.slice(0, 300)]).toEqual([status, expect.stringContaining(code)]);
  const error = res.json().error;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(mention);
  expect(Array.isArray(error.details)).toBe(true);
  return error;
}

/** Nested Companies with Divisions, `levels` objects deep (each object adds two: itself and the array). */
function nestedCompany(levels: number, tag: string): string {
  let body = `{"Name":"${tag} leaf"}`;
  for (let i = 1; i < levels; i++) body = `{"Name":"${tag} ${i}","Divisions":[${body}]}`;
  return body;
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line)); done(); } });
    // URLs up to Node's header limit reach the planner here (the URL length limit has its own test: http/limits.test.ts)
    svc = await startTestService(engine, { contacts: 50, logger: pino({ level: 'info' }, sink), config: { maxUrlLength: 16384 } });
  });
  afterAll(() => svc.close());

  describe('query limits', () => {
    it('refuses a navigation path of 500 segments in $filter, naming the join limit', async () => {
      const path = `Company/${Array(499).fill('Parent').join('/')}/Name eq 'x'`;
      const { value: res, ms } = await timed(() => svc.get(`/Contacts?$filter=${enc(path)}`));
      const error = expectRefusal(res, 400, 'LIMIT_EXCEEDED', /ODATA_MAX_JOINS/);
      expect(error.target).toBe('$filter');
      expect(ms).toBeLessThan(2000);
      // a path within the limit is answered
      expect((await svc.get(`/Contacts?$filter=${enc("Company/Parent/Parent/Name eq 'x'")}`)).status).toBe(200);
    });

    it('refuses $search with 10,000 terms (through $query: too long for a request line), and deep parentheses', async () => {
      const terms = Array.from({ length: 10000 }, (_, i) => `t${i}`).join(' ');
      const { value: res, ms } = await timed(() => svc.request('POST', '/Contacts/$query', { headers: { 'Content-Type': 'text/plain' }, body: `$search=${enc(terms)}` }));
      expectRefusal(res, 400, 'LIMIT_EXCEEDED', /\$search.*ODATA_MAX_FILTER_NODES/);
      expect(ms).toBeLessThan(2000);
      const negations = await svc.get(`/Contacts?$search=${enc(`${Array(1000).fill('NOT').join(' ')} x`)}`);
      expectRefusal(negations, 400, 'LIMIT_EXCEEDED', /ODATA_MAX_FILTER_NODES/);
      const parens = await svc.get(`/Contacts?$search=${enc(`${'('.repeat(1000)}x${')'.repeat(1000)}`)}`);
      expectRefusal(parens, 400, 'SYNTAX_ERROR', /nested deeper than 100/);
      expect((await svc.get(`/Contacts?$search=${enc(Array.from({ length: 20 }, (_, i) => `t${i}`).join(' OR '))}`)).status).toBe(200);
    });

    it('refuses $orderby with 5,000 keys: the node limit bounds all keys together', async () => {
      const { value: res, ms } = await timed(() => svc.get(`/Contacts?$orderby=${Array(5000).fill('Id').join(',')}`));
      const error = expectRefusal(res, 400, 'LIMIT_EXCEEDED', /\$orderby has more than 500 nodes \(ODATA_MAX_FILTER_NODES\)/);
      expect(error.target).toBe('$orderby');
      expect(ms).toBeLessThan(2000);
      expect((await svc.get(`/Contacts?$orderby=${Array(20).fill('LastName').join(',')}`)).status).toBe(200);
    });
  });

  describe('request bodies', () => {
    it('refuses a body nested 2,000+ levels deep before parsing it, and writes nothing', async () => {
      const before = await countRows(svc, 'Companies');
      const { value: res, ms } = await timed(() => svc.request('POST', '/Companies', { headers: { 'Content-Type': 'application/json' }, body: nestedCompany(1500, 'deep') }));
      const error = expectRefusal(res, 400, 'LIMIT_EXCEEDED', /nested deeper than 64 levels \(ODATA_MAX_BODY_DEPTH\) at position \d+/);
      expect(error.target).toBe('body');
      expect(ms).toBeLessThan(2000);
      expect(await countRows(svc, 'Companies')).toBe(before);
      // within the limit, the same deep insert is written
      const shallow = await svc.request('POST', '/Companies', { headers: { 'Content-Type': 'application/json' }, body: nestedCompany(10, 'shallow') });
      expect(shallow.status).toBe(201);
      expect(await countRows(svc, 'Companies')).toBe(before + 10);
    });

    it('refuses the same nesting inside a JSON $batch and in a multipart $batch part', async () => {
      const before = await countRows(svc, 'Companies');
      const json = await sendBatch(svc, `{"requests":[{"id":"1","method":"POST","url":"Companies","body":${nestedCompany(1500, 'batch')}}]}`, 'application/json');
      expectRefusal(json, 400, 'LIMIT_EXCEEDED', /ODATA_MAX_BODY_DEPTH/);
      const multipart = await sendMultipart(svc, [{ method: 'POST', url: 'Companies', headers: { 'Content-Type': 'application/json' }, body: nestedCompany(1500, 'part') }]);
      const part = asHttp(batchParts(multipart)[0]);
      expect([part.status, part.json().error.code]).toEqual([400, 'LIMIT_EXCEEDED']);
      expect(await countRows(svc, 'Companies')).toBe(before);
    });

    it('refuses U+0000 in a body string with its position, on both engines alike, and writes nothing', async () => {
      const before = await countRows(svc, 'Contacts');
      const body = JSON.stringify({ FirstName: 'Nul', LastName: 'a\u0000b' });
      const res = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body });
      const error = expectRefusal(res, 400, 'INVALID_PAYLOAD', /U\+0000/);
      expect(error.message).toContain(`position ${body.indexOf('\\u0000')}`);
      const text = await svc.request('PUT', `/Contacts(${String((await svc.knex('Contacts').first('Id')).Id)})/FirstName/$value`, { headers: { 'Content-Type': 'text/plain' }, body: 'ab\u0000' });
      expect(expectRefusal(text, 400, 'INVALID_PAYLOAD', /U\+0000/).message).toContain('position 2');
      expect(await countRows(svc, 'Contacts')).toBe(before);
    });
  });

  describe('U+0000 in the URL', () => {
    it('refuses it in a $filter literal, a key and $search, with its position', async () => {
      const filter = await svc.get(`/Contacts?$filter=${enc("LastName eq 'ab\u0000c'")}`);
      expect(expectRefusal(filter, 400, 'SYNTAX_ERROR', /U\+0000/).message).toContain('position 15 in $filter');
      const key = await svc.get(`/Contacts(${enc("'a\u0000'")})`);
      expectRefusal(key, 400, 'SYNTAX_ERROR', /U\+0000/);
      const search = await svc.get(`/Contacts?$search=${enc('abc \u0000x')}`);
      expect(expectRefusal(search, 400, 'SYNTAX_ERROR', /U\+0000/).message).toContain('position 4 in $search');
      const phrase = await svc.get(`/Contacts?$search=${enc('"a\u0000"')}`);
      expectRefusal(phrase, 400, 'SYNTAX_ERROR', /U\+0000/);
    });
  });

  describe('protocol-level refusals', () => {
    const cases: readonly [string, string, number, string][] = [
      ['a lower-case method', 'get /odata/Contacts HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['an unknown method', 'FROB /odata/Contacts HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['a method the service does not support', 'PROPFIND /odata/Contacts HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
      ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
      ['Expect: nope', 'GET /odata/Contacts HTTP/1.1\r\nHost: x\r\nExpect: nope\r\n\r\n', 417, 'EXPECTATION_FAILED'],
      ['a missing Host', 'GET /odata/Contacts HTTP/1.1\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['a folded header', 'GET /odata/Contacts HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n  folded\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['a 100 KB request line', `GET /odata/Contacts?$filter=${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['a 100 KB header', `GET /odata/Contacts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ];
    it.each(cases)('answers %s with an OData JSON error and a request id', async (_label, request, status, code) => {
      const answer = parseRaw(await rawExchange(svc.url, request));
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
      const error = JSON.parse(answer.body).error;
      expect(error.code).toBe(code);
      expect(typeof error.message).toBe('string');
      if (status === 405) expect(answer.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
    });

    it('keeps serving after them', async () => {
      expect((await svc.get('/Contacts/$count')).status).toBe(200);
    });
  });

  describe('request ids and server errors', () => {
    it('puts a request id on every answer, and honours a well-formed incoming one', async () => {
      const ids = new Set<string>();
      for (const path of ['/Contacts?$top=1', '/Nope', '/Contacts?$filter=Nope eq 1', '/$metadata']) {
        const id = (await svc.get(path)).headers.get('x-request-id');
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        ids.add(id!);
      }
      expect(ids.size).toBe(4);
      expect((await svc.get('/Contacts?$top=1', { 'X-Request-Id': 'client-trace.42' })).headers.get('x-request-id')).toBe('client-trace.42');
      expect((await svc.get('/Contacts?$top=1', { 'X-Request-Id': 'has spaces and <tags>' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers a database failure with a generic message and its request id; the log has the database text, the SQL and the stack', async () => {
      await svc.knex.schema.renameTable('Notes', 'Notes_moved');
      try {
        const res = await svc.get('/Notes?$top=1');
        const id = res.headers.get('x-request-id')!;
        const error = expectRefusal(res, 500, 'DATABASE_ERROR', new RegExp(`request id ${id}$`));
        expect(error.message).not.toMatch(/Notes|table|relation|exist|SELECT/i);
        const logged = logLines.find((l) => l.requestId === id && l.msg === 'request failed') as { statement?: string; cause?: { message?: string; stack?: string } } | undefined;
        expect(logged).toBeDefined();
        expect(logged!.statement).toMatch(/SELECT[\s\S]*"Notes"/);
        expect(logged!.cause?.message).toMatch(/Notes/);
        expect(logged!.cause?.stack).toEqual(expect.any(String));
      } finally {
        await svc.knex.schema.renameTable('Notes_moved', 'Notes');
      }
    });

    it('logs an internal error with its cause and tells the client only the request id, in a batch part too', async () => {
      const hooks = svc.running.services.hooks.afterWriteStatement;
      const hook = () => { throw new Error('secret internals: hook exploded'); };
      hooks.push(hook);
      try {
        const res = await svc.request('POST', '/Notes', { headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'trace-internal-1' }, body: JSON.stringify({ Text: 'x' }) });
        const error = expectRefusal(res, 500, 'INTERNAL_ERROR', /request id trace-internal-1$/);
        expect(error.message).not.toContain('secret');
        const logged = logLines.find((l) => l.requestId === 'trace-internal-1' && l.msg === 'request failed') as { cause?: { message?: string; stack?: string } } | undefined;
        expect(logged?.cause?.message).toBe('secret internals: hook exploded');
        expect(logged?.cause?.stack).toContain('hostile-input.test');
        const batch = await sendMultipart(svc, [{ method: 'POST', url: 'Notes', body: { Text: 'y' } }], { 'X-Request-Id': 'trace-batch-1' });
        const part = asHttp(batchParts(batch)[0]);
        expect(part.status).toBe(500);
        expect(part.json().error.message).toMatch(/request id trace-batch-1$/);
        expect(logLines.some((l) => l.requestId === 'trace-batch-1' && l.msg === 'request failed')).toBe(true);
      } finally {
        hooks.splice(hooks.indexOf(hook), 1);
      }
    });
  });
});
