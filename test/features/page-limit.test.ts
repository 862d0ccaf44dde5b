/**
 * How many rows a page's statement asks for: one beyond the page only where a next page may follow (the
 * extra row tells whether it does); a page that `$top` ends reads exactly its rows. Next links and
 * `$top` still end where they should.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import type { Row } from './support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s: the rows a page reads', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 12 });
  });
  afterAll(() => svc.close());

  /** the answer to `path` and the LIMIT of its statement over Contacts */
  async function pageOf(path: string, headers?: Record<string, string>): Promise<{ ids: unknown[]; nextLink?: string; limit: number }> {
    const limits: number[] = [];
    const listener = (q: { sql: string }) => {
      const m = /FROM "Contacts" AS .* LIMIT (\d+)/s.exec(q.sql);
      if (m) limits.push(Number(m[1]));
    };
    svc.knex.on('query', listener);
    try {
      const res = await svc.get(path, headers);
      expect(res.status).toBe(200);
      expect(limits).toHaveLength(1);
      const body = res.json();
      return { ids: (body.value as Row[]).map((r) => r.Id), nextLink: body['@odata.nextLink'] as string | undefined, limit: limits[0] };
    } finally {
      svc.knex.off('query', listener);
    }
  }

  const pageSize = (n: number) => ({ Prefer: `odata.maxpagesize=${n}` });

  it('reads exactly $top rows when $top ends the page', async () => {
    const all = await pageOf('/Contacts?$select=Id');
    expect(all.ids).toHaveLength(12);
    const top = await pageOf('/Contacts?$select=Id&$top=5');
    expect(top).toEqual({ ids: all.ids.slice(0, 5), nextLink: undefined, limit: 5 });
    const equal = await pageOf('/Contacts?$select=Id&$top=4', pageSize(4));
    expect(equal).toEqual({ ids: all.ids.slice(0, 4), nextLink: undefined, limit: 4 });
  });

  it('reads one row beyond a page that a next link may follow, and the links end with $top', async () => {
    const all = (await pageOf('/Contacts?$select=Id')).ids;
    const first = await pageOf('/Contacts?$select=Id&$top=7', pageSize(3));
    expect(first.limit).toBe(4);
    expect(first.ids).toEqual(all.slice(0, 3));
    expect(first.nextLink).toBeDefined();
    const pages = [first];
    while (pages[pages.length - 1].nextLink !== undefined) {
      const next = new URL(pages[pages.length - 1].nextLink as string);
      pages.push(await pageOf(`${next.pathname.replace(/^.*\/odata/, '')}${next.search}`, pageSize(3)));
    }
    expect(pages.flatMap((p) => p.ids)).toEqual(all.slice(0, 7));
    // the last page is the one $top ends: 1 row, no next link, read without an extra row
    expect(pages.map((p) => p.ids.length)).toEqual([3, 3, 1]);
    expect(pages[2].limit).toBe(1);
    const unbounded = await pageOf('/Contacts?$select=Id', pageSize(5));
    expect(unbounded).toEqual({ ids: all.slice(0, 5), nextLink: expect.any(String), limit: 6 });
  });
});
