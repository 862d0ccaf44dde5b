/**
 * A keep-alive connection whose next request is already sent survives an event loop blocked for
 * longer than the keep-alive idle time (a SQLite schema change on a large table blocks the main
 * thread); with Node's own keepAliveTimeout the connection was reset (nodejs/node#43456). An idle
 * connection is still closed after the idle time.
 */
import net from 'node:net';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';

const IDLE_MS = 5000;

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* the stall under test */ }
}

/** Collects what the server sends until `done` says a whole answer (or the close) arrived. */
function reader(socket: net.Socket): { next(count: number): Promise<string>; closed: Promise<string> } {
  let received = '';
  let waiting: { count: number; resolve: (text: string) => void } | undefined;
  const answers = () => received.split('HTTP/1.1 ').length - 1;
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (err) => resolve(`error ${String(err)}`));
    socket.on('close', () => resolve('closed'));
  });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    if (waiting && answers() >= waiting.count && /\r\n0\r\n\r\n$|\}$/.test(received)) waiting.resolve(received);
  });
  return {
    next: (count) => new Promise((resolve, reject) => {
      waiting = { count, resolve };
      void closed.then((how) => reject(new Error(`connection ${how} after: ${received.slice(0, 200)}`)));
    }),
    closed,
  };
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('keep-alive through a stalled event loop on %s', (_name, engine) => {
  let svc: TestService;
  beforeAll(async () => { svc = await startTestService(engine, { contacts: 5 }); });
  afterAll(async () => { await svc?.close(); });

  const requestText = (path: string): string => {
    const url = new URL(svc.url + path);
    const auth = Object.entries(svc.authHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    return `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${auth}Connection: keep-alive\r\n\r\n`;
  };

  it('answers a request sent just before a stall longer than the idle time', async () => {
    const url = new URL(svc.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    const answers = reader(socket);
    socket.write(requestText('/Contacts?$top=1&$select=Id'));
    expect(await answers.next(1)).toContain('HTTP/1.1 200');
    socket.write(requestText('/Contacts?$top=2&$select=Id'));
    // the bytes are in the server's socket; now the loop that would read them is blocked
    await new Promise((resolve) => setImmediate(resolve));
    blockEventLoop(IDLE_MS + 1500);
    const both = await answers.next(2);
    expect(both.split('HTTP/1.1 200').length - 1).toBe(2);
    socket.destroy();
  }, 30000);

  it('still closes a connection left idle', async () => {
    const url = new URL(svc.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    const answers = reader(socket);
    socket.write(requestText('/Contacts?$top=1&$select=Id'));
    await answers.next(1);
    const started = Date.now();
    expect(await answers.closed).toBe('closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(Date.now() - started).toBeLessThan(IDLE_MS + 3000);
  }, 30000);
});
