/**
 * Statements are prepared once per connection and reused by their SQL text, and each connection
 * keeps at most ODATA_STATEMENTS_PER_CONNECTION of them (PostgreSQL: named statements, DEALLOCATEd
 * when dropped). Seen from the outside through HTTP, and from the database's own connections.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import type { StatementCounts } from '../../src/db/prepared-statements';

const LIMIT = 6;

interface PgClientLike {
  query(text: string): Promise<{ rows: { name: string }[] }>;
}

interface PoolLike {
  numFree(): number;
}

for (const engine of ENGINES) describe(engine.name, () => {
  let svc: TestService;
  let counts: StatementCounts;
  let contactId: string;
  let properties: string[];

  beforeAll(async () => {
    // SQLite: every read on the service's own connection (read processes keep caches of their own)
    svc = await startTestService(engine, { contacts: 20, config: { statementsPerConnection: LIMIT, sqliteReadProcesses: 0 } });
    counts = svc.running.db.statements;
    const first = (await svc.get('/Contacts?$top=1')).json().value[0] as Record<string, unknown>;
    contactId = String(first.Id);
    properties = Object.keys(first).filter((k) => !k.startsWith('@') && k !== 'Id' && (typeof first[k] !== 'object' || first[k] === null)).slice(0, 2 * LIMIT);
  });
  afterAll(() => svc.close());

  const snapshot = (): StatementCounts => Object.assign({}, counts);

  it('runs a repeated request on statements prepared before', async () => {
    const path = `/Contacts(${contactId})?$select=FirstName`;
    expect((await svc.get(path)).status).toBe(200);
    const before = snapshot();
    const rounds = 30;
    for (let i = 0; i < rounds; i++) expect((await svc.get(path)).status).toBe(200);
    const prepared = counts.prepared - before.prepared;
    // each request runs its read and the sign-in lookups: all of them found prepared, but on
    // PostgreSQL a request may land on a pooled connection that has not seen the shape yet; work in
    // the background (the model version poll) may prepare its own few shapes once meanwhile
    expect(counts.reused - before.reused).toBeGreaterThanOrEqual(rounds);
    if (engine.name === 'sqlite') expect(prepared).toBeLessThanOrEqual(2);
    else expect(prepared).toBeLessThan(rounds);
  });

  it('keeps at most the configured number per connection, dropping the least recently used', async () => {
    expect(properties.length).toBeGreaterThan(LIMIT);
    const before = snapshot();
    // more shapes than a connection keeps, twice over: the second pass prepares dropped ones again
    for (let pass = 0; pass < 2; pass++) {
      for (const property of properties) {
        const res = await svc.get(`/Contacts?$select=${property}&$top=2`);
        expect(res.status).toBe(200);
        expect(res.json().value).toHaveLength(2);
      }
    }
    expect(counts.evicted - before.evicted).toBeGreaterThan(0);
    expect(counts.prepared - before.prepared).toBeGreaterThan(properties.length);
    if (engine.name !== 'postgres') return;
    // what each of the pool's connections holds on the server
    const client = svc.knex.client as { pool: PoolLike; acquireConnection(): Promise<PgClientLike>; releaseConnection(c: PgClientLike): Promise<unknown> };
    const connections = await Promise.all(Array.from({ length: Math.max(1, client.pool.numFree()) }, () => client.acquireConnection()));
    try {
      let seen = 0;
      for (const connection of connections) {
        const { rows } = await connection.query('SELECT name FROM pg_prepared_statements');
        expect(rows.length).toBeLessThanOrEqual(LIMIT);
        for (const row of rows) expect(row.name).toMatch(/^s_[A-Za-z0-9_-]{24}$/);
        seen += rows.length;
      }
      expect(seen).toBeGreaterThan(0);
    } finally {
      await Promise.all(connections.map((c) => client.releaseConnection(c)));
    }
  });
});
