/**
 * The bare floor: what the benchmark requests cost written by hand on `node:http` — no framework, no
 * router, one prepared statement per scenario, the service's JSON bytes, one `res.end` per answer (head
 * and body leave in one write). SQLite through better-sqlite3, PostgreSQL through pg with named
 * prepared statements.
 *
 *   node -r tsx/cjs bench/floor/server.ts --engine sqlite|postgres --database <file|url> --port <p> --model-version <v>
 */
import http from 'node:http';
import { boundaryOf, jsonNotes, multipartReads, readMultipart } from './batch';
import { openPgStore } from './pg-store';
import { failure, parseOptions, Router, type Answer } from './routes';
import { openSqliteStore } from './sqlite-store';
import { after, type FloorStore, type Pending } from './store';

const BASE_PATH = '/odata';
/** The service's PostgreSQL pool size (src/db/connect.ts). */
const PG_POOL_SIZE = 10;

function option(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`floor server needs ${name}`);
  return v;
}

function send(res: http.ServerResponse, answer: Answer): void {
  const headers: Record<string, string | number> = { 'OData-Version': '4.0', ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) };
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const engine = option('--engine');
  const database = option('--database');
  const store: FloorStore = engine === 'postgres' ? await openPgStore(database, PG_POOL_SIZE) : openSqliteStore(database);
  const router = new Router({ modelVersion: option('--model-version'), contactCategories: store.contactCategories });
  const users = await store.query('firstUser', []);
  const actingUser = String(users[0]?.Id ?? '');

  const batch = async (req: http.IncomingMessage, root: string): Promise<Answer> => {
    const contentType = req.headers['content-type'] ?? '';
    const body = await readBody(req);
    if (contentType.startsWith('application/json')) return jsonNotes(store, root, actingUser, body);
    const boundary = boundaryOf(contentType);
    if (!contentType.startsWith('multipart/mixed') || !boundary) return failure(415, 'the floor answers multipart/mixed and JSON batches');
    return multipartReads(router, store, root, readMultipart(body, boundary));
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const root = `http://${req.headers.host ?? 'localhost'}${BASE_PATH}`;
    const fail = (err: unknown) => send(res, failure(500, err instanceof Error ? err.message : String(err)));
    try {
      if (!url.startsWith(BASE_PATH)) return send(res, failure(404, 'not under the service root'));
      const qm = url.indexOf('?');
      const path = url.slice(BASE_PATH.length + 1, qm < 0 ? url.length : qm);
      let answer: Pending<Answer>;
      if (req.method === 'POST' && path === '$batch') answer = batch(req, root);
      else if (req.method === 'GET') answer = router.route({ root, path, options: parseOptions(qm < 0 ? '' : url.slice(qm + 1)) }, store.query);
      else answer = failure(405, `the floor does not answer ${req.method}`);
      const sent = after(answer, (a) => send(res, a));
      if (sent instanceof Promise) sent.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  server.keepAliveTimeout = 5000;
  server.listen(Number(option('--port')), '127.0.0.1');
  const shutdown = () => server.close(() => { void store.close().then(() => process.exit(0)); });
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
