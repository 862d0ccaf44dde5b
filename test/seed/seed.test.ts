/** The demo data: deterministic, in proportion to the contact count, and consistent with the server-maintained values. */
import { openDatabase, type Database } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { describeExpectedSchema } from '../../src/db/schema';
import { loadModelFromFile } from '../../src/edm/load-csdl';
import { seedCounts } from '../../src/seed/dataset';
import { generateDataset } from '../../src/seed/generate';
import { ensureDemoData, seedDatabase } from '../../src/seed/seed';
import { ENGINES, type EngineTarget } from '../helpers/engines';

type Row = Record<string, unknown>;
const CONTACTS = 200;
const model = loadModelFromFile();
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Decimal values in units of 1/10000 (scale 4), whatever the driver returned (number or numeric string). */
const units = (v: unknown): number => Math.round(Number(v) * 10000);
/** A DateTimeOffset as stored text (SQLite) or a Date (PostgreSQL), as ISO 8601. */
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

async function allRows(db: Database, table: string, orderBy: readonly string[]): Promise<Row[]> {
  return db.knex(table).select('*').orderBy(orderBy.map((column) => ({ column })));
}

describe('the demo data generator', () => {
  it('produces the same rows for the same options', () => {
    expect(generateDataset({ contacts: 50 })).toEqual(generateDataset({ contacts: 50 }));
  });

  it('produces different rows for a different PRNG seed', () => {
    const a = generateDataset({ contacts: 50 }).tables.find((t) => t.table === 'Contacts');
    const b = generateDataset({ contacts: 50, seed: 7 }).tables.find((t) => t.table === 'Contacts');
    expect(a?.rows[0].Id).not.toEqual(b?.rows[0].Id);
  });

  it('keeps the minimums at tiny scales', () => {
    expect(seedCounts(10)).toMatchObject({ users: 5, teams: 2, companies: 1, groups: 3, processes: 3, products: 50 });
  });
});

