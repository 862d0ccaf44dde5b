/**
 * Services started on a given database file or URL, as the upgrade tests need them (the same database
 * opened by an older model, then by the current one), and plain HTTP calls against them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { withOverrides, type Config } from '../../src/config';
import { DEFAULT_CSDL_PATH, readBuiltInModel } from '../../src/edm/load-csdl';
import { startService, type RunningService } from '../../src/server';

/** The model file of the release before the audit fields (test/fixtures). */
export const OLD_MODEL = path.join(__dirname, '..', 'fixtures', 'crm-2026-12-04-before-audit.csdl.json');

export function startOn(database: string, settings: Partial<Record<keyof Config, string | number>> = {}): Promise<RunningService> {
  return startService(withOverrides({
    auth: 'off', rateLimit: 'off', adminPassword: 'admin-password-for-tests', demoPassword: 'demo-password-for-tests', seedContacts: 0, logLevel: 'silent', port: 0, host: '127.0.0.1', sqliteReadProcesses: 0, ...settings, database,
  }));
}

export async function call(service: RunningService, method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(service.url + url, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

/** Writes the shipped model, changed by `edit`, as `<dir>/<name>.csdl.json` with its storage mapping beside it. */
export function writeModel(dir: string, name: string, edit: (crm: Record<string, Record<string, unknown>>, storage: Record<string, unknown>) => void): string {
  const { csdl, storage } = readBuiltInModel(DEFAULT_CSDL_PATH);
  edit(csdl.Crm as Record<string, Record<string, unknown>>, storage);
  fs.writeFileSync(path.join(dir, `${name}.storage.json`), JSON.stringify(storage));
  const file = path.join(dir, `${name}.csdl.json`);
  fs.writeFileSync(file, JSON.stringify(csdl));
  return file;
}
