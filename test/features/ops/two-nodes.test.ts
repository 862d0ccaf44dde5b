/**
 * Scale-out: two service nodes (two startService calls, two ports) on one database, requests
 * alternating between them. Everything a node keeps must be shared through the database: ETags,
 * next links and $skiptokens, asynchronous jobs, rate-limit buckets, token revocation and schema
 * changes. On SQLite the two nodes share one database file (as two processes on one machine would).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverrides, type Config } from '../../../src/config';
import { startService, type RunningService } from '../../../src/server';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, TEST_ADMIN, TEST_DEMO_PASSWORD } from '../../helpers/service';

interface Answer { status: number; headers: Headers; text: string; json<T = Record<string, unknown>>(): T }

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s: two nodes on one database', (_name, engine) => {
  let database: string;
  let a: RunningService;
  let b: RunningService;
  let admin: Record<string, string>;
  const nodes = () => [a, b] as const;
  const config = (overrides: Partial<Record<keyof Config, string | number>> = {}) => withOverrides({
    adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, database, port: 0, host: '127.0.0.1', logLevel: 'silent',
    seedContacts: 40, pageSize: 10, rateLimit: 'off', modelPollMs: 100, ...overrides,
  });
  /** `path` below the service root, on node `i % 2` */
  const on = (i: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    call(nodes()[i % 2].url + path, { ...init, headers: Object.assign({}, admin, init.headers) });

  beforeAll(async () => {
    database = await engine.freshUrl();
    a = await startService(config());
    b = await startService(config(), { seed: false });
    admin = await bearerFor(a.url, TEST_ADMIN.userName, TEST_ADMIN.password);
  }, 60000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await engine.dispose(database);
  });

  test('the nodes listen on different ports', () => {
    expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
  });

  test('reads alternate between the nodes and agree', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const res = await on(i, '/Contacts?$select=Id,FullName&$orderby=Id&$top=5&$count=true');
      expect(res.status).toBe(200);
      // the context URL names the node asked (behind a load balancer both would have ODATA_PUBLIC_URL)
      const { '@odata.context': context, ...rest } = res.json<Record<string, unknown>>();
      expect(context).toBe(`${nodes()[i % 2].url}/$metadata#Contacts(Id,FullName)`);
      answers.push(rest);
    }
    for (const answer of answers) expect(answer).toEqual(answers[0]);
  });

  test('a write on one node is read on the other; an ETag from one is honoured (or refused as stale) on the other', async () => {
    const created = await on(0, '/Contacts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Node', LastName: 'Alpha' }) });
    expect(created.status).toBe(201);
    const id = created.json<{ Id: string }>().Id;
    const firstTag = created.headers.get('etag')!;
    expect(firstTag).toBeTruthy();

    const read = await on(1, `/Contacts(${id})`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(firstTag);
    expect(read.json<{ LastName: string }>().LastName).toBe('Alpha');

    const patched = await on(1, `/Contacts(${id})`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': firstTag }, body: JSON.stringify({ LastName: 'Beta' }) });
    expect(patched.status).toBe(204);
    const secondTag = patched.headers.get('etag')!;
    expect(secondTag).not.toBe(firstTag);

    const stale = await on(0, `/Contacts(${id})`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': firstTag }, body: JSON.stringify({ LastName: 'Gamma' }) });
    expect(stale.status).toBe(412);
    expect(stale.json<{ error: { code: string } }>().error.code).toBe('PRECONDITION_FAILED');
    expect((await on(0, `/Contacts(${id})`, { headers: { 'If-None-Match': secondTag } })).status).toBe(304);

    const fresh = await on(0, `/Contacts(${id})`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': secondTag }, body: JSON.stringify({ LastName: 'Gamma' }) });
    expect(fresh.status).toBe(204);
    expect((await on(1, `/Contacts(${id})/LastName/$value`)).text).toBe('Gamma');
  });

  test('a $batch on one node, its change set read back on the other', async () => {
    const batch = await on(1, '/$batch', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ requests: [
        { id: 'c', atomicityGroup: 'g', method: 'POST', url: 'Companies', headers: { 'content-type': 'application/json' }, body: { Name: 'Two Node Batch Ltd' } },
        { id: 'p', atomicityGroup: 'g', dependsOn: ['c'], method: 'POST', url: 'Contacts', headers: { 'content-type': 'application/json' }, body: { FirstName: 'In', LastName: 'Batch', 'Company@odata.bind': '$c' } },
        { id: 'r', method: 'GET', url: 'Companies?$filter=Name eq \'Two Node Batch Ltd\'&$select=Name' },
      ] }),
    });
    expect(batch.status).toBe(200);
    const responses = batch.json<{ responses: { id: string; status: number }[] }>().responses;
    expect(responses.map((r) => [r.id, r.status]).sort()).toEqual([['c', 201], ['p', 201], ['r', 200]]);
    const back = await on(0, `/Contacts?$filter=Company/Name eq 'Two Node Batch Ltd'&$select=LastName`);
    expect(back.json<{ value: { LastName: string }[] }>().value.map((c) => c.LastName)).toEqual(['Batch']);
  });

  test('next links and $skiptokens from one node are followed on the other', async () => {
    const all = (await on(0, '/Contacts?$select=Id&$orderby=LastName,Id&$top=1000&$count=true', { headers: { Prefer: 'odata.maxpagesize=1000' } })).json<{ value: { Id: string }[] }>().value.map((c) => c.Id);
    expect(all.length).toBeGreaterThan(25);
    const seen: string[] = [];
    let next: string | undefined = `${a.url}/Contacts?$select=Id&$orderby=LastName,Id`;
    let hop = 0;
    while (next !== undefined) {
      // the link names the node that made it; the other node is asked instead
      const target = nodes()[hop % 2].url;
      const path = next.slice(next.indexOf('/odata') + '/odata'.length);
      if (hop > 0) expect(next.startsWith(nodes()[(hop + 1) % 2].url)).toBe(true);
      const page = await call(target + path, { headers: admin });
      expect(page.status).toBe(200);
      const body = page.json<{ value: { Id: string }[]; '@odata.nextLink'?: string }>();
      seen.push(...body.value.map((c) => c.Id));
      next = body['@odata.nextLink'];
      hop++;
    }
    expect(hop).toBeGreaterThan(2);
    expect(seen).toEqual(all);
  });

  test('an asynchronous request started on one node is answered by the other\'s monitor', async () => {
    const accepted = await on(0, '/Contacts/$count', { headers: { Prefer: 'respond-async' } });
    expect(accepted.status).toBe(202);
    const monitor = accepted.headers.get('location')!;
    expect(monitor.startsWith(a.url)).toBe(true);
    const onB = b.url + monitor.slice(a.url.length);
    let res = await call(onB, { headers: admin });
    for (let i = 0; res.status === 202 && i < 200; i++) {
      await sleep(25);
      res = await call(onB, { headers: admin });
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('asyncresult')).toBe('200');
    const count = (await on(1, '/Contacts/$count')).text;
    expect(res.text).toContain(`\r\n\r\n${count}`);
  });

  test('a token revoked on one node is refused on the other at once', async () => {
    const res = await call(new URL('/auth/token', a.url).toString(), {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: 'demo.standard', password: TEST_DEMO_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    const { access_token: token } = res.json<{ access_token: string }>();
    const bearer = { Authorization: `Bearer ${token}` };
    expect((await call(`${b.url}/Contacts?$top=1`, { headers: bearer })).status).toBe(200);
    const revoked = await call(new URL('/auth/revoke', a.url).toString(), {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    const refused = await call(`${b.url}/Contacts?$top=1`, { headers: bearer });
    expect(refused.status).toBe(401);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('UNAUTHENTICATED');
  });

  test('a schema change made through one node is served by the other within one second', async () => {
    const before = (await on(1, '/$metadata')).text;
    expect(before).not.toContain('Shoe_Size');
    await a.lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'Shoe_Size', definition: { $Type: 'Edm.Int32', $Nullable: true } });
    const started = Date.now();
    let seen = false;
    while (!seen && Date.now() - started < 1000) {
      seen = (await on(1, '/Contacts?$select=Shoe_Size&$top=1')).status === 200;
      if (!seen) await sleep(20);
    }
    expect(seen).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await on(1, '/$metadata')).text).toContain('Shoe_Size');
    expect(b.services.model().version).toBe(a.services.model().version);
  });
});

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s: two nodes share the rate limit', (_name, engine) => {
  let database: string;
  let a: RunningService;
  let b: RunningService;

  beforeAll(async () => {
    database = await engine.freshUrl();
    const config = withOverrides({
      adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, database, port: 0, host: '127.0.0.1', logLevel: 'silent',
      seedContacts: 5, rateLimit: 'on', rateLimitPerSecond: 1, rateLimitBurst: 4,
    });
    a = await startService(config);
    b = await startService(config, { seed: false });
  }, 60000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await engine.dispose(database);
  });

  test('a low limit is reached by requests spread over both nodes, and each node counts its refusals', async () => {
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 10; i++) statuses.push((await call(`${[a, b][i % 2].url}/$metadata`)).status);
    const seconds = (Date.now() - started) / 1000;
    const granted = statuses.filter((s) => s === 200).length;
    // one bucket for the address, whichever node answers: at most the burst plus what time refilled
    expect(granted).toBeLessThanOrEqual(4 + Math.ceil(seconds));
    expect(statuses.filter((s) => s === 429).length).toBe(10 - granted);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    const refusals = async (node: RunningService) => {
      const text = (await call(node.url.replace(/\/odata$/, '/metrics'))).text;
      return Number(/^odata_rate_limit_refusals_total (\d+)$/m.exec(text)?.[1]);
    };
    expect(await refusals(a) + await refusals(b)).toBe(10 - granted);
  });
});
