/**
 * Starts the real service (HTTP, on an ephemeral port) over a fresh database for one engine,
 * seeded deterministically, and offers small helpers to call it. Every feature test goes through this.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { withOverrides, type Config } from '../../src/config';
import { startService, type RunningService } from '../../src/server';
import type { EngineTarget } from './engines';

export interface TestService {
  readonly url: string;
  /** the database's file or URL (for a CLI run against the same data) */
  readonly database?: string;
  readonly running: RunningService;
  readonly knex: Knex;
  get(path: string, headers?: Record<string, string>): Promise<TestResponse>;
  request(method: string, path: string, init?: { headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
  /**
   * The headers that sign a request in as the bootstrap Administrator; every request above sends
   * them unless it names its own Authorization (or sets `Authorization: ''` to send none).
   */
  readonly authHeaders: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** The passwords the tests' services are started with (settings, never defaults of the service). */
export const TEST_ADMIN = { userName: 'admin', password: 'admin-password-for-tests' } as const;
export const TEST_DEMO_PASSWORD = 'demo-password-for-tests';

/** Signs in through POST /auth/token (password grant) and answers the token response. */
export async function passwordGrant(serviceUrl: string, userName: string, password: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/auth/token', serviceUrl), {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: userName, password }).toString(),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/** A Bearer header for a user (the demo users share TEST_DEMO_PASSWORD). */
export async function bearerFor(serviceUrl: string, userName: string, password: string): Promise<Record<string, string>> {
  const { status, body } = await passwordGrant(serviceUrl, userName, password);
  if (status !== 200) throw new Error(`sign-in as ${userName} failed: ${status} ${JSON.stringify(body)}`);
  return { Authorization: `Bearer ${String(body.access_token)}` };
}

function withAuth(headers: Record<string, string> | undefined, auth: Readonly<Record<string, string>>): Record<string, string> {
  if (headers && Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    return Object.fromEntries(Object.entries(headers).filter(([h, v]) => h.toLowerCase() !== 'authorization' || v !== ''));
  }
  return Object.assign({}, auth, headers);
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** parsed JSON body (throws if the body is not JSON) */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
}

export interface TestServiceOptions {
  readonly contacts?: number;
  readonly pageSize?: number;
  /** any other setting, as its environment variable would give it */
  readonly config?: Partial<Record<keyof Config, string | number>>;
  /** where the service logs (at info); without it the service logs nothing */
  readonly logger?: Logger;
}

export async function startTestService(engine: EngineTarget, options: TestServiceOptions = {}): Promise<TestService> {
  const database = await engine.freshUrl();
  const running = await startService(
    // rate limiting is off unless a test turns it on: suites send bursts far beyond a production allowance
    withOverrides({ adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, rateLimit: 'off', ...options.config, database, port: 0, host: '127.0.0.1', logLevel: options.logger ? 'info' : 'silent', seedContacts: options.contacts ?? 200, pageSize: options.pageSize ?? 100 }),
    { logger: options.logger },
  );
  const authHeaders = running.services.auth.settings.enabled ? await bearerFor(running.url, TEST_ADMIN.userName, TEST_ADMIN.password) : {};
  const request = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> => {
    const res = await fetch(running.url + path, { method, headers: withAuth(init.headers, authHeaders), body: init.body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  return {
    url: running.url, database, running, knex: running.db.knex, request, authHeaders,
    get: (path, headers) => request('GET', path, { headers }),
    async close() {
      await running.close();
      await engine.dispose(database);
    },
  };
}
