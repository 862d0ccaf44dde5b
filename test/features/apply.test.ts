/**
 * `$apply` (issue 16, item 1) through HTTP on every engine: each answer is checked against the same
 * computation done here over the rows the service returns unaggregated (exact decimals in BigInt).
 * One describe block per transformation, so the counts per transformation read off the test report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allRows, compare, dec, divide, EXACT, groupBy, statementsDuring, sumText, text } from './apply-support';
import { enc, type Row } from './support';

type Opportunity = Row & { Id: string; Name: string; Description: string | null; Status: string; Amount: string; Probability: number | null; Stage: { Name: string } | null; Products: { Total: string }[] };
type Contact = Row & { Id: string; Company: { Industry: string | null } | null; BusinessAddress: { State: string | null } | null };

const apply = (svc: TestService, set: string, query: string, headers: Record<string, string> = EXACT) => allRows(svc, `/${set}?${query.replace(/\$apply=([^&]*)/, (_, v: string) => `$apply=${enc(v)}`)}`, headers);
const key = (r: Row, ...names: string[]) => JSON.stringify(names.map((n) => n.split('/').reduce<unknown>((o, p) => (o as Row | null)?.[p] ?? null, r)));

describe.each(ENGINES)('$apply on $name', (engine) => {
  let svc: TestService;
  let opportunities: Opportunity[];
  let contacts: Contact[];
  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 200, pageSize: 50 });
    opportunities = await allRows(svc, '/Opportunities?$select=Id,Name,Description,Status,Amount,Probability&$expand=Stage($select=Name),Products($select=Total)') as Opportunity[];
    contacts = await allRows(svc, '/Contacts?$select=Id,BusinessAddress&$expand=Company($select=Industry)') as Contact[];
  }, 180_000);
  afterAll(async () => svc?.close());

  const byStatus = () => groupBy(opportunities, (o) => [o.Status]);

  describe('groupby', () => {
    it('one key with sum and $count (exact decimal sums, Int64 counts)', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Status),aggregate(Amount with sum as Total,$count as N))');
      const expected = byStatus();
      expect(rows).toHaveLength(expected.size);
      for (const r of rows) {
        const group = expected.get(key(r, 'Status'))!;
        expect(r.Total).toBe(sumText(group.map((o) => o.Amount)));
        expect(Number(r.N)).toBe(group.length);
      }
    });

    it('a navigation path (Stage/Name) with sum, average, min, max and countdistinct', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Stage/Name),aggregate(Amount with sum as Total,Amount with average as Avg,Amount with min as Low,Amount with max as High,Status with countdistinct as Statuses))');
      const expected = groupBy(opportunities, (o) => [o.Stage?.Name ?? null]);
      expect(rows).toHaveLength(expected.size);
      for (const r of rows) {
        const group = expected.get(key(r, 'Stage/Name'))!;
        const amounts = group.map((o) => dec(o.Amount));
        expect(r.Total).toBe(sumText(group.map((o) => o.Amount)));
        expect(r.Avg).toBe(text(divide(amounts.reduce((a, b) => ({ units: a.units * 10n ** BigInt(Math.max(0, b.scale - a.scale)) + b.units * 10n ** BigInt(Math.max(0, a.scale - b.scale)), scale: Math.max(a.scale, b.scale) })), group.length)));
        expect(r.Low).toBe(text([...amounts].sort(compare)[0]));
        expect(r.High).toBe(text([...amounts].sort(compare).reverse()[0]));
        expect(Number(r.Statuses)).toBe(new Set(group.map((o) => o.Status)).size);
      }
    });

    it('a navigation path on Contacts (Company/Industry) with $count', async () => {
      const rows = await apply(svc, 'Contacts', '$apply=groupby((Company/Industry),aggregate($count as N))');
      const expected = groupBy(contacts, (c) => [c.Company?.Industry ?? null]);
      expect(rows).toHaveLength(expected.size);
      for (const r of rows) expect(Number(r.N)).toBe(expected.get(key(r, 'Company/Industry'))!.length);
    });

    it('a complex path (BusinessAddress/State) and several keys', async () => {
      const rows = await apply(svc, 'Contacts', '$apply=groupby((BusinessAddress/State,Company/Industry),aggregate($count as N))');
      const expected = groupBy(contacts, (c) => [c.BusinessAddress?.State ?? null, c.Company?.Industry ?? null]);
      expect(rows).toHaveLength(expected.size);
      for (const r of rows) expect(Number(r.N)).toBe(expected.get(key(r, 'BusinessAddress/State', 'Company/Industry'))!.length);
    });

    it('without aggregate: the distinct key values', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Status,Stage/Name))');
      expect(new Set(rows.map((r) => key(r, 'Status', 'Stage/Name')))).toEqual(new Set(groupBy(opportunities, (o) => [o.Status, o.Stage?.Name ?? null]).keys()));
    });

    it('a nested aggregate over a collection navigation, per opportunity', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Id),aggregate(Products(Total with sum as Sum,$count as Lines)))');
      expect(rows).toHaveLength(opportunities.length);
      const byId = new Map(opportunities.map((o) => [o.Id, o]));
      for (const r of rows) {
        const o = byId.get(String(r.Id))!;
        const [nested] = r.Products as Row[];
        expect(nested.Sum).toBe(sumText(o.Products.map((p) => p.Total)));
        expect(Number(nested.Lines)).toBe(o.Products.length);
      }
    });

    it('the flat form over a collection navigation (Products/Total with sum, Products/$count), per group', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Status),aggregate(Products/Total with sum as Sum,Products/Total with max as Largest,Products/$count as Lines))');
      for (const r of rows) {
        const totals = byStatus().get(key(r, 'Status'))!.flatMap((o) => o.Products.map((p) => p.Total));
        expect(Number(r.Lines)).toBe(totals.length);
        expect(r.Sum).toBe(sumText(totals));
        expect(r.Largest).toBe(totals.length ? text(totals.map(dec).sort(compare).reverse()[0]) : null);
      }
    });
    it('average over a collection navigation: flat per group, nested per opportunity (exact, null without related rows)', async () => {
      const average = (totals: readonly string[]) => (totals.length ? text(divide(dec(sumText(totals)), totals.length)) : null);
      const flat = await apply(svc, 'Opportunities', '$apply=groupby((Status),aggregate(Products/Total with average as Avg,Products/$count as Lines))&$orderby=Avg desc');
      expect(flat.length).toBe(byStatus().size);
      for (const r of flat) {
        const totals = byStatus().get(key(r, 'Status'))!.flatMap((o) => o.Products.map((p) => p.Total));
        expect({ status: r.Status, avg: r.Avg, lines: Number(r.Lines) }).toEqual({ status: r.Status, avg: average(totals), lines: totals.length });
      }
      const averages = flat.map((r) => r.Avg).filter((a): a is string => a !== null).map(dec);
      expect(averages).toEqual([...averages].sort(compare).reverse());
      // the same numbers the other way round: the products grouped by their opportunity's status
      const direct = await apply(svc, 'OpportunityProducts', '$apply=groupby((Opportunity/Status),aggregate(Total with average as Avg))');
      for (const d of direct) expect(flat.find((r) => r.Status === (d.Opportunity as Row).Status)?.Avg).toBe(d.Avg);
      const nested = await apply(svc, 'Opportunities', '$apply=groupby((Id),aggregate(Products(Total with average as Avg)))');
      const byId = new Map(opportunities.map((o) => [o.Id, o]));
      expect(nested).toHaveLength(opportunities.length);
      for (const r of nested) {
        const [inner] = r.Products as Row[];
        expect(inner.Avg).toBe(average(byId.get(String(r.Id))!.Products.map((p) => p.Total)));
      }
      // an opportunity without products: no value to average
      const created = await svc.request('POST', '/Opportunities', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Name: 'No products yet' }) });
      expect(created.status).toBe(201);
      const id = String(created.json().Id);
      try {
        const [alone] = await apply(svc, 'Opportunities', `$apply=filter(Id eq ${id})/groupby((Id),aggregate(Products(Total with average as Avg,$count as N)))`);
        expect(alone.Products).toEqual([{ Avg: null, N: '0' }]); // Int64 as a string: the requests ask IEEE754Compatible
      } finally {
        expect((await svc.request('DELETE', `/Opportunities(${id})`)).status).toBe(204);
      }
    });

    it('countdistinct over a collection navigation is 501, naming it', async () => {
      const res = await svc.get(`/Opportunities?$apply=${enc('groupby((Status),aggregate(Products/Total with countdistinct as D))')}`);
      expect(res.status).toBe(501);
      expect(res.json().error.message).toMatch(/countdistinct over a navigation/);
    });
  });

  describe('aggregate', () => {
    it('several aggregates over the whole set, with the extension\'s types', async () => {
      const [r] = await apply(svc, 'Opportunities', '$apply=aggregate(Amount with sum as Total,Probability with average as P,$count as N,Status with countdistinct as S)', { Accept: 'application/json;odata.metadata=full' });
      expect(r['Total@odata.type']).toBe('#Decimal');
      expect(r['P@odata.type']).toBeUndefined(); // Edm.Double is implied by a JSON number
      expect(r['N@odata.type']).toBe('#Int64');
      expect(r['S@odata.type']).toBe('#Int64');
      const exact = (await apply(svc, 'Opportunities', '$apply=aggregate(Amount with sum as Total)'))[0];
      expect(exact.Total).toBe(sumText(opportunities.map((o) => o.Amount)));
      const probabilities = opportunities.map((o) => o.Probability).filter((p): p is number => p !== null);
      expect(r.P).toBeCloseTo(probabilities.reduce((a, b) => a + b, 0) / probabilities.length, 9);
      expect(r.N).toBe(opportunities.length);
      expect(r.S).toBe(new Set(opportunities.map((o) => o.Status)).size);
    });

    it('context URL lists the dynamic properties, navigation keys nested', async () => {
      const res = await svc.get(`/Opportunities?$apply=${enc('groupby((Status,Stage/Name),aggregate(Amount with sum as Total))')}`);
      expect(res.json()['@odata.context']).toBe(`${svc.url}/$metadata#Opportunities(Status,Stage(Name),Total)`);
    });
  });

  describe('filter', () => {
    it('before groupby: only matching rows are grouped', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=filter(Amount gt 20000 and Status ne \'Lost\')/groupby((Status),aggregate(Amount with sum as Total))');
      const expected = groupBy(opportunities.filter((o) => compare(dec(o.Amount), dec('20000')) > 0 && o.Status !== 'Lost'), (o) => [o.Status]);
      expect(rows).toHaveLength(expected.size);
      for (const r of rows) expect(r.Total).toBe(sumText(expected.get(key(r, 'Status'))!.map((o) => o.Amount)));
    });

    it('after groupby: filters the aggregated rows (HAVING)', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Stage/Name),aggregate($count as N))/filter(N ge 3)');
      const expected = [...groupBy(opportunities, (o) => [o.Stage?.Name ?? null])].filter(([, g]) => g.length >= 3);
      expect(rows.map((r) => key(r, 'Stage/Name')).sort()).toEqual(expected.map(([k]) => k).sort());
    });
  });

  describe('compute', () => {
    it('a computed value grouped and summed', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=compute(Amount mul 2 as Twice)/groupby((Status),aggregate(Twice with sum as Total))');
      for (const r of rows) {
        const group = byStatus().get(key(r, 'Status'))!;
        expect(r.Total).toBe(text(group.map((o) => { const d = dec(o.Amount); return { units: d.units * 2n, scale: d.scale }; }).reduce((a, b) => dec(sumText([text(a), text(b)])))));
      }
    });
  });

  describe('orderby, top, skip', () => {
    it('orderby(Amount desc)/skip(2)/top(3) keeps the order', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=orderby(Amount desc,Id)/skip(2)/top(3)&$select=Id,Amount');
      const sorted = [...opportunities].sort((a, b) => compare(dec(b.Amount), dec(a.Amount)) || (a.Id < b.Id ? -1 : 1));
      expect(rows.map((r) => r.Id)).toEqual(sorted.slice(2, 5).map((o) => o.Id));
    });

    it('after groupby: the largest groups first', async () => {
      const rows = await apply(svc, 'Opportunities', '$apply=groupby((Stage/Name),aggregate(Amount with sum as Total))/orderby(Total desc)/top(2)');
      const totals = [...groupBy(opportunities, (o) => [o.Stage?.Name ?? null]).values()].map((g) => sumText(g.map((o) => o.Amount))!).sort((a, b) => compare(dec(b), dec(a)));
      expect(rows.map((r) => r.Total)).toEqual(totals.slice(0, 2));
    });
  });

  describe('search', () => {
    it('search() then aggregate: counts the entities whose text matches', async () => {
      const [r] = await apply(svc, 'Opportunities', '$apply=search(License)/aggregate($count as N)');
      const matches = opportunities.filter((o) => [o.Name, o.Description].some((t) => t !== null && t.toLowerCase().includes('license')));
      expect(matches.length).toBeGreaterThan(0);
      expect(Number(r.N)).toBe(matches.length);
    });
  });

  describe('topcount, bottomcount, topsum, bottomsum', () => {
    const amountsDesc = () => [...opportunities].sort((a, b) => compare(dec(b.Amount), dec(a.Amount)));
    it('topcount(3,Amount) and bottomcount(2,Amount)', async () => {
      const top = await apply(svc, 'Opportunities', '$apply=topcount(3,Amount)&$select=Id');
      expect(top.map((r) => r.Id)).toEqual(amountsDesc().slice(0, 3).map((o) => o.Id));
      const bottom = await apply(svc, 'Opportunities', '$apply=bottomcount(2,Amount)&$select=Id');
      expect(bottom.map((r) => r.Id)).toEqual(amountsDesc().reverse().slice(0, 2).map((o) => o.Id));
    });

    it('topsum and bottomsum over grouped totals: the fewest groups reaching the total', async () => {
      const totals = [...byStatus()].map(([k, g]) => ({ k, total: dec(sumText(g.map((o) => o.Amount))!) }));
      const limit = text({ units: totals.reduce((s, t) => s + t.total.units * 10n ** BigInt(4 - t.total.scale), 0n) / 2n, scale: 4 });
      for (const [fn, order] of [['topsum', -1], ['bottomsum', 1]] as const) {
        const rows = await apply(svc, 'Opportunities', `$apply=groupby((Status),aggregate(Amount with sum as Total))/${fn}(${limit},Total)`);
        const sorted = [...totals].sort((a, b) => order * compare(a.total, b.total));
        const expected: string[] = [];
        let running = dec('0');
        for (const t of sorted) {
          if (compare(running, dec(limit)) >= 0) break;
          expected.push(t.k);
          running = dec(sumText([text(running), text(t.total)]));
        }
        expect(rows.map((r) => key(r, 'Status'))).toEqual(expected);
      }
    });
  });

  describe('query options after $apply', () => {
    it('$filter, $orderby, $top, $skip, $count and $select on the aggregated result', async () => {
      const res = await svc.get(`/Opportunities?$apply=${enc('groupby((Stage/Name),aggregate(Amount with sum as Total,$count as N))')}&$filter=${enc('N gt 1')}&$orderby=${enc('Total desc')}&$skip=1&$top=2&$count=true&$select=Stage/Name,Total`, EXACT);
      expect(res.status).toBe(200);
      const body = res.json();
      const groups = [...groupBy(opportunities, (o) => [o.Stage?.Name ?? null])].filter(([, g]) => g.length > 1)
        .map(([k, g]) => ({ k, total: sumText(g.map((o) => o.Amount))! })).sort((a, b) => compare(dec(b.total), dec(a.total)));
      expect(Number(body['@odata.count'])).toBe(groups.length);
      expect(body.value.map((r: Row) => r.Total)).toEqual(groups.slice(1, 3).map((g) => g.total));
      expect(body.value.every((r: Row) => !('N' in r))).toBe(true);
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Opportunities(Stage(Name),Total)`);
    });

    it('server-driven paging of groups: next links neither repeat nor skip a group', async () => {
      const path = `/Contacts?$apply=${enc('groupby((BusinessAddress/State,Company/Industry),aggregate($count as N))')}`;
      const rows = await allRows(svc, path, { ...EXACT, Prefer: 'odata.maxpagesize=4' });
      const expected = groupBy(contacts, (c) => [c.BusinessAddress?.State ?? null, c.Company?.Industry ?? null]);
      expect(expected.size).toBeGreaterThan(8);
      const keys = rows.map((r) => key(r, 'BusinessAddress/State', 'Company/Industry'));
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(keys)).toEqual(new Set(expected.keys()));
      expect(rows.reduce((s, r) => s + Number(r.N), 0)).toBe(contacts.length);
    });
  });

  describe('one statement', () => {
    it('a chained $apply is one SQL statement (logged for the README)', async () => {
      const query = `/Opportunities?$apply=${enc("filter(Status ne 'Lost')/groupby((Stage/Name),aggregate(Amount with sum as Total,$count as N))/orderby(Total desc)/top(3)")}`;
      const statements = (await statementsDuring(svc, () => svc.get(query))).filter((s) => s.includes('"Opportunities"'));
      expect(statements).toHaveLength(1);
      mkdirSync(join(__dirname, '..', 'output'), { recursive: true });
      writeFileSync(join(__dirname, '..', 'output', `apply-sql-${engine.name}.txt`), `${decodeURIComponent(query)}\n\n${statements[0]}\n`);
    });
  });

  describe('$metadata', () => {
    it('declares Aggregation.ApplySupported (transformations, groupable, aggregatable) and ComputeSupported per entity set', async () => {
      const doc = (await svc.get('/$metadata?$format=json')).json();
      const container = doc.Crm.Service;
      const applied = container.Opportunities['@Org.OData.Aggregation.V1.ApplySupported'];
      expect(applied.Transformations).toEqual(expect.arrayContaining(['filter', 'groupby', 'aggregate', 'compute', 'topcount', 'topsum']));
      expect(applied.Transformations).not.toContain('toppercent');
      expect(applied.GroupableProperties).toEqual(expect.arrayContaining(['Status', 'StageId', 'Amount']));
      expect(applied.AggregatableProperties.map((p: Row) => p.Property)).toEqual(expect.arrayContaining(['Amount', 'Probability']));
      expect(applied.AggregatableProperties.map((p: Row) => p.Property)).not.toContain('Name');
      expect(container.Contacts['@Org.OData.Aggregation.V1.ApplySupported'].GroupableProperties).toContain('BusinessAddress/State');
      expect(container.Users['@Org.OData.Aggregation.V1.ApplySupported'].GroupableProperties).not.toContain('Password');
      expect(container.Companies['@Org.OData.Capabilities.V1.ComputeSupported']).toBe(true);
      const xml = (await svc.get('/$metadata')).text;
      expect(xml).toContain('<Annotation Term="Org.OData.Aggregation.V1.ApplySupported">');
    });
  });

  describe('errors', () => {
    const error = async (apply: string) => {
      const res = await svc.get(`/Opportunities?$apply=${enc(apply)}`);
      return { status: res.status, error: res.json().error as { code: string; message: string; target: string } };
    };
    it('an aggregate over a non-aggregatable property: 400 naming the position', async () => {
      const r = await error('groupby((Status),aggregate(Name with sum as T))');
      expect(r.status).toBe(400);
      expect(r.error.message).toMatch(/Name.*not aggregatable.*position 27/);
    });
    it('a collection as group key: 400 naming the position', async () => {
      const r = await error('groupby((Products/Total))');
      expect(r.status).toBe(400);
      expect(r.error.message).toMatch(/collection.*position 9/);
    });
    it('an unknown transformation: 400 naming the position', async () => {
      const r = await error('filter(Amount gt 0)/frobnicate(Amount)');
      expect(r.status).toBe(400);
      expect(r.error.message).toMatch(/unknown transformation 'frobnicate' at position 20/);
    });
    it('a valid transformation not implemented: 501 naming it', async () => {
      for (const [apply, name] of [['toppercent(50,Amount)', 'toppercent'], ['concat(identity,identity)', 'concat'], ['groupby((rollup(Stage/Name)))', 'rollup']]) {
        const r = await error(apply);
        expect(r.status).toBe(501);
        expect(r.error.message).toContain(name);
      }
    });
    it('a name that is not in the aggregated result: 400', async () => {
      const res = await svc.get(`/Opportunities?$apply=${enc('groupby((Status))')}&$filter=${enc('Amount gt 0')}`);
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe('UNKNOWN_PROPERTY');
    });
  });
});
