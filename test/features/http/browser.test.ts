/**
 * Browsers and proxies: CORS is off by default and answers only the configured origins (preflight on
 * every path, $batch and /auth/* included; OData's response headers exposed); every answer carries
 * the security headers, signed-in answers `Cache-Control: no-store`; behind a trusted proxy (or with a
 * public URL) context URLs, next links, Location and @odata.id use the public scheme, host and path.
 */
import net from 'node:net';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../../helpers/service';

const APP = 'https://app.example.com';

function expectSecurityHeaders(headers: Headers | Record<string, string>): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  expect(get('x-content-type-options')).toBe('nosniff');
  expect(get('referrer-policy')).toBe('no-referrer');
  expect(get('x-frame-options')).toBe('DENY');
  expect(get('content-security-policy')).toContain("frame-ancestors 'none'");
}

/** The headers of a raw exchange (a request Node's parser refuses never reaches fetch's rules). */
function rawHeaders(url: string, text: string): Promise<Record<string, string>> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no close after 5 s')); }, 5000);
    socket.on('data', (d: Buffer) => { received += d.toString('utf8'); });
    socket.on('close', () => {
      clearTimeout(timer);
      const lines = received.slice(0, received.indexOf('\r\n\r\n')).split('\r\n').slice(1);
      resolve(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])));
    });
    socket.on('error', reject);
  });
}

