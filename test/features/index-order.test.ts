/**
 * Ordered pages walk an index instead of sorting the table: the key in the order carries no null
 * ordering, and on PostgreSQL nullable indexed columns are indexed NULLS FIRST, the order OData
 * sorts them in (nulls lowest). Checked on the statements the service runs for the requests, with
 * PostgreSQL's sorts switched off (a plan can then only avoid a Sort node through a matching index),
 * and on an older database whose indexes the migration rebuilds.
 */
import type { Knex } from 'knex';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { up as indexNullsFirst } from '../../migrations/20261204220000_index_nulls_first';

interface QueryEvent {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

interface PlanNode {
  readonly 'Node Type': string;
  readonly Plans?: readonly PlanNode[];
}

const NAME_INDEX = 'ix_Contacts_LastName_FirstName_Id';

function nodeTypes(node: PlanNode): string[] {
  return [node['Node Type'], ...(node.Plans ?? []).flatMap(nodeTypes)];
}

for (const engine of ENGINES) describe(engine.name, () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 60, config: { sqliteReadProcesses: 0 } });
    const created = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Nameless' }) });
    expect(created.status).toBe(201);
  });
  afterAll(() => svc.close());

  /** The page statement a request runs (its first statement naming Contacts). */
  async function pageStatement(path: string): Promise<QueryEvent> {
    const seen: QueryEvent[] = [];
    const listener = (q: QueryEvent) => seen.push(q);
    svc.knex.on('query', listener);
    try {
      expect((await svc.get(path)).status).toBe(200);
    } finally {
      svc.knex.off('query', listener);
    }
    const page = seen.find((q) => q.sql.includes('FROM "Contacts"'));
    if (page === undefined) throw new Error(`no statement read Contacts for ${path}`);
    return page;
  }

  it('orders by the key without a null ordering', async () => {
    const { sql } = await pageStatement('/Contacts?$top=5');
    expect(sql).toMatch(/ORDER BY "s0"\."Id" ASC LIMIT/);
  });

  it('still sorts a null LastName first, and last when descending', async () => {
    expect((await svc.get('/Contacts?$orderby=LastName&$top=1&$select=FirstName')).json().value[0].FirstName).toBe('Nameless');
    const all = (await svc.get('/Contacts?$orderby=LastName desc&$select=FirstName,LastName&$top=1000')).json().value as { FirstName: string | null; LastName: string | null }[];
    expect(all[all.length - 1]).toEqual(expect.objectContaining({ FirstName: 'Nameless', LastName: null }));
  });

  if (engine.name !== 'postgres') return;

  async function explainWithoutSorts(statement: QueryEvent): Promise<string[]> {
    return svc.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_sort = off');
      await trx.raw('SET LOCAL enable_incremental_sort = off');
      const result = await trx.raw(`EXPLAIN (FORMAT JSON) ${statement.sql}`, [...statement.bindings] as readonly Knex.Value[]) as { rows: { 'QUERY PLAN': { Plan: PlanNode }[] }[] };
      return nodeTypes(result.rows[0]['QUERY PLAN'][0].Plan);
    });
  }

  it.each([
    ['a key-ordered page', '/Contacts?$top=50'],
    ['a page ordered by nullable columns with an index', '/Contacts?$orderby=LastName,FirstName&$top=50'],
    // the key the planner appends is ascending: a fully descending order names it
    ['the same descending', '/Contacts?$orderby=LastName desc,FirstName desc,Id desc&$top=50'],
    ['a page by LastName that starts with S', "/Contacts?$filter=startswith(LastName,'S')&$orderby=LastName,FirstName&$top=20"],
  ])('PostgreSQL reads %s from an index, without sorting', async (_, path) => {
    const types = await explainWithoutSorts(await pageStatement(path));
    expect(types).not.toContain('Sort');
    expect(types.some((t) => t.startsWith('Index'))).toBe(true);
  });

  it('starts a following page inside the index (the keyset bounds the first order column)', async () => {
    const first = (await svc.get('/Contacts?$orderby=LastName,FirstName&$select=Id', { Prefer: 'odata.maxpagesize=10' })).json();
    const next = String(first['@odata.nextLink']).replace(svc.url, '');
    const statement = await pageStatement(next);
    const plan = await svc.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_sort = off');
      await trx.raw('SET LOCAL enable_seqscan = off');
      const result = await trx.raw(`EXPLAIN (FORMAT JSON) ${statement.sql}`, [...statement.bindings] as readonly Knex.Value[]) as { rows: { 'QUERY PLAN': unknown[] }[] };
      return JSON.stringify(result.rows[0]['QUERY PLAN']);
    });
    expect(plan).toContain('"Index Cond"');
  });

  it('indexes a custom field made at run time NULLS FIRST too (the model migrator creates its index)', async () => {
    const created = await svc.request('POST', '/FieldDefinitions', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ EntityType: 'Contact', Name: 'Tier', FieldType: 'Text', Length: 10, IsIndexed: true }) });
    expect(created.status).toBe(201);
    const { rows } = await svc.knex.raw("SELECT indexdef FROM pg_indexes WHERE tablename = 'Contacts' AND indexdef LIKE '%\"cf_Tier\"%'") as { rows: { indexdef: string }[] };
    expect(rows.map((r) => r.indexdef)).toEqual([expect.stringContaining('("cf_Tier" NULLS FIRST)')]);
  });

  it('indexes nullable columns NULLS FIRST, and the migration rebuilds an older index that way', async () => {
    const definition = async () => ((await svc.knex.raw('SELECT indexdef FROM pg_indexes WHERE indexname = ?', [NAME_INDEX])) as { rows: { indexdef: string }[] }).rows[0]?.indexdef;
    expect(await definition()).toContain('"LastName" NULLS FIRST, "FirstName" NULLS FIRST, "Id")');
    // as a database created before the migration has it
    await svc.knex.raw('DROP INDEX ??', [NAME_INDEX]);
    await svc.knex.raw('CREATE INDEX ?? ON "Contacts" ("LastName", "FirstName", "Id")', [NAME_INDEX]);
    expect(await definition()).not.toContain('NULLS FIRST');
    await indexNullsFirst(svc.knex, svc.running.services.model());
    expect(await definition()).toContain('"LastName" NULLS FIRST, "FirstName" NULLS FIRST, "Id")');
  });
});
