/**
 * A service on the composite-keys fixture model (test/fixtures/composite-keys-model.ts) for the key
 * tests, and the JSON call they make of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withOverrides } from '../../src/config';
import { startService, type RunningService } from '../../src/server';
import { writeCompositeKeyModel } from '../fixtures/composite-keys-model';
import type { EngineTarget } from './engines';

type Json = Record<string, unknown>;

export interface Answer { status: number; json: Json; headers: Headers }

export async function call(service: RunningService, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(service.url + url, {
    method, headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as Json : {}, headers: res.headers };
}

export interface CompositeKeyService {
  readonly service: RunningService;
  /** stops the service and removes its database and model file */
  close(): Promise<void>;
}

export async function startCompositeKeyService(engine: EngineTarget, seedContacts: number): Promise<CompositeKeyService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-composite-'));
  const database = await engine.freshUrl();
  const service = await startService(withOverrides({
    auth: 'off', rateLimit: 'off', adminPassword: 'admin-password-for-tests', demoPassword: 'demo-password-for-tests',
    logLevel: 'silent', port: 0, host: '127.0.0.1', seedContacts, database, modelFile: writeCompositeKeyModel(dir),
  }));
  return {
    service,
    async close() {
      await service.close();
      await engine.dispose(database);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
