/**
 * A CSV/NDJSON export over HTTP is streamed (src/http/transfer-endpoint.ts, src/http/body-pieces.ts):
 * pages are read from the database as the client takes the answer, compressed or not, and reading
 * stops when the client goes away. Inside a `$batch` and an asynchronous request it is gathered whole.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';

jest.setTimeout(180_000);

const CONTACTS = 1200;
/** the service's largest page: the export reads CONTACTS / PAGE_SIZE pages and more */
const PAGE_SIZE = 100;

interface Streamed { headers: http.IncomingHttpHeaders; body: Buffer; pagesAtFirstByte: number; pagesAtEnd: number }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ENGINES)('CSV export streamed over HTTP ($name)', (engine) => {
  let svc: TestService;
  let pagesRead = 0;

  beforeAll(async () => {
    // no SQLite read processes: every page's statement goes through this process's Knex, where it is counted
    svc = await startTestService(engine, { contacts: CONTACTS, pageSize: PAGE_SIZE, config: { sqliteReadProcesses: 0, maxPageSize: PAGE_SIZE } });
    svc.knex.on('query', (q: { sql: string }) => {
      if (/^select .* from "Contacts" as "s0"/i.test(q.sql) && /\blimit\b/i.test(q.sql)) pagesRead += 1;
    });
  });
  afterAll(async () => { await svc?.close(); });

  /** GETs `path` with node:http, noting how many pages the service had read when the first byte came and at the end. */
  function streamed(path: string, headers: Record<string, string> = {}, abortAfterFirstByte = false): Promise<Streamed> {
    return new Promise((resolve, reject) => {
      const started = pagesRead;
      const req = http.get(svc.url + path, { headers: { ...svc.authHeaders, ...headers } }, (res) => {
        const pieces: Buffer[] = [];
        let pagesAtFirstByte = -1;
        res.on('data', (piece: Buffer) => {
          if (pagesAtFirstByte < 0) pagesAtFirstByte = pagesRead - started;
          pieces.push(piece);
          if (abortAfterFirstByte) {
            req.destroy();
            resolve({ headers: res.headers, body: Buffer.concat(pieces), pagesAtFirstByte, pagesAtEnd: pagesRead - started });
          }
        });
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(pieces), pagesAtFirstByte, pagesAtEnd: pagesRead - started }));
        res.on('error', (err) => { if (!abortAfterFirstByte) reject(err); });
      });
      req.on('error', (err) => { if (!abortAfterFirstByte) reject(err); });
    });
  }

  it('sends the first rows before the last page is read, chunked, with every row', async () => {
    const res = await streamed('/Contacts?$format=text/csv&$select=Id,EmailAddress');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.pagesAtEnd).toBeGreaterThanOrEqual(CONTACTS / PAGE_SIZE);
    expect(res.pagesAtFirstByte).toBeGreaterThan(0);
    expect(res.pagesAtFirstByte).toBeLessThan(res.pagesAtEnd);
    const lines = res.body.toString('utf8').trim().split('\n');
    expect(lines[0]).toBe('Id,EmailAddress');
    expect(lines).toHaveLength(CONTACTS + 1);
    expect(new Set(lines).size).toBe(CONTACTS + 1);
  });

  it('streams gzip-compressed the same text, and NDJSON likewise', async () => {
    const plain = await streamed('/Contacts?$format=text/csv&$select=Id,EmailAddress');
    const gzipped = await streamed('/Contacts?$format=text/csv&$select=Id,EmailAddress', { 'Accept-Encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['transfer-encoding']).toBe('chunked');
    expect(gzipped.pagesAtFirstByte).toBeLessThan(gzipped.pagesAtEnd);
    expect(zlib.gunzipSync(gzipped.body).toString('utf8')).toBe(plain.body.toString('utf8'));
    const ndjson = await streamed('/Contacts?$format=application/x-ndjson&$select=Id', { 'Accept-Encoding': 'deflate' });
    expect(ndjson.headers['content-encoding']).toBe('deflate');
    const ids = zlib.inflateSync(ndjson.body).toString('utf8').trim().split('\n').map((l) => (JSON.parse(l) as { Id: string }).Id);
    expect(ids).toHaveLength(CONTACTS);
  });

  it('stops reading pages when the client goes away, and keeps serving', async () => {
    const cut = await streamed('/Contacts?$format=text/csv', {}, true);
    await sleep(500);
    const pagesWhileGone = pagesRead;
    await sleep(300);
    expect(pagesRead).toBe(pagesWhileGone);
    expect(cut.pagesAtFirstByte).toBeLessThan(CONTACTS / PAGE_SIZE);
    const after = await svc.get('/Contacts/$count');
    expect(after.text).toBe(String(CONTACTS));
  });

  it('is gathered whole inside a $batch and in an asynchronous request', async () => {
    const path = `Contacts?$format=text/csv&$select=Id&$filter=${encodeURIComponent("startswith(LastName,'A')")}`;
    const direct = await svc.get(`/${path}`);
    expect(direct.status).toBe(200);
    const batch = await svc.request('POST', '/$batch', {
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: path }] }),
    });
    expect(batch.status).toBe(200);
    const part = batch.json<{ responses: { status: number; headers: Record<string, string>; body: string }[] }>().responses[0];
    expect(part.status).toBe(200);
    expect(part.headers['content-type']).toMatch(/^text\/csv/);
    expect(part.body).toBe(direct.text);

    const accepted = await svc.get(`/${path}`, { Prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const monitor = (accepted.headers.get('location') ?? '').slice(svc.url.length);
    let done = await svc.get(monitor);
    for (let i = 0; done.status === 202 && i < 200; i++) {
      await sleep(50);
      done = await svc.get(monitor);
    }
    expect(done.status).toBe(200);
    expect(done.headers.get('asyncresult')).toBe('200');
    const [head, ...rest] = done.text.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(rest.join('\r\n\r\n')).toBe(direct.text);
  });
});
