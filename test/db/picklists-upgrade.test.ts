/**
 * The system picklists reach a database made by an earlier model (the old fixture model, before
 * picklists existed) through the model migrator: the tables, the unique (lower-cased) indexes and the
 * eight system picklists with their items, once. Their items are data from then on: a later start
 * neither re-adds a deleted item nor duplicates a picklist.
 */
import { readSystemPicklists, systemPicklistId } from '../../src/db/reference-data';
import type { RunningService } from '../../src/server';
import { OLD_MODEL, call, startOn } from '../helpers/upgrade-service';
import { ENGINES } from '../helpers/engines';

const values = async (service: RunningService, name: string): Promise<unknown[]> =>
  ((await call(service, 'GET', `/Picklists(Name='${name}')/Items?$orderby=Sequence&$select=Value`)).json.value as { Value: unknown }[]).map((i) => i.Value);

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  beforeEach(async () => { database = await engine.freshUrl(); });
  afterEach(() => engine.dispose(database));

  it('a database made before picklists gains the system picklists once; later edits of their items stay', async () => {
    const old = await startOn(database, { modelFile: OLD_MODEL, seedContacts: 3 });
    try {
      expect(await old.db.knex.schema.hasTable('Picklists')).toBe(false);
    } finally {
      await old.close();
    }
    const shipped = readSystemPicklists();
    const current = await startOn(database);
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
    const again = await startOn(database);
    try {
      expect((await call(again, 'GET', '/Picklists/$count')).json).toBe(shipped.length);
      expect(await values(again, 'AddressTypes')).toEqual(['Work', 'Home', 'Mobile', 'Vacation', 'Other']);
    } finally {
      await again.close();
    }
  });
});
