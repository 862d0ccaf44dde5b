/**
 * DateTimeOffset values read back as ISO 8601 UTC with milliseconds, whatever fraction the database
 * kept (PostgreSQL's text drops trailing zeros; the service writes them from that text, src/db/connect.ts
 * timestamptzText), and they order and page the same way.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';

const STORED: readonly [string, string][] = [
  ['2026-03-01T09:30:00Z', '2026-03-01T09:30:00.000Z'],
  ['2026-03-01T09:30:05.45Z', '2026-03-01T09:30:05.450Z'],
  ['2026-03-01T09:30:05.123Z', '2026-03-01T09:30:05.123Z'],
  ['2026-03-01T10:30:06.5+01:00', '2026-03-01T09:30:06.500Z'],
];

for (const engine of ENGINES) describe(engine.name, () => {
  let svc: TestService;
  let ids: string[];

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 20 });
    const rows = await svc.knex('Activities').orderBy('Id').limit(STORED.length).select('Id') as { Id: string }[];
    ids = rows.map((r) => String(r.Id));
    for (const [i, [stored]] of STORED.entries()) {
      // SQLite keeps the text it is given: the canonical form, as the service writes it
      const value = engine.name === 'sqlite' ? new Date(stored).toISOString() : stored;
      await svc.knex('Activities').where('Id', ids[i]).update({ StartTime: value });
    }
  });
  afterAll(() => svc.close());

  it('reads each stored timestamp as UTC with three fraction digits', async () => {
    for (const [i, [, expected]] of STORED.entries()) {
      const res = await svc.get(`/Activities(${ids[i]})?$select=StartTime`);
      expect(res.status).toBe(200);
      expect(res.json().StartTime).toBe(expected);
    }
  });

  it('filters, orders and pages on them', async () => {
    const filter = `StartTime ge 2026-03-01T09:30:00Z and StartTime le 2026-03-01T09:30:06.5Z`;
    const first = (await svc.get(`/Activities?$filter=${encodeURIComponent(filter)}&$orderby=StartTime desc&$select=StartTime`, { Prefer: 'odata.maxpagesize=2' })).json();
    expect(first.value.map((v: { StartTime: string }) => v.StartTime)).toEqual(['2026-03-01T09:30:06.500Z', '2026-03-01T09:30:05.450Z']);
    const next = (await svc.get(String(first['@odata.nextLink']).replace(svc.url, ''), { Prefer: 'odata.maxpagesize=2' })).json();
    expect(next.value.map((v: { StartTime: string }) => v.StartTime)).toEqual(['2026-03-01T09:30:05.123Z', '2026-03-01T09:30:00.000Z']);
  });
});
