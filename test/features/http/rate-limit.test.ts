/**
 * Rate limiting: a token bucket per user (whatever credential) and per address for calls without
 * one, kept in the database. Exceeding it answers 429 TOO_MANY_REQUESTS with Retry-After and the IETF
 * RateLimit / RateLimit-Policy fields; every part of a $batch counts; two service instances on one
 * database share the buckets. Rate 1/s, burst 5: bursts here take well under a second, and the
 * assertions allow for the tokens that time adds back.
 */
import { withOverrides } from '../../../src/config';
import { startService, type RunningService } from '../../../src/server';
import { ENGINES } from '../../helpers/engines';
import { TEST_ADMIN, TEST_DEMO_PASSWORD } from '../../helpers/service';

const BURST = 5;
const RATE = 1;

interface Answer { status: number; headers: Headers; body: string }

async function call(service: RunningService, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(service.url + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A Bearer header made through the token store (the token endpoint would spend the address's tokens). */
async function bearer(service: RunningService, userName: string): Promise<Record<string, string>> {
  const [user] = await service.db.knex('Users').select('Id').where('UserName', userName) as { Id: string }[];
  const issued = await service.services.auth.store.issue(user.Id, ['data', 'login'], { accessSeconds: 3600, refreshSeconds: 3600 });
  return { Authorization: `Bearer ${issued.accessToken}` };
}

/** Sends requests one after the other; answers their statuses and how long the run took in seconds. */
async function burst(n: number, send: (i: number) => Promise<Answer>): Promise<{ answers: Answer[]; seconds: number }> {
  const started = Date.now();
  const answers: Answer[] = [];
  for (let i = 0; i < n; i++) answers.push(await send(i));
  return { answers, seconds: (Date.now() - started) / 1000 };
}

/** At most the burst plus what the elapsed time refilled was granted, and something was refused. */
function expectHeld(run: { answers: Answer[]; seconds: number }, alreadySpent = 0): void {
  const granted = run.answers.filter((a) => a.status !== 429).length;
  expect(granted).toBeLessThanOrEqual(BURST - alreadySpent + Math.ceil(run.seconds * RATE));
  expect(run.answers.some((a) => a.status === 429)).toBe(true);
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  let first: RunningService;
  let second: RunningService;

  beforeAll(async () => {
    database = await engine.freshUrl();
    const config = (seedContacts: number) => withOverrides({
      adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, database, port: 0, host: '127.0.0.1', logLevel: 'silent',
      seedContacts, rateLimit: 'on', rateLimitPerSecond: RATE, rateLimitBurst: BURST, trustedProxies: '127.0.0.1',
    });
    first = await startService(config(5));
    // a second instance on the same database, as another worker or node would be
    second = await startService(config(5), { seed: false });
  }, 60000);
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await engine.dispose(database);
  });

  it('a user gets the burst, then 429 TOO_MANY_REQUESTS with Retry-After, RateLimit and RateLimit-Policy', async () => {
    const auth = await bearer(first, 'demo.manager');
    const run = await burst(BURST + 3, () => call(first, '/Contacts?$top=1', { headers: auth }));
    expect(run.answers.slice(0, BURST).map((a) => a.status)).toEqual(Array(BURST).fill(200));
    expect(run.answers[0].headers.get('ratelimit-policy')).toBe(`"default";q=${BURST};w=${BURST / RATE}`);
    expect(run.answers[0].headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${BURST - 1};t=\\d+$`));
    expect(run.answers[BURST - 1].headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    expectHeld(run);
    const refused = run.answers.find((a) => a.status === 429)!;
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/1 requests per second, bursts of 5/) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toMatch(/^"default";r=0;t=[1-9]\d*$/);
    expect(refused.headers.get('ratelimit-policy')).toBe(`"default";q=${BURST};w=${BURST / RATE}`);
    // another user's bucket is untouched
    expect((await call(first, '/Contacts?$top=1', { headers: await bearer(first, 'demo.restricted') })).status).toBe(200);
  });

  it('every part of a $batch counts; a batch beyond what is left is refused before any part runs', async () => {
    const auth = await bearer(first, 'demo.standard');
    const get = (id: string) => ({ id, method: 'GET', url: 'Contacts?$top=1' });
    const json = { 'Content-Type': 'application/json', ...auth };
    const four = await call(first, '/$batch', { method: 'POST', headers: json, body: JSON.stringify({ requests: ['1', '2', '3', '4'].map(get) }) });
    expect(four.status).toBe(200);
    expect(four.headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${BURST - 4};t=\\d+$`));
    const text = `rate-limited batch ${Date.now()}`;
    const three = await call(first, '/$batch', { method: 'POST', headers: json, body: JSON.stringify({ requests: [get('1'), get('2'), { id: '3', method: 'POST', url: 'Notes', headers: { 'content-type': 'application/json' }, body: { Text: text } }] }) });
    expect(three.status).toBe(429);
    expect(JSON.parse(three.body).error.code).toBe('TOO_MANY_REQUESTS');
    expect(three.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const [{ n }] = await first.db.knex('Notes').where('Text', text).count({ n: '*' }) as { n: number | string }[];
    expect(Number(n)).toBe(0);
  });

  it('calls without credentials draw on their address\'s bucket (sign-ins included), not on a user\'s', async () => {
    const auth = await bearer(first, 'demo.browse');
    const run = await burst(BURST + 3, (i) => (i % 2 === 0 ? call(first, '/$metadata') : call(first, '/Contacts')));
    // the unauthenticated ones are 401 until the address's bucket is empty, then 429
    expect(run.answers.filter((a) => a.status === 401).length).toBeGreaterThan(0);
    expectHeld(run);
    const signIn = await fetch(new URL('/auth/token', first.url), {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'password', username: 'demo.browse', password: TEST_DEMO_PASSWORD }).toString(),
    });
    expect(signIn.status).toBe(429);
    expect(signIn.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect((await call(first, '/Contacts?$top=1', { headers: auth })).status).toBe(200);
  });

  it('behind a trusted proxy, the address is the client\'s from X-Forwarded-For', async () => {
    const from = (client: string) => ({ 'X-Forwarded-For': `${client}, 127.0.0.1` });
    const run = await burst(BURST + 3, () => call(first, '/$metadata', { headers: from('203.0.113.7') }));
    expectHeld(run);
    // another client behind the same proxy has a bucket of its own
    expect((await call(first, '/$metadata', { headers: from('203.0.113.8') })).status).toBe(200);
  });

  it('two service instances on one database share a user\'s bucket', async () => {
    const auth = await bearer(first, 'admin');
    const run = await burst(BURST + 3, (i) => call(i % 2 === 0 ? first : second, '/Contacts?$top=1', { headers: auth }));
    // with a bucket per instance all of these would pass (each instance saw at most 4)
    expectHeld(run);
    const refusedOn = run.answers.map((a, i) => (a.status === 429 ? i % 2 : -1)).filter((i) => i >= 0);
    expect(refusedOn.length).toBeGreaterThan(0);
  });
});
