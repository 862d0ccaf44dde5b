/**
 * The engines a test file runs on: SQLite always, PostgreSQL when ODATA_TEST_PG_URL is set
 * (e.g. postgres://postgres@127.0.0.1:5432/test). Each PostgreSQL suite gets its own schema so
 * test files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

export interface EngineTarget {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh, empty database URL for one suite. */
  freshUrl(): Promise<string>;
  /** Drops what freshUrl created. */
  dispose(url: string): Promise<void>;
}

const sqlite: EngineTarget = {
  name: 'sqlite',
  async freshUrl() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-test-'));
    return path.join(dir, 'test.sqlite');
  },
  async dispose(url) {
    fs.rmSync(path.dirname(url), { recursive: true, force: true });
  },
};

function postgres(baseUrl: string): EngineTarget {
  return {
    name: 'postgres',
    async freshUrl() {
      const { default: pg } = await import('pg');
      const db = `odata_test_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try { await client.query(`CREATE DATABASE ${db}`); } finally { await client.end(); }
      const url = new URL(baseUrl);
      url.pathname = `/${db}`;
      return url.toString();
    },
    async dispose(url) {
      const { default: pg } = await import('pg');
      const db = new URL(url).pathname.slice(1);
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try { await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); } finally { await client.end(); }
    },
  };
}

export const ENGINES: readonly EngineTarget[] = process.env.ODATA_TEST_PG_URL
  ? (process.env.ODATA_TEST_ONLY_PG ? [postgres(process.env.ODATA_TEST_PG_URL)] : [sqlite, postgres(process.env.ODATA_TEST_PG_URL)])
  : [sqlite];
