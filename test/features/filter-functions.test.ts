/**
 * Capabilities.FilterFunctions says exactly what `$filter` accepts (Power Query folds a function into
 * the URL only when it is listed): every listed name works, with the right result, and the OData
 * names that are not listed are refused.
 */
import { FUNCTIONS } from '../../src/plan/functions';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { advertisedFilterFunctions, filterCase, loadSamples, NOT_ACCEPTED, type FilterSamples } from './filter-function-cases';
import type { Row } from './support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let advertised: string[];
  let samples: FilterSamples;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 60 });
    const metadata = await svc.get('/$metadata', { Accept: 'application/xml' });
    expect(metadata.status).toBe(200);
    advertised = advertisedFilterFunctions(metadata.text);
    samples = await loadSamples(svc);
  });
  afterAll(() => svc.close());

  const ids = async (set: string, filter: string): Promise<string[]> => {
    const res = await svc.get(`/${set}?$select=Id&$filter=${encodeURIComponent(filter)}`);
    if (res.status !== 200) throw new Error(`${filter} → ${res.status} ${res.text}`);
    return res.json<{ value: Row[] }>().value.map((r) => String(r.Id));
  };

  it('lists every canonical function the planner knows, the operators, and nothing twice', () => {
    expect(advertised.length).toBeGreaterThan(40);
    expect(new Set(advertised).size).toBe(advertised.length);
    expect(advertised).toEqual(expect.arrayContaining(Object.keys(FUNCTIONS)));
    expect(advertised).toEqual(expect.arrayContaining(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'not', 'has', 'in', 'add', 'sub', 'mul', 'div', 'divby', 'mod', 'any', 'all']));
  });

  it('accepts every listed name in $filter and evaluates it', async () => {
    const unknown = advertised.filter((name) => filterCase(name, samples) === undefined);
    expect(unknown).toEqual([]); // a new entry in the list needs its case in filter-function-cases.ts
    for (const name of advertised) {
      const c = filterCase(name, samples)!;
      const key = `Id eq ${c.id}`;
      await expect(ids(c.set, `${key} and (${c.predicate})`).then((found) => [name, found])).resolves.toEqual([name, [c.id]]);
      await expect(ids(c.set, `${key} and not (${c.predicate})`).then((found) => [name, found])).resolves.toEqual([name, []]);
    }
  });

  it('startswith with a literal prefix (an index range on SQLite) matches exactly the values that begin with it', async () => {
    const names = ['Prefixa', 'Prefix', 'Prefiy', 'Prefiw\u{10FFFF}', 'Prefix\u00ff', 'Prefix\u{1F600}', 'prefix', 'Prefi', 'Öster', 'Östa', 'Ösz', 'Ö', '\u{1F600}x', '\u{1F600}', '\u{1F601}'];
    for (const LastName of names) {
      const res = await svc.request('POST', '/Contacts', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Range', LastName }) });
      expect(res.status).toBe(201);
    }
    const lastNames = async (filter: string): Promise<string[]> => {
      const res = await svc.get(`/Contacts?$select=LastName&$orderby=LastName&$filter=${encodeURIComponent(`FirstName eq 'Range' and ${filter}`)}`);
      if (res.status !== 200) throw new Error(`${filter} → ${res.status} ${res.text}`);
      return res.json<{ value: Row[] }>().value.map((r) => String(r.LastName));
    };
    for (const prefix of ['Prefix', 'Prefi', 'P', 'Ö', 'Ös', '\u{1F600}', 'Prefiw\u{10FFFF}', 'prefix', 'Z']) {
      const literal = prefix.replace(/'/g, "''");
      const expected = names.filter((n) => n.startsWith(prefix)).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect([prefix, await lastNames(`startswith(LastName,'${literal}')`)]).toEqual([prefix, expected]);
      expect([prefix, await lastNames(`not startswith(LastName,'${literal}')`)]).toEqual([prefix, names.filter((n) => !n.startsWith(prefix)).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))))]);
    }
  });

  it('refuses the OData functions it does not list', async () => {
    for (const [name, filter] of Object.entries(NOT_ACCEPTED)) {
      expect(advertised).not.toContain(name);
      const res = await svc.get(`/Contacts?$filter=${encodeURIComponent(filter)}`);
      expect([name, [400, 501].includes(res.status)]).toEqual([name, true]);
      expect(res.json<{ error: { code: string } }>().error.code).toMatch(/^(NOT_IMPLEMENTED|UNKNOWN_FUNCTION|SYNTAX_ERROR|TYPE_MISMATCH)$/);
    }
  });
});