describe.each(ENGINES.map((e): [string, EngineTarget] => [e.name, e]))('seeded demo data on %s', (_name, engine) => {
  const urls: string[] = [];
  const dbs: Database[] = [];
  let db: Database;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const url = await engine.freshUrl();
      urls.push(url);
      const d = openDatabase(url);
      dbs.push(d);
      await migrateToLatest(d);
      await seedDatabase(d, model, { contacts: CONTACTS });
    }
    db = dbs[0];
  });
  afterAll(async () => {
    for (const d of dbs) await d.knex.destroy();
    for (const url of urls) await engine.dispose(url);
  });

  const count = async (table: string, where: (q: ReturnType<Database['knex']>) => void = () => undefined): Promise<number> => {
    const q = db.knex(table);
    where(q);
    const [row] = await q.count({ n: '*' });
    return Number(row.n);
  };

  it('is identical, table by table, when the same scale is seeded twice', async () => {
    for (const [table, spec] of describeExpectedSchema(model)) {
      const a = await allRows(dbs[0], table, spec.primaryKey);
      const b = await allRows(dbs[1], table, spec.primaryKey);
      expect([table, b]).toEqual([table, a]);
    }
  });

  it('holds the entity counts per N contacts', async () => {
    const expected = seedCounts(CONTACTS);
    const actual = {
      contacts: await count('Contacts'), users: await count('Users'), teams: await count('Teams'),
      companies: await count('Companies'), groups: await count('Groups'), processes: await count('Processes'),
      products: await count('Products'), opportunities: await count('Opportunities'), activityTypes: await count('ActivityTypes'),
      activities: await count('Activities'), historyTypes: await count('HistoryTypes'), histories: await count('Histories'),
      notes: await count('Notes'),
    };
    expect(actual).toEqual(expected);
    expect(expected).toMatchObject({ users: 5, companies: 20, groups: 4, opportunities: 40, activities: 100 });
  });

  it('gives about 80% of contacts a company and every contact type a share', async () => {
    const withCompany = await count('Contacts', (q) => q.whereNotNull('CompanyId'));
    expect(withCompany / CONTACTS).toBeGreaterThan(0.7);
    expect(withCompany / CONTACTS).toBeLessThan(0.9);
    const types = await db.knex('Contacts').distinct('ContactType').whereNotNull('ContactType');
    expect(types.length).toBe(5);
  });

  it('has plenty of California addresses and last names starting with S', async () => {
    expect(await count('Contacts', (q) => q.where('BusinessAddress_State', 'CA'))).toBeGreaterThan(CONTACTS * 0.2);
    expect(await count('Contacts', (q) => q.where('LastName', 'like', 'S%'))).toBeGreaterThan(CONTACTS * 0.25);
  });

  it('sets FullName to "FirstName LastName" on every contact', async () => {
    const rows = await db.knex('Contacts').select('FirstName', 'LastName', 'FullName');
    for (const r of rows) expect(r.FullName).toBe(`${r.FirstName} ${r.LastName}`);
  });

  it('has company divisions, subgroups, and teams every user belongs to', async () => {
    expect(await count('Companies', (q) => q.whereNotNull('ParentId'))).toBeGreaterThan(0);
    expect(await count('Groups', (q) => q.whereNotNull('ParentId'))).toBeGreaterThan(0);
    const members = await db.knex('Team_User').distinct('UserId');
    expect(members.length).toBe(await count('Users'));
    expect(await count('Users', (q) => q.whereNotNull('ContactId'))).toBe(await count('Users'));
  });

  it('puts about five contacts in each static group, and some companies', async () => {
    const staticGroups = await count('Groups', (q) => q.whereNull('Criteria'));
    const average = (await count('Contact_Group')) / staticGroups;
    expect(average).toBeGreaterThanOrEqual(2);
    expect(average).toBeLessThanOrEqual(8);
    expect(await count('Company_Group')).toBeGreaterThan(0);
  });

  it('gives each process 4 to 6 stages numbered from 1 with rising probability', async () => {
    const stages = await db.knex('Stages').select('ProcessId', 'Sequence', 'Probability').orderBy(['ProcessId', 'Sequence']);
    const byProcess = new Map<string, Row[]>();
    for (const s of stages) byProcess.set(String(s.ProcessId), [...(byProcess.get(String(s.ProcessId)) ?? []), s]);
    expect(byProcess.size).toBe(3);
    for (const list of byProcess.values()) {
      expect(list.length).toBeGreaterThanOrEqual(4);
      expect(list.length).toBeLessThanOrEqual(6);
      expect(list.map((s) => Number(s.Sequence))).toEqual(list.map((_, i) => i + 1));
      const probabilities = list.map((s) => Number(s.Probability));
      expect([...probabilities].sort((a, b) => a - b)).toEqual(probabilities);
    }
  });

  it('links every opportunity to 1–4 products, 1–2 contacts, one company and a stage', async () => {
    const perOpportunity = async (table: string): Promise<number[]> =>
      (await db.knex(table).select('OpportunityId').count({ n: '*' }).groupBy('OpportunityId')).map((r) => Number(r.n));
    const opportunities = await count('Opportunities');
    for (const [table, min, max] of [['OpportunityProducts', 1, 4], ['Contact_Opportunity', 1, 2], ['Company_Opportunity', 1, 1]] as const) {
      const counts = await perOpportunity(table);
      expect([table, counts.length]).toEqual([table, opportunities]);
      expect([table, Math.min(...counts), Math.max(...counts) <= max]).toEqual([table, min, true]);
    }
    expect(await count('Opportunities', (q) => q.whereNull('StageId'))).toBe(0);
  });

  it('computes every OpportunityProduct Total as Quantity × Price × (1 − Discount/100)', async () => {
    const lines = await db.knex('OpportunityProducts').select('Quantity', 'Price', 'Discount', 'Total');
    for (const l of lines) {
      const expected = Math.round(Number(l.Quantity) * units(l.Price) * (1 - Number(l.Discount) / 100));
      expect(units(l.Total)).toBe(expected);
    }
  });

  it('sets every Opportunity Amount to the sum of its products\' Totals', async () => {
    const opportunities = await db.knex('Opportunities').select('Id', 'Amount');
    const lines = await db.knex('OpportunityProducts').select('OpportunityId', 'Total');
    const sums = new Map<string, number>();
    for (const l of lines) sums.set(String(l.OpportunityId), (sums.get(String(l.OpportunityId)) ?? 0) + units(l.Total));
    for (const o of opportunities) expect([o.Id, units(o.Amount)]).toEqual([o.Id, sums.get(String(o.Id))]);
  });

  it('gives recurring activities a frequency, an interval and empty exception lists, and others no recurrence', async () => {
    const recurring = await db.knex('Activities').whereNotNull('Recurrence_Frequency')
      .select('Recurrence_Interval', 'Recurrence_ClearedDates', 'Recurrence_DeletedDates');
    expect(recurring.length).toBeGreaterThan(0);
    for (const a of recurring) {
      expect(Number(a.Recurrence_Interval)).toBeGreaterThanOrEqual(1);
      expect([a.Recurrence_ClearedDates, a.Recurrence_DeletedDates]).toEqual(['[]', '[]']);
    }
    expect(await count('Activities', (q) => q.whereNull('Recurrence_Frequency').whereNotNull('Recurrence_Interval'))).toBe(0);
    expect(await count('Activity_Contact')).toBeGreaterThanOrEqual(await count('Activities'));
  });

  it('links every history and note to a contact', async () => {
    expect(await count('Contact_History')).toBe(await count('Histories'));
    expect(await count('Contact_Note')).toBe(await count('Notes'));
  });

  it('uses lowercase version-4 UUIDs as keys and ISO 8601 UTC timestamps with Edited never before Created', async () => {
    for (const set of model.entitySets.values()) {
      const rows = await db.knex(set.name).select('Id', 'Created', 'Edited');
      for (const r of rows) {
        expect(String(r.Id)).toMatch(UUID_V4);
        expect(iso(r.Created)).toMatch(ISO_UTC_MS);
        expect(iso(r.Edited) >= iso(r.Created)).toBe(true);
      }
    }
  });

  it('seeds through ensureDemoData only when Contacts is empty', async () => {
    expect(await ensureDemoData(db, model, CONTACTS)).toBe(false);
    const url = await engine.freshUrl();
    const fresh = openDatabase(url);
    try {
      await migrateToLatest(fresh);
      expect(await ensureDemoData(fresh, model, 20)).toBe(true);
      const [row] = await fresh.knex('Contacts').count({ n: '*' });
      expect(Number(row.n)).toBe(20);
    } finally {
      await fresh.knex.destroy();
      await engine.dispose(url);
    }
  });
});
