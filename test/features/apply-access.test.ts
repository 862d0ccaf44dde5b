/**
 * `$apply` under record access (issue 16, item 1): a Standard user's groups and sums are computed from
 * the rows they may see, before grouping: another user's private contacts are in no count, on every
 * engine. Expected values come from the Administrator's unaggregated rows and the access rule
 * (private and owned by someone else: hidden), computed here.
 */
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';
import { allRows, EXACT, groupBy } from './apply-support';
import { enc, type Row } from './support';

describe.each(ENGINES)('$apply under record access on $name', (engine) => {
  let svc: TestService;
  let standard: Record<string, string>;
  let standardId: string;
  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 200 });
    // the seeded demo user of the Standard role
    const [user] = (await svc.get(`/Users?$filter=${enc("UserName eq 'demo.standard'")}&$select=Id,UserName`)).json().value as Row[];
    standardId = String(user.Id);
    standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    // three private contacts of another user, in an industry of their own: the Standard user must not see that group
    const [other] = (await svc.get(`/Users?$filter=${enc(`Id ne ${standardId}`)}&$top=1&$select=Id`)).json().value as Row[];
    const company = (await svc.request('POST', '/Companies', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Name: 'Hidden Works', Industry: 'Hidden Industry' }) })).json();
    for (let i = 0; i < 3; i++) {
      const res = await svc.request('POST', '/Contacts', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ FirstName: 'Private', LastName: `Contact ${i}`, IsPrivate: true, OwnerId: other.Id, CompanyId: company.Id }),
      });
      expect(res.status).toBe(201);
    }
  }, 180_000);
  afterAll(async () => svc?.close());

  it('a Standard user\'s groupby counts only the contacts they may see', async () => {
    const all = await allRows(svc, '/Contacts?$select=Id,IsPrivate,OwnerId&$expand=Company($select=Industry)');
    const visible = all.filter((c) => c.IsPrivate !== true || c.OwnerId === null || String(c.OwnerId).toLowerCase() === standardId.toLowerCase());
    expect(visible.length).toBeLessThan(all.length);
    const expected = groupBy(visible, (c) => [(c.Company as Row | null)?.Industry ?? null]);
    const path = `/Contacts?$apply=${enc('groupby((Company/Industry),aggregate($count as N))')}`;
    const rows = await allRows(svc, path, { ...EXACT, ...standard });
    expect(rows).toHaveLength(expected.size);
    for (const r of rows) expect(Number(r.N)).toBe(expected.get(JSON.stringify([(r.Company as Row).Industry]))!.length);
    expect(rows.some((r) => (r.Company as Row).Industry === 'Hidden Industry')).toBe(false);
    // the Administrator sees the private ones
    const admin = await allRows(svc, path);
    expect(admin.find((r) => (r.Company as Row).Industry === 'Hidden Industry')?.N).toBe('3');
  });

  it('aggregate($count) equals the number of rows the user can list', async () => {
    const [r] = await allRows(svc, `/Contacts?$apply=${enc('aggregate($count as N)')}`, { ...EXACT, ...standard });
    const listed = await allRows(svc, '/Contacts?$select=Id', { ...EXACT, ...standard });
    expect(Number(r.N)).toBe(listed.length);
  });
});
