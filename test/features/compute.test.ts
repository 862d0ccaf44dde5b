/**
 * `$compute` (issue 16, item 2) through HTTP on every engine: on collections and single entities,
 * used in `$filter`, `$orderby` and `$select`, and inside `$expand`. Expected values are computed here
 * from the rows the service returns (exact decimals in BigInt).
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allRows, compare, dec, divide, EXACT, text } from './apply-support';
import { enc, type Row } from './support';

/** Revenue div EmployeeCount as the service defines a decimal quotient (20 fractional digits, truncated). */
const perEmployee = (c: Row): string | null => (c.Revenue === null || c.EmployeeCount === null || Number(c.EmployeeCount) === 0 ? null : text(divide(dec(c.Revenue), Number(c.EmployeeCount))));

describe.each(ENGINES)('$compute on $name', (engine) => {
  let svc: TestService;
  let companies: Row[];
  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 120 });
    companies = await allRows(svc, `/Companies?$select=Id,Name,Revenue,EmployeeCount&$filter=${enc('EmployeeCount gt 0')}`);
  }, 180_000);
  afterAll(async () => svc?.close());

  it('in $select and $orderby on a collection (the issue\'s example)', async () => {
    const q = `/Companies?$compute=${enc('Revenue div EmployeeCount as RevenuePerEmployee')}&$select=Name,RevenuePerEmployee&$orderby=${enc('RevenuePerEmployee desc,Id')}&$filter=${enc('EmployeeCount gt 0 and Revenue ne null')}`;
    const res = await svc.get(q, EXACT);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Companies(Name,RevenuePerEmployee)`);
    const expected = companies.filter((c) => c.Revenue !== null)
      .map((c) => ({ Name: c.Name, RevenuePerEmployee: perEmployee(c)!, Id: String(c.Id) }))
      .sort((a, b) => compare(dec(b.RevenuePerEmployee), dec(a.RevenuePerEmployee)) || (a.Id < b.Id ? -1 : 1));
    expect(body.value.map((r: Row) => ({ Name: r.Name, RevenuePerEmployee: r.RevenuePerEmployee }))).toEqual(expected.slice(0, 100).map(({ Name, RevenuePerEmployee }) => ({ Name, RevenuePerEmployee })));
    expect(Object.keys(body.value[0]).filter((k) => !k.startsWith('@'))).toEqual(['Name', 'RevenuePerEmployee']);
  });

  it('the context URL names computed properties, also without $select', async () => {
    const res = await svc.get(`/Companies?$compute=${enc('EmployeeCount mul 2 as Doubled')}&$top=1`);
    expect(res.json()['@odata.context']).toBe(`${svc.url}/$metadata#Companies(*,Doubled)`);
    const star = await svc.get(`/Companies?$compute=${enc('EmployeeCount mul 2 as Doubled')}&$select=*&$top=1`);
    expect(star.json()['@odata.context']).toBe(`${svc.url}/$metadata#Companies(*,Doubled)`);
    expect(Object.keys(star.json().value[0])).toContain('Doubled');
  });

  it('Prefer: omit-values=nulls leaves null computed and aggregated values out', async () => {
    const res = await svc.get(`/Companies?$compute=${enc('Revenue div EmployeeCount as Ratio')}&$select=Id,Ratio&$filter=${enc('Revenue eq null')}&$top=3`, { Prefer: 'omit-values=nulls' });
    expect(res.status).toBe(200);
    const rows = res.json().value as Row[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect('Ratio' in r).toBe(false);
    const grouped = await svc.get(`/Companies?$apply=${enc('groupby((Industry),aggregate(Revenue with sum as Total))')}`, { Prefer: 'omit-values=nulls' });
    for (const r of grouped.json().value as Row[]) for (const v of Object.values(r)) expect(v).not.toBeNull();
  });

  it('in $filter', async () => {
    const rows = await allRows(svc, `/Companies?$compute=${enc('EmployeeCount mul 2 as Doubled')}&$filter=${enc('Doubled gt 400')}&$select=Id,Doubled`);
    const expected = companies.filter((c) => Number(c.EmployeeCount) * 2 > 400);
    expect(rows.map((r) => r.Id).sort()).toEqual(expected.map((c) => c.Id).sort());
    for (const r of rows) expect(r.Doubled).toBe(Number(companies.find((c) => c.Id === r.Id)!.EmployeeCount) * 2);
  });

  it('on a single entity', async () => {
    const c = companies.find((x) => x.Revenue !== null)!;
    const res = await svc.get(`/Companies(${String(c.Id)})?$compute=${enc('Revenue div EmployeeCount as RevenuePerEmployee')}&$select=Name,RevenuePerEmployee`, EXACT);
    expect(res.status).toBe(200);
    expect(res.json().RevenuePerEmployee).toBe(perEmployee(c));
  });

  it('inside $expand', async () => {
    const c = companies[0];
    const res = await svc.get(`/Companies(${String(c.Id)})?$select=Id&$expand=${enc('Contacts($compute=concat(FirstName,LastName) as Joined;$select=FirstName,LastName,Joined;$orderby=Joined)')}`);
    expect(res.status).toBe(200);
    const contacts = res.json().Contacts as Row[];
    for (const x of contacts) expect(x.Joined).toBe(x.FirstName === null || x.LastName === null ? null : `${String(x.FirstName)}${String(x.LastName)}`);
    const joined = contacts.map((x) => x.Joined as string | null);
    expect(joined).toEqual([...joined].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0)));
  });

  it('an alias that is a declared property: 400', async () => {
    const res = await svc.get(`/Companies?$compute=${enc('EmployeeCount mul 2 as Name')}`);
    expect(res.status).toBe(400);
  });
});