const preflight = (svc: TestService, path: string, origin = APP, method = 'POST'): Promise<TestResponse> => svc.request('OPTIONS', path, {
  headers: { Authorization: '', Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization, content-type, odata-version, prefer' },
});

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let plain: TestService;
  let proxied: TestService;
  let published: TestService;
  beforeAll(async () => {
    plain = await startTestService(engine, { contacts: 5 });
    proxied = await startTestService(engine, { contacts: 5, pageSize: 2, config: { corsOrigins: `${APP}, http://localhost:3000`, trustedProxies: '127.0.0.1' } });
    published = await startTestService(engine, { contacts: 5, pageSize: 2, config: { publicUrl: 'https://public.example.org/crm/odata/' } });
  }, 90000);
  afterAll(async () => {
    await plain?.close();
    await proxied?.close();
    await published?.close();
  });

  describe('CORS', () => {
    it('is off by default: no Access-Control headers, and a preflight is refused like any OPTIONS', async () => {
      const res = await plain.get('/Contacts?$top=1', { Origin: APP });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const pre = await preflight(plain, '/$batch');
      expect(pre.status).toBe(405);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('answers an allowed origin and exposes the OData, request-id and rate-limit headers; another origin gets nothing', async () => {
      const res = await proxied.get('/Contacts?$top=1', { Origin: APP });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('vary')).toMatch(/Origin/);
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(', ');
      expect(exposed).toEqual(expect.arrayContaining(['OData-Version', 'ETag', 'Location', 'OData-EntityId', 'Preference-Applied', 'X-Request-Id', 'RateLimit', 'RateLimit-Policy']));
      const other = await proxied.get('/Contacts?$top=1', { Origin: 'https://evil.example.net' });
      expect(other.status).toBe(200);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });

    it.each(['/$batch', '/Contacts', '/Contacts(00000000-0000-0000-0000-000000000000)', '', '/$metadata'])('answers a preflight on %s without credentials', async (path) => {
      const pre = await preflight(proxied, path);
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
      expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type, odata-version, prefer');
      expect(Number(pre.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expectSecurityHeaders(pre.headers);
    });

    it('answers a preflight on /auth/token and /auth/revoke', async () => {
      for (const path of ['/auth/token', '/auth/revoke']) {
        const res = await fetch(new URL(path, proxied.url), { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
        expect([path, res.status, res.headers.get('access-control-allow-origin')]).toEqual([path, 204, 'http://localhost:3000']);
      }
    });

    it('refuses a preflight from an origin not listed (403 naming Origin) and an unsupported method', async () => {
      const pre = await preflight(proxied, '/$batch', 'https://evil.example.net');
      expect(pre.status).toBe(403);
      expect(pre.json().error).toMatchObject({ code: 'FORBIDDEN', target: 'Origin' });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const trace = await preflight(proxied, '/Contacts', APP, 'TRACE');
      expect(trace.status).toBe(405);
    });
  });

  describe('security headers', () => {
    it('are on every answer: success, 401, 404 outside the root, the token endpoint and a parser refusal', async () => {
      const answers = [
        await plain.get('/Contacts?$top=1'),
        await plain.get('/Contacts', { Authorization: '' }),
        await fetch(new URL('/elsewhere', plain.url)),
        await fetch(new URL('/auth/token', plain.url), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nothing' }),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 401, 404, 400]);
      for (const a of answers) expectSecurityHeaders(a.headers);
      const { host } = new URL(plain.url);
      expectSecurityHeaders(await rawHeaders(plain.url, `GET /odata/$metadata HTTP/1.1\r\nHost: ${host}\r\nBad Header: x\r\n\r\n`));
    });

    it('a signed-in answer is Cache-Control: no-store; the open $metadata without credentials is not', async () => {
      expect((await plain.get('/Contacts?$top=1')).headers.get('cache-control')).toBe('no-store');
      expect((await plain.get('/$metadata')).headers.get('cache-control')).toBe('no-store');
      const open = await plain.get('/$metadata', { Authorization: '' });
      expect(open.status).toBe(200);
      expect(open.headers.get('cache-control')).toBeNull();
    });

    it('Strict-Transport-Security only when the public scheme is https', async () => {
      expect((await plain.get('/Contacts?$top=1')).headers.get('strict-transport-security')).toBeNull();
      expect((await published.get('/Contacts?$top=1')).headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    });
  });

  describe('behind a proxy', () => {
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'crm.example.com', 'X-Forwarded-Prefix': '/api' };
    const publicRoot = 'https://crm.example.com/api/odata';

    it('a trusted proxy\'s X-Forwarded-* make context URLs, next links and @odata.id public', async () => {
      const res = await proxied.get('/Contacts?$select=Id&$format=application/json;odata.metadata=full', forwarded);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${publicRoot}/$metadata#Contacts(Id)`);
      expect(body['@odata.nextLink']).toMatch(new RegExp(`^${publicRoot.replace(/\./g, '\\.')}/Contacts\\?`));
      expect(body.value[0]['@odata.id']).toMatch(new RegExp(`^${publicRoot.replace(/\./g, '\\.')}/Contacts\\(`));
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age/);
    });

    it('Location and OData-EntityId of a created entity are public, and a bind to a public URL is accepted', async () => {
      const company = await proxied.request('POST', '/Companies', { headers: { ...forwarded, 'Content-Type': 'application/json' }, body: JSON.stringify({ Name: 'Proxied Ltd' }) });
      expect(company.status).toBe(201);
      const location = company.headers.get('location') ?? '';
      expect(location.startsWith(`${publicRoot}/Companies(`)).toBe(true);
      const contact = await proxied.request('POST', '/Contacts', {
        headers: { ...forwarded, 'Content-Type': 'application/json', Prefer: 'return=minimal' },
        body: JSON.stringify({ FirstName: 'Pro', LastName: 'Xied', 'Company@odata.bind': location }),
      });
      expect(contact.status).toBe(204);
      expect((contact.headers.get('odata-entityid') ?? '').startsWith(`${publicRoot}/Contacts(`)).toBe(true);
    });

    it('X-Forwarded-* from an address that is not a trusted proxy are ignored', async () => {
      const body = (await plain.get('/Contacts?$top=1', forwarded)).json();
      expect(body['@odata.context']).toBe(`${plain.url}/$metadata#Contacts`);
    });

    it('a malformed X-Forwarded-Proto from a trusted proxy answers 400 naming the header', async () => {
      const res = await proxied.get('/Contacts?$top=1', { 'X-Forwarded-Proto': 'gopher' });
      expect(res.status).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'MALFORMED_REQUEST', target: 'X-Forwarded-Proto' });
    });

    it('ODATA_PUBLIC_URL wins over the Host the request came with', async () => {
      const body = (await published.get('/Contacts?$select=Id', forwarded)).json();
      expect(body['@odata.context']).toBe('https://public.example.org/crm/odata/$metadata#Contacts(Id)');
      expect(body['@odata.nextLink']).toMatch(/^https:\/\/public\.example\.org\/crm\/odata\/Contacts\?/);
    });
  });
});
