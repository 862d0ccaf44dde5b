/**
 * The portal in a real browser (issue 18, item 3): headless Chromium driven by playwright-core. The
 * landing page renders with the entity sets (and, after signing in through the browser's Basic
 * prompt, the counts); the API explorer loads the OpenAPI document, is refused without sign-in,
 * signs in with Authorize (a Bearer token, then HTTP Basic) and executes `GET /Contacts?$top=1`,
 * whose answer appears on the page; no policy violation or script error on either page. Screenshots
 * go to test-artifacts/ (git-ignored; the README's copies are docs/landing.png, docs/explorer.png).
 *
 * Chromium: ODATA_TEST_CHROMIUM, else /usr/bin/chromium or /usr/bin/chromium-browser (.ci/run installs
 * Debian's `chromium`). Without one these tests are skipped, and say so.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_ADMIN, type TestService } from '../../helpers/service';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** the machine's cores are shared: Swagger UI's first rendering of a large document may take a while */
const PAGE_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;
const ARTIFACTS = path.resolve(__dirname, '../../../test-artifacts');

function chromiumPath(): string | undefined {
  const candidates = [process.env.ODATA_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((candidate): candidate is string => candidate !== undefined && candidate !== '' && fs.existsSync(candidate));
}

const executablePath = chromiumPath();
if (executablePath === undefined) {
  // eslint-disable-next-line no-console -- the skip must be visible in the test output
  console.warn('portal-browser: no Chromium found (ODATA_TEST_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser): the browser tests are SKIPPED. Install it with `apt-get install -y chromium`.');
}
const browserIt = executablePath === undefined ? it.skip : it;

/** A browser with a fresh profile (nothing remembered between tests); `close` removes the profile. */
async function freshBrowser(httpCredentials?: { username: string; password: string }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 }, httpCredentials,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

/** Collects what the page complains about: Content-Security-Policy violations, script errors, failed loads. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  return problems;
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (engineName, engine) => {
  let svc: TestService;
  let origin: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 30 });
    origin = new URL(svc.url).origin;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(() => svc.close());

  browserIt('renders the landing page with the entity sets, and the counts once signed in through the browser', async () => {
    const setNames = [...svc.running.services.model().entitySets.keys()];
    const browser = await freshBrowser({ username: TEST_ADMIN.userName, password: TEST_ADMIN.password });
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(PAGE_TIMEOUT_MS);
      const problems = watchProblems(page);
      const anonymous = await page.goto(`${origin}/`);
      expect(anonymous?.status()).toBe(200);
      expect(await page.locator('h1').textContent()).toBe('CRM OData service');
      expect(await page.locator('#entity-sets tr td:first-child a').allTextContents()).toEqual(setNames);
      expect(await page.locator('#entity-sets td.count').count()).toBe(0);
      // the page's own style sheet applies (its hash is in the policy)
      expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('960px');

      // "Sign in": the browser answers the Basic challenge and comes back to the page, now with counts
      await page.locator('a', { hasText: /^Sign in$/ }).click();
      await page.waitForURL(`${origin}/`);
      await page.locator('text=Signed in as').waitFor();
      const contacts = await page.locator('#entity-sets tr', { hasText: 'Contacts' }).first().locator('td.count').textContent();
      expect(contacts).toBe((await svc.get('/Contacts/$count')).text);
      expect(await page.locator('#entity-sets td.count').count()).toBe(setNames.length);
      await page.screenshot({ path: path.join(ARTIFACTS, `${engineName}-landing.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, TEST_TIMEOUT_MS);

  browserIt('loads the OpenAPI document in the explorer, signs in with Authorize and shows the answer of GET /Contacts?$top=1', async () => {
    const browser = await freshBrowser();
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(PAGE_TIMEOUT_MS);
      const problems = watchProblems(page);
      const loaded = page.waitForResponse((response) => response.url() === `${svc.url}/openapi.json?explorer` && response.status() === 200);
      await page.goto(`${origin}/docs`);
      await loaded;
      await page.locator('.information-container .title', { hasText: 'CRM OData service' }).waitFor();
      await page.locator('#operations-tag-Contacts').click();
      const operation = page.locator('.opblock.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/Contacts"]') }).first();
      await operation.locator('.opblock-summary').first().click({ noWaitAfter: true });
      const execute = async () => {
        await operation.locator('tr[data-param-name="$top"] input').fill('1');
        await operation.locator('button.execute').click();
        await operation.locator('.live-responses-table tr.response .response-col_status').first().waitFor();
        return (await operation.locator('.live-responses-table tr.response .response-col_status').first().textContent())?.trim();
      };
      // not signed in: the service's 401 shows on the page
      expect(await execute()).toMatch(/^401\b/);

      // Authorize → bearerAuth with a token from POST /auth/token
      const token = (await bearerFor(svc.url, TEST_ADMIN.userName, TEST_ADMIN.password)).Authorization.slice('Bearer '.length);
      await page.locator('button.authorize').first().click();
      const bearerForm = page.locator('.auth-container', { hasText: 'bearerAuth' });
      await bearerForm.locator('input[aria-label="auth-bearer-value"]').fill(token);
      await bearerForm.locator('button[type="submit"]').click();
      await bearerForm.locator('button', { hasText: 'Logout' }).waitFor();
      await bearerForm.locator('button.btn-done').click();
      await operation.locator('button.btn-clear').click();
      expect(await execute()).toMatch(/^200\b/);
      const shown = (await operation.locator('.live-responses-table tr.response .response-col_description pre').first().textContent()) ?? '';
      const answer = JSON.parse(shown) as { value: { Id: string }[] };
      expect(answer.value).toHaveLength(1);
      expect(answer.value[0].Id).toBe((await svc.get('/Contacts?$top=1&$select=Id')).json().value[0].Id);
      // the page's head (title, Authorize, locked) and the operation with its answer
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: path.join(ARTIFACTS, `${engineName}-explorer-top.png`) });
      await operation.screenshot({ path: path.join(ARTIFACTS, `${engineName}-explorer.png`) });

      // and HTTP Basic in place of the token
      await page.locator('button.authorize').first().click();
      await bearerForm.locator('button', { hasText: 'Logout' }).click();
      const basicForm = page.locator('.auth-container', { hasText: 'basicAuth' });
      await basicForm.locator('input[aria-label="auth-basic-username"]').fill(TEST_ADMIN.userName);
      await basicForm.locator('input[aria-label="auth-basic-password"]').fill(TEST_ADMIN.password);
      await basicForm.locator('button[type="submit"]').click();
      await basicForm.locator('button', { hasText: 'Logout' }).waitFor();
      await basicForm.locator('button.btn-done').click();
      await operation.locator('button.btn-clear').click();
      expect(await execute()).toMatch(/^200\b/);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, TEST_TIMEOUT_MS);
});
