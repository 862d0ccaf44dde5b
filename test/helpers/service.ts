/**
 * Starts the real service (HTTP, on an ephemeral port) over a fresh database for one engine,
 * seeded deterministically, and offers small helpers to call it. Every feature test goes through this.
 */
import type { Knex } from 'knex';
import { withOverrides, type Config } from '../../src/config';
import { startService, type RunningService } from '../../src/server';
import type { EngineTarget } from './engines';

export interface TestService {
  readonly url: string;
  readonly running: RunningService;
  readonly knex: Knex;
  get(path: string, headers?: Record<string, string>): Promise<TestResponse>;
  request(method: string, path: string, init?: { headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
  close(): Promise<void>;
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
}

export async function startTestService(engine: EngineTarget, options: TestServiceOptions = {}): Promise<TestService> {
  const database = await engine.freshUrl();
  const running = await startService(
    withOverrides({ ...options.config, database, port: 0, host: '127.0.0.1', logLevel: 'silent', seedContacts: options.contacts ?? 200, pageSize: options.pageSize ?? 100 }),
  );
  const request = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> => {
    const res = await fetch(running.url + path, { method, headers: init.headers, body: init.body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  return {
    url: running.url, running, knex: running.db.knex, request,
    get: (path, headers) => request('GET', path, { headers }),
    async close() {
      await running.close();
      await engine.dispose(database);
    },
  };
}
