/**
 * SQLite runs reads whose shape bounds their work on the service's own connection (src/sql/inline-reads.ts)
 * and the rest in read processes. With the only read process busy on a heavy read, the bounded shapes
 * (key lookups and key-order pages, with single-valued expansions through foreign keys) still answer at
 * once; a collection expansion waits for a read process. On PostgreSQL every read has its own pooled
 * connection: the bounded shapes answer at once there too.
 */
import { loadModel } from '../../src/edm/load-csdl';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../helpers/service';
import { heavyRead } from './heavy-read';

const BUDGET_MS = 1500;

interface Timed {
  readonly res: TestResponse;
  /** ms since the heavy read was sent */
  readonly doneAt: number;
}

for (const engine of ENGINES) describe(engine.name, () => {
  let svc: TestService;
  let contactId: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { config: { statementTimeoutMs: BUDGET_MS, sqliteReadProcesses: 1 } });
    const withCompany = await svc.get(`/Contacts?$top=1&$select=Id&$filter=${encodeURIComponent('Company/Name ne null')}`);
    contactId = withCompany.json().value[0].Id;
  });
  afterAll(() => svc.close());

  /** Sends the heavy read, then (once it is under way) `paths`; answers with each one's time. */
  async function whileHeavy(paths: readonly string[]): Promise<{ heavy: Timed; others: Timed[] }> {
    const start = Date.now();
    const timed = (path: string): Promise<Timed> => svc.get(path).then((res) => ({ res, doneAt: Date.now() - start }));
    const heavy = timed(heavyRead(engine, contactId));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const others = await Promise.all(paths.map(timed));
    return { heavy: await heavy, others };
  }

  it('answers key lookups and key-order pages with single-valued expansions while the read process is busy', async () => {
    const { heavy, others } = await whileHeavy([
      '/Opportunities?$top=5&$select=Id,Name&$expand=Stage($select=Name;$expand=Process($select=Name))',
      `/Contacts(${contactId})?$select=FullName&$expand=Company($select=Name)`,
    ]);
    expect(heavy.res.status).toBe(504);
    const [page, byKey] = others;
    expect(page.res.status).toBe(200);
    const opportunities = page.res.json().value as { Stage: { Name: string; Process: { Name: string } | null } | null }[];
    expect(opportunities).toHaveLength(5);
    expect(opportunities.some((o) => typeof o.Stage?.Process?.Name === 'string')).toBe(true);
    expect(byKey.res.status).toBe(200);
    expect(typeof byKey.res.json().Company.Name).toBe('string');
    for (const answer of others) expect(answer.doneAt).toBeLessThan(heavy.doneAt);
  });

  it('answers the same rows inline as through a read process', async () => {
    const path = '/Opportunities?$top=7&$select=Id,Name&$expand=Stage($select=Name;$expand=Process($select=Name))';
    const inline = await svc.get(path);
    // a filter sends the same page to a read process
    const viaProcess = await svc.get(`${path}&$filter=${encodeURIComponent('Id ne null')}`);
    expect(inline.status).toBe(200);
    expect(viaProcess.json().value).toEqual(inline.json().value);
  });

  it('carries Int64 beyond 2^53 and Binary exactly from a read process (rows otherwise cross as JSON text)', async () => {
    await svc.knex.raw(`ALTER TABLE "Companies" ADD COLUMN "Visits" bigint`);
    await svc.knex.raw(`ALTER TABLE "Companies" ADD COLUMN "Logo" ${engine.name === 'postgres' ? 'bytea' : 'blob'}`);
    const [first, second] = await svc.knex('Companies').orderBy('Id').limit(2).select('Id');
    const big = '9007199254740993'; // 2^53 + 1
    await svc.knex('Companies').where('Id', first.Id).update({ Visits: svc.knex.raw(big), Logo: Buffer.from([0xfb, 0xff, 0x01]) });
    await svc.knex('Companies').where('Id', second.Id).update({ Visits: 7 });
    const original = svc.running.services.model();
    const csdl = structuredClone(original.csdl) as Record<string, Record<string, Record<string, unknown>>>;
    csdl.Crm.Company.Visits = { $Type: 'Edm.Int64', $Nullable: true };
    csdl.Crm.Company.Logo = { $Type: 'Edm.Binary', $Nullable: true };
    svc.running.replaceModel(loadModel(csdl));
    try {
      const ids = `${String(first.Id)},${String(second.Id)}`;
      const res = await svc.get(`/Companies?$filter=${encodeURIComponent(`Id in (${ids})`)}&$orderby=Id&$select=Visits,Logo`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`"Visits":${big},`);
      const [withLogo, plain] = res.json().value as { Visits: number | string; Logo: string | null }[];
      expect(withLogo.Logo).toBe('+/8B');
      expect([plain.Visits, plain.Logo]).toEqual([7, null]);
    } finally {
      svc.running.replaceModel(original);
    }
  });

  if (engine.name === 'sqlite') {
    it('sends a collection expansion (unbounded per parent) to a read process', async () => {
      const { heavy, others: [collection] } = await whileHeavy(['/Companies?$top=3&$select=Name&$expand=Contacts($select=FullName)']);
      expect(heavy.res.status).toBe(504);
      expect(collection.res.status).toBe(200);
      expect(collection.doneAt).toBeGreaterThanOrEqual(heavy.doneAt);
    });
  }
});
