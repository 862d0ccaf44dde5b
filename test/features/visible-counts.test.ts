/**
 * A signed-in user's `/$count` and `$count=true` over a whole set (issue 15: the Standard user's count
 * scanned every row under the access predicate). On SQLite the counts come from what triggers keep in
 * the writing transaction (db/sqlite-visible-counts.ts); on every engine a Standard user's count equals
 * the number of rows they can list, through inserts, privacy and owner changes, deletes, a rolled-back
 * change set and a schema change that rebuilds the table.
 */
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';
import { forceSqliteNullabilityMethod } from '../../src/db/sqlite-table-change';
import { allRows, EXACT } from './apply-support';
import { enc, type Row } from './support';

const PRIVATE_SETS = [['Contacts', 'OwnerId'], ['Opportunities', 'ManagerId'], ['Activities', 'OrganizerId'], ['Notes', 'OwnerId']] as const;

describe.each(ENGINES)('counts under record access on $name', (engine) => {
  let svc: TestService;
  let standard: Record<string, string>;
  let standardId: string;
  let otherId: string;
  const json = { 'Content-Type': 'application/json' };
  const post = async (path: string, body: Row): Promise<Row> => {
    const res = await svc.request('POST', path, { headers: json, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    return res.json();
  };
  const patch = async (path: string, body: Row): Promise<void> => {
    expect((await svc.request('PATCH', path, { headers: json, body: JSON.stringify(body) })).status).toBe(204);
  };
  /** the Standard user's `/$count`, `$count=true` and listed rows of a set, and the Administrator's count */
  const counts = async (set: string): Promise<{ count: number; inline: number; listed: number; all: number }> => {
    const count = await svc.get(`/${set}/$count`, standard);
    expect(count.status).toBe(200);
    const page = await svc.get(`/${set}?$count=true&$top=1&$select=Id`, { ...EXACT, ...standard });
    expect(page.status).toBe(200);
    const listed = await allRows(svc, `/${set}?$select=Id`, { ...EXACT, ...standard });
    const all = Number((await svc.get(`/${set}/$count`)).text);
    return { count: Number(count.text), inline: Number(page.json()['@odata.count']), listed: listed.length, all };
  };
  const expectTrueCounts = async (set: string): Promise<number> => {
    const c = await counts(set);
    expect({ count: c.count, inline: c.inline }).toEqual({ count: c.listed, inline: c.listed });
    return c.count;
  };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 150 });
    const users = (await svc.get(`/Users?$select=Id,UserName`)).json().value as Row[];
    standardId = String(users.find((u) => u.UserName === 'demo.standard')!.Id);
    otherId = String(users.find((u) => u.UserName !== 'demo.standard')!.Id);
    standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
  }, 180_000);
  afterAll(async () => {
    forceSqliteNullabilityMethod(undefined);
    await svc?.close();
  });

  it.each(PRIVATE_SETS)('%s: the Standard user counts exactly the rows they can list, fewer than all once another user has private ones', async (set, owner) => {
    const body = (extra: Row): Row => (set === 'Contacts' ? { FirstName: 'Count', LastName: 'Probe', ...extra }
      : set === 'Opportunities' ? { Name: 'Count probe', ...extra }
        : set === 'Activities' ? { Subject: 'Count probe', ...extra } : { Text: 'Count probe', ...extra });
    await post(`/${set}`, body({ IsPrivate: true, [owner]: otherId }));
    const before = await counts(set);
    expect(before.count).toBe(before.listed);
    expect(before.count).toBeLessThan(before.all);
    await post(`/${set}`, body({ IsPrivate: true, [owner]: standardId }));
    await post(`/${set}`, body({ IsPrivate: true, [owner]: otherId }));
    await post(`/${set}`, body({ IsPrivate: false, [owner]: otherId }));
    expect(await expectTrueCounts(set)).toBe(before.count + 2);
  });

  it('follows privacy and owner changes and deletes', async () => {
    const base = await expectTrueCounts('Contacts');
    const c = await post('/Contacts', { FirstName: 'Moving', LastName: 'Owner', IsPrivate: false, OwnerId: otherId });
    expect(await expectTrueCounts('Contacts')).toBe(base + 1);
    await patch(`/Contacts(${String(c.Id)})`, { IsPrivate: true });
    expect(await expectTrueCounts('Contacts')).toBe(base);
    await patch(`/Contacts(${String(c.Id)})`, { OwnerId: standardId });
    expect(await expectTrueCounts('Contacts')).toBe(base + 1);
    await patch(`/Contacts(${String(c.Id)})`, { OwnerId: null });
    expect(await expectTrueCounts('Contacts')).toBe(base + 1);
    await patch(`/Contacts(${String(c.Id)})`, { OwnerId: otherId, LastName: 'Renamed' });
    expect(await expectTrueCounts('Contacts')).toBe(base);
    const shown = await post('/Contacts', { FirstName: 'Shown', LastName: 'Owner', IsPrivate: true, OwnerId: standardId });
    expect(await expectTrueCounts('Contacts')).toBe(base + 1);
    expect((await svc.request('DELETE', `/Contacts(${String(shown.Id)})`)).status).toBe(204);
    expect((await svc.request('DELETE', `/Contacts(${String(c.Id)})`)).status).toBe(204);
    expect(await expectTrueCounts('Contacts')).toBe(base);
  });

  it('a change set that fails leaves every count as it was; one that succeeds counts each part', async () => {
    const base = await expectTrueCounts('Contacts');
    const part = (id: string, extra: Row) => ({ id, atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: json, body: { FirstName: 'Batch', LastName: id, ...extra } });
    const parts = [part('1', { IsPrivate: true, OwnerId: standardId }), part('2', { IsPrivate: false }), part('3', { IsPrivate: true, OwnerId: otherId })];
    const failing = await svc.request('POST', '/$batch', { headers: json, body: JSON.stringify({ requests: [...parts, part('4', { Email: 'not an address' })] }) });
    expect(failing.status).toBe(200);
    expect(failing.json().responses.some((r: Row) => Number(r.status) >= 400)).toBe(true);
    expect(await expectTrueCounts('Contacts')).toBe(base);
    const passing = await svc.request('POST', '/$batch', { headers: json, body: JSON.stringify({ requests: parts }) });
    expect(passing.json().responses.map((r: Row) => r.status)).toEqual([201, 201, 201]);
    expect(await expectTrueCounts('Contacts')).toBe(base + 2);
  });

  it('a filtered count stays under the same rule (a scan with the predicate)', async () => {
    await post('/Contacts', { FirstName: 'Own', LastName: 'Private', IsPrivate: true, OwnerId: standardId });
    const filtered = await svc.get(`/Contacts/$count?$filter=${enc('IsPrivate eq true')}`, standard);
    const listed = await allRows(svc, `/Contacts?$select=Id&$filter=${enc('IsPrivate eq true')}`, { ...EXACT, ...standard });
    expect(Number(filtered.text)).toBe(listed.length);
    expect(listed.length).toBeGreaterThan(0);
  });

  it('a schema change on the table (a custom field, its table rebuilt) keeps the counts true', async () => {
    forceSqliteNullabilityMethod('rebuild');
    await svc.running.lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'CountTag', definition: { $Type: 'Edm.String', $Nullable: true } });
    await svc.knex('Contacts').update({ cf_CountTag: 'x' });
    await svc.running.lifecycle.applySchemaChange({ kind: 'alter-property', entityType: 'Contact', property: 'CountTag', definition: { $Type: 'Edm.String' } });
    const base = await expectTrueCounts('Contacts');
    await post('/Contacts', { FirstName: 'After', LastName: 'Rebuild', CountTag: 't', IsPrivate: true, OwnerId: otherId });
    await post('/Contacts', { FirstName: 'After', LastName: 'Rebuild', CountTag: 't', IsPrivate: true, OwnerId: standardId });
    expect(await expectTrueCounts('Contacts')).toBe(base + 1);
  });

  if (engine.name === 'sqlite') {
    it('SQLite reads the kept counts, and scans when the table is not kept', async () => {
      const base = await expectTrueCounts('Contacts');
      // the count is read from the kept numbers: a tampered number shows
      await svc.knex('odata_visible_counts').where({ tbl: 'Contacts', shared: 1, owner: '' }).increment('n', 1000);
      expect(Number((await svc.get('/Contacts/$count', standard)).text)).toBe(base + 1000);
      await svc.knex('odata_visible_counts').where({ tbl: 'Contacts', shared: 1, owner: '' }).decrement('n', 1000);
      // a table without its registration is counted by a scan
      await svc.knex('odata_visible_count_tables').where({ tbl: 'Contacts' }).delete();
      await svc.knex('odata_visible_counts').where({ tbl: 'Contacts' }).update({ n: 0 });
      expect(Number((await svc.get('/Contacts/$count', standard)).text)).toBe(base);
    });

    it('a table counted again from its rows (registration lost) gets the numbers the triggers keep', async () => {
      const kept = async () => (await svc.knex('odata_visible_counts').where({ tbl: 'Contacts' }).where('n', '>', 0)
        .orderBy(['shared', 'owner']).select('shared', 'owner', 'n')) as { shared: number; owner: string; n: number }[];
      // every key, straight from the rows, by the rule the access predicate applies
      const fromRows = async () => (await svc.knex.raw(`SELECT CASE WHEN "IsPrivate" <> 1 OR "OwnerId" IS NULL THEN 1 ELSE 0 END AS shared,
        CASE WHEN "IsPrivate" <> 1 OR "OwnerId" IS NULL THEN '' ELSE "OwnerId" END AS owner, COUNT(*) AS n FROM "Contacts" GROUP BY 1, 2 ORDER BY 1, 2`)) as { shared: number; owner: string; n: number }[];
      await post('/Contacts', { FirstName: 'Recount', LastName: 'Probe', CountTag: 'r', IsPrivate: true, OwnerId: standardId });
      const expected = await fromRows();
      expect(expected.filter((r) => r.shared === 0).length).toBeGreaterThan(1);
      await svc.knex('odata_visible_count_tables').where({ tbl: 'Contacts' }).delete();
      await svc.knex('odata_visible_counts').where({ tbl: 'Contacts' }).update({ n: 12345 });
      // the next schema change makes the counts true again: Contacts is counted from its rows
      await svc.running.lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Contact', property: 'RecountTag', definition: { $Type: 'Edm.String', $Nullable: true } });
      expect(await svc.knex('odata_visible_count_tables').where({ tbl: 'Contacts' }).count({ n: '*' })).toEqual([{ n: 1 }]);
      expect(await kept()).toEqual(expected);
      // and the triggers go on from there
      await post('/Contacts', { FirstName: 'Recount', LastName: 'Probe', CountTag: 'r', IsPrivate: true, OwnerId: otherId });
      await post('/Contacts', { FirstName: 'Recount', LastName: 'Probe', CountTag: 'r', IsPrivate: false, OwnerId: otherId });
      expect(await kept()).toEqual(await fromRows());
      await expectTrueCounts('Contacts');
    });
  }
});
