/**
 * The system picklists reach a database made by an earlier model (the old fixture model, before
 * picklists existed) through the model migrator: the tables, the unique (lower-cased) indexes and the
 * eight system picklists with their items, once. Their items are data from then on: a later start
 * neither re-adds a deleted item nor duplicates a picklist.
 */
import path from 'node:path';
import { withOverrides, type Config } from '../../src/config';
import { readSystemPicklists, systemPicklistId } from '../../src/db/reference-data';
import { startService, type RunningService } from '../../src/server';
import { ENGINES } from '../helpers/engines';

const OLD_MODEL = path.join(__dirname, '..', 'fixtures', 'crm-2026-12-04-before-audit.csdl.json');

function start(database: string, settings: Partial<Record<keyof Config, string | number>> = {}): Promise<RunningService> {
  return startService(withOverrides({
    auth: 'off', rateLimit: 'off', adminPassword: 'admin-password-for-tests', demoPassword: 'demo-password-for-tests', seedContacts: 0, logLevel: 'silent', port: 0, host: '127.0.0.1', sqliteReadProcesses: 0, ...settings, database,
  }));
}

async function call(service: RunningService, method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(service.url + url, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

const values = async (service: RunningService, name: string): Promise<unknown[]> =>
  ((await call(service, 'GET', `/Picklists(Name='${name}')/Items?$orderby=Sequence&$select=Value`)).json.value as { Value: unknown }[]).map((i) => i.Value);

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  beforeEach(async () => { database = await engine.freshUrl(); });
  afterEach(() => engine.dispose(database));

  it('a database made before picklists gains the system picklists once; later edits of their items stay', async () => {
    const old = await start(database, { modelFile: OLD_MODEL, seedContacts: 3 });
    try {
      expect(await old.db.knex.schema.hasTable('Picklists')).toBe(false);
    } finally {
      await old.close();
    }
    const shipped = readSystemPicklists();
    const current = await start(database);
    try {
      expect((await call(current, 'GET', '/Picklists/$count')).json).toBe(shipped.length);
      for (const p of shipped) expect(await values(current, p.Name)).toEqual(p.Items);
      expect((await call(current, 'GET', "/Picklists(Name='ADDRESSTYPES')?$select=Id,IsSystem")).json).toMatchObject({ Id: systemPicklistId('AddressTypes'), IsSystem: true });
      const fax = await call(current, 'GET', `/PicklistItems(PicklistId=${systemPicklistId('AddressTypes')},Value='fax')`);
      expect((await call(current, 'DELETE', `/PicklistItems(${String(fax.json.Id)})`)).status).toBe(204);
      // the unique index on (PicklistId, lower(Value)) exists on the upgraded database
      expect((await call(current, 'POST', `/Picklists(${systemPicklistId('AddressTypes')})/Items`, { Value: 'WORK' })).status).toBe(409);
    } finally {
      await current.close();
    }
    const again = await start(database);
    try {
      expect((await call(again, 'GET', '/Picklists/$count')).json).toBe(shipped.length);
      expect(await values(again, 'AddressTypes')).toEqual(['Work', 'Home', 'Mobile', 'Vacation', 'Other']);
    } finally {
      await again.close();
    }
  });
});
