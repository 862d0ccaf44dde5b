/**
 * Tags and Countries reach a database either through the knex migration (fresh database) or through
 * the model migrator (a database whose migrations ran under the model before them: the old fixture
 * model). Either way the 249 countries are there exactly once and every alternate key has its
 * case-insensitive unique index.
 */
import type { RunningService } from '../../src/server';
import { OLD_MODEL, call, startOn } from '../helpers/upgrade-service';
import { alternateKeyIndexes } from '../../src/db/alternate-key-indexes';
import { readCountries } from '../../src/db/reference-data';
import { ENGINES, type EngineTarget } from '../helpers/engines';

async function indexNames(service: RunningService, engine: EngineTarget): Promise<string[]> {
  return engine.name === 'sqlite'
    ? (await service.db.knex.raw("SELECT name FROM sqlite_master WHERE type = 'index'") as { name: string }[]).map((r) => r.name)
    : (await service.db.knex.raw('SELECT indexname AS name FROM pg_indexes') as { rows: { name: string }[] }).rows.map((r) => r.name);
}

/** What both paths must end with: every country once, every alternate-key index, lookups ignoring case. */
async function expectReferenceDataAndAlternateKeys(service: RunningService, engine: EngineTarget): Promise<void> {
  const countries = readCountries();
  expect(countries).toHaveLength(249);
  expect((await call(service, 'GET', '/Countries/$count')).json).toBe(249);
  const [{ n }] = await service.db.knex('Countries').countDistinct({ n: 'IsoCode' }) as { n: string | number }[];
  expect(Number(n)).toBe(249);
  const expected = alternateKeyIndexes(service.lifecycle.model).map((ix) => ix.name);
  expect(expected).toEqual(expect.arrayContaining(['ux_Tags_Name', 'ux_Countries_IsoCode']));
  expect(await indexNames(service, engine)).toEqual(expect.arrayContaining(expected));

  const de = countries.find((c) => c.IsoCode === 'DE');
  const germany = await call(service, 'GET', "/Countries(IsoCode='de')?$select=Name,IsoCode");
  expect(germany.status).toBe(200);
  expect(germany.json).toMatchObject({ IsoCode: 'DE', Name: de?.Name });

  const tag = await call(service, 'POST', '/Tags', { Name: 'Key Account' });
  expect(tag.status).toBe(201);
  const found = await call(service, 'GET', "/Tags(Name='KEY ACCOUNT')");
  expect(found.status).toBe(200);
  expect(found.json.Id).toBe(tag.json.Id);
  // the unique index ignores case: another spelling of the same name is refused, not stored twice
  const twin = await call(service, 'POST', '/Tags', { Name: 'key account' });
  expect(twin.status).toBeGreaterThanOrEqual(400);
  expect(twin.status).toBeLessThan(500);
  await expect(service.db.knex('Tags').insert({ ...await service.db.knex('Tags').first(), Id: '00000000-0000-4000-8000-0000000000aa', Name: 'KEY account' })).rejects.toMatchObject({ message: expect.stringMatching(/unique|duplicate/i) }); // not toThrow: better-sqlite3 throws another realm's Error class in later test files
  expect((await call(service, 'GET', '/Tags/$count')).json).toBe(1);
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  beforeEach(async () => { database = await engine.freshUrl(); });
  afterEach(() => engine.dispose(database));

  it('a database made by the previous model gains Tags and Countries with the 249 countries and the alternate-key indexes, once', async () => {
    const old = await startOn(database, { modelFile: OLD_MODEL, seedContacts: 5 });
    try {
      expect(await old.db.knex.schema.hasTable('Countries')).toBe(false);
      expect(await old.db.knex.schema.hasTable('Tags')).toBe(false);
    } finally {
      await old.close();
    }
    const current = await startOn(database);
    try {
      await expectReferenceDataAndAlternateKeys(current, engine);
    } finally {
      await current.close();
    }
    const again = await startOn(database);
    try {
      expect(again.lifecycle.version).toBe(current.lifecycle.version);
      expect((await call(again, 'GET', '/Countries/$count')).json).toBe(249);
      expect((await call(again, 'GET', "/Tags(Name='key account')")).status).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('a fresh database has the same: 249 countries once and the alternate-key indexes, also after a second start', async () => {
    const first = await startOn(database);
    try {
      await expectReferenceDataAndAlternateKeys(first, engine);
    } finally {
      await first.close();
    }
    const again = await startOn(database);
    try {
      expect((await call(again, 'GET', '/Countries/$count')).json).toBe(249);
    } finally {
      await again.close();
    }
  });
});
