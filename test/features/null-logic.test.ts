/**
 * Null logic as OData 4.01 defines it (URL Conventions §5.1.1): every comparison operator, `in`, `has`,
 * canonical functions and arithmetic over values and nulls, each in three places: plain, beneath
 * `not`, and inside any()/all() (also nested and beneath `not`). Expected keys come from the evaluator
 * in null-logic-evaluator.ts, run over rows read from the service and linked in JS.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc } from './support';
import {
  and, arith, cmp, date, fn, inList, lambda, lit, member, not, or, prop, selected,
  type Entity, type Expr,
} from './null-logic-evaluator';

type Mutable = Record<string, unknown>;

interface Data {
  readonly contacts: Mutable[];
  readonly companies: Mutable[];
  readonly opportunities: Mutable[];
  /** values that split the data (taken from it, so the cases select something and leave something) */
  readonly title: string;
  readonly titles: readonly [string, string];
  readonly city: string;
  readonly employees: number;
  readonly revenue: number;
  readonly industries: readonly [string, string];
  readonly parentOwnerEmail: string;
}

const FALSE: Expr = { text: 'false', eval: () => false };

/** A boolean expression about an entity reached through `p` (`''`, `x/`, `Company/`). */
type Atom = (d: Data) => (p: string) => Expr;

const CONTACT_ATOMS: ReadonlyArray<readonly [string, Atom]> = [
  ['eq value', (d) => (p) => cmp('eq', prop(`${p}JobTitle`), lit(d.title))],
  ['eq null', () => (p) => cmp('eq', prop(`${p}JobTitle`), lit(null))],
  ['ne value', (d) => (p) => cmp('ne', prop(`${p}JobTitle`), lit(d.title))],
  ['ne null', () => (p) => cmp('ne', lit(null), prop(`${p}JobTitle`))],
  ['eq of two properties of the row', () => (p) => cmp('eq', prop(`${p}LastName`), prop(`${p}FirstName`))],
  ['eq of two nullable complex members', () => (p) => cmp('eq', prop(`${p}HomeAddress/City`), prop(`${p}BusinessAddress/City`))],
  ['ne of two nullable complex members', () => (p) => cmp('ne', prop(`${p}HomeAddress/State`), prop(`${p}BusinessAddress/State`))],
  ['gt through a navigation', (d) => (p) => cmp('gt', prop(`${p}Company/EmployeeCount`), lit(d.employees))],
  ['ge through a navigation', (d) => (p) => cmp('ge', prop(`${p}Company/EmployeeCount`), lit(d.employees))],
  ['lt through two navigations', (d) => (p) => cmp('lt', prop(`${p}Company/Parent/EmployeeCount`), lit(d.employees))],
  ['le through a navigation', (d) => (p) => cmp('le', prop(`${p}Company/EmployeeCount`), lit(d.employees))],
  ['gt null', () => (p) => cmp('gt', prop(`${p}Company/EmployeeCount`), lit(null))],
  ['le null', () => (p) => cmp('le', lit(null), prop(`${p}Company/EmployeeCount`))],
  ['ge of two nullable values', () => (p) => cmp('ge', prop(`${p}Company/EmployeeCount`), prop(`${p}Company/Parent/EmployeeCount`))],
  ['gt on a nullable date', () => (p) => cmp('gt', prop(`${p}BirthDate`), date('1980-06-15'))],
  ['in values', (d) => (p) => inList(prop(`${p}JobTitle`), [lit(d.titles[0]), lit(d.titles[1])])],
  ['in with a null member', (d) => (p) => inList(prop(`${p}JobTitle`), [lit(d.titles[0]), lit(null)])],
  ['in on a complex member', (d) => (p) => inList(prop(`${p}HomeAddress/City`), [lit(d.city), lit('Nowhere')])],
  ['in on a function result', () => (p) => inList(fn('length', prop(`${p}JobTitle`)), [lit(3), lit(7)])],
  ['has', () => (p) => cmp('has', prop(`${p}ContactType`), member('ContactType', 'Client'))],
  ['eq on an enum', () => (p) => cmp('eq', prop(`${p}ContactType`), member('ContactType', 'Prospect'))],
  ['contains', () => (p) => fn('contains', prop(`${p}JobTitle`), lit('e'))],
  ['contains an empty string', () => (p) => fn('contains', prop(`${p}HomeAddress/City`), lit(''))],
  ['startswith', () => (p) => fn('startswith', prop(`${p}HomeAddress/City`), lit('S'))],
  ['endswith', () => (p) => fn('endswith', prop(`${p}JobTitle`), lit('r'))],
  ['endswith an empty string', () => (p) => fn('endswith', prop(`${p}HomeAddress/City`), lit(''))],
  ['contains(null, value)', () => () => fn('contains', lit(null), lit('a'))],
  ['contains(value, null)', () => (p) => fn('contains', prop(`${p}JobTitle`), lit(null))],
  ['length gt', () => (p) => cmp('gt', fn('length', prop(`${p}JobTitle`)), lit(5))],
  ['indexof ge', () => (p) => cmp('ge', fn('indexof', prop(`${p}HomeAddress/City`), lit('a')), lit(1))],
  ['tolower eq', (d) => (p) => cmp('eq', fn('tolower', prop(`${p}JobTitle`)), lit(d.title.toLowerCase()))],
  ['concat eq', (d) => (p) => cmp('eq', fn('concat', prop(`${p}JobTitle`), lit('!')), lit(`${d.title}!`))],
  ['substring eq', (d) => (p) => cmp('eq', fn('substring', prop(`${p}HomeAddress/City`), lit(1)), lit(d.city.slice(1)))],
  ['year lt', () => (p) => cmp('lt', fn('year', prop(`${p}BirthDate`)), lit(1980))],
  ['function result eq null', () => (p) => cmp('eq', fn('length', prop(`${p}JobTitle`)), lit(null))],
  ['boolean function result eq false', () => (p) => cmp('eq', fn('contains', prop(`${p}JobTitle`), lit('e')), FALSE)],
  ['add gt', (d) => (p) => cmp('gt', arith('add', prop(`${p}Company/EmployeeCount`), lit(1)), lit(d.employees))],
  ['mod eq', () => (p) => cmp('eq', arith('mod', prop(`${p}Company/EmployeeCount`), lit(2)), lit(1))],
  ['sub of two nullable values lt', () => (p) => cmp('lt', arith('sub', prop(`${p}Company/EmployeeCount`), prop(`${p}Company/Parent/EmployeeCount`)), lit(0))],
  ['add null eq null', () => (p) => cmp('eq', arith('add', prop(`${p}Company/EmployeeCount`), lit(null)), lit(null))],
  ['mul ne', (d) => (p) => cmp('ne', arith('mul', prop(`${p}Company/EmployeeCount`), lit(2)), lit(d.employees * 2))],
  ['and with a null operand', (d) => (p) => and(fn('contains', prop(`${p}JobTitle`), lit('e')), cmp('gt', prop(`${p}Company/EmployeeCount`), lit(d.employees)))],
  ['or with a null operand', (d) => (p) => or(cmp('eq', prop(`${p}JobTitle`), lit(d.title)), fn('startswith', prop(`${p}HomeAddress/City`), lit('S')))],
];

const COMPANY_ATOMS: ReadonlyArray<readonly [string, Atom]> = [
  ['le (the issue: null counts are not le)', (d) => (p) => cmp('le', prop(`${p}EmployeeCount`), lit(d.employees))],
  ['eq through two navigations', (d) => (p) => cmp('eq', prop(`${p}Parent/Owner/Email`), lit(d.parentOwnerEmail))],
  ['eq on a complex member', (d) => (p) => cmp('eq', prop(`${p}Address/City`), lit(d.city))],
  ['in', (d) => (p) => inList(prop(`${p}Industry`), [lit(d.industries[0]), lit(d.industries[1])])],
  ['ne null', () => (p) => cmp('ne', prop(`${p}Website`), lit(null))],
  ['eq of two nullable values', () => (p) => cmp('eq', prop(`${p}Industry`), prop(`${p}Parent/Industry`))],
  ['mul ge', (d) => (p) => cmp('ge', arith('mul', prop(`${p}EmployeeCount`), lit(2)), lit(d.employees))],
  ['length gt', () => (p) => cmp('gt', fn('length', prop(`${p}Website`)), lit(20))],
  ['endswith an empty string', () => (p) => fn('endswith', prop(`${p}Address/City`), lit(''))],
  ['gt on a nullable decimal', (d) => (p) => cmp('gt', prop(`${p}Revenue`), lit(d.revenue))],
  // 0.005 away from every value times 3 (two decimals), so binary doubles in the evaluator decide it exactly too
  ['decimal mul lt', (d) => (p) => cmp('lt', arith('mul', prop(`${p}Revenue`), lit(3)), { text: (d.revenue * 3 + 0.005).toFixed(3), eval: () => d.revenue * 3 + 0.005 })],
  ['decimal add null eq null', () => (p) => cmp('eq', arith('add', prop(`${p}Revenue`), lit(null)), lit(null))],
];

interface Placement {
  readonly set: 'Contacts' | 'Companies' | 'Opportunities';
  readonly filter: (atom: (p: string) => Expr) => Expr;
}

/** Where a contact atom is placed: the rows it filters and the filter around it. */
const CONTACT_PLACEMENTS: ReadonlyArray<readonly [string, Placement]> = [
  ['plain', { set: 'Contacts', filter: (a) => a('') }],
  ['not', { set: 'Contacts', filter: (a) => not(a('')) }],
  ['any', { set: 'Companies', filter: (a) => lambda('any', 'Contacts', 'x', a('x/')) }],
  ['not inside any', { set: 'Companies', filter: (a) => lambda('any', 'Contacts', 'x', not(a('x/'))) }],
  ['all', { set: 'Companies', filter: (a) => lambda('all', 'Contacts', 'x', a('x/')) }],
  ['not inside nested any', { set: 'Companies', filter: (a) => lambda('any', 'Opportunities', 'o', lambda('any', 'o/Contacts', 'x', not(a('x/')))) }],
];

const COMPANY_PLACEMENTS: ReadonlyArray<readonly [string, Placement]> = [
  ['plain', { set: 'Companies', filter: (a) => a('') }],
  ['not', { set: 'Companies', filter: (a) => not(a('')) }],
  ['not through a navigation', { set: 'Contacts', filter: (a) => not(a('Company/')) }],
  ['any', { set: 'Opportunities', filter: (a) => lambda('any', 'Companies', 'c', a('c/')) }],
  ['not inside any', { set: 'Opportunities', filter: (a) => lambda('any', 'Companies', 'c', not(a('c/'))) }],
  ['not inside all', { set: 'Opportunities', filter: (a) => lambda('all', 'Companies', 'c', not(a('c/'))) }],
  ['not inside nested any', { set: 'Contacts', filter: (a) => lambda('any', 'Opportunities', 'o', lambda('any', 'o/Companies', 'c', not(a('c/')))) }],
];

interface Case {
  readonly set: Placement['set'];
  readonly filter: (d: Data) => Expr;
}

const matrix = (atoms: ReadonlyArray<readonly [string, Atom]>, placements: ReadonlyArray<readonly [string, Placement]>): Array<[string, Case]> =>
  atoms.flatMap(([atomName, atom]) => placements.map(([where, placement]): [string, Case] => [
    `${atomName}, ${where}`, { set: placement.set, filter: (d) => placement.filter(atom(d)) },
  ]));

/** Cases that are not an atom in a placement: whole conditions that are null, and outer variables. */
const SINGLE: Array<[string, Case]> = [
  ['a null condition selects nothing', { set: 'Contacts', filter: () => lit(null) }],
  ['not of a null condition selects nothing', { set: 'Contacts', filter: () => not(lit(null)) }],
  ['not contains(null, value) selects nothing', { set: 'Contacts', filter: () => not(fn('contains', lit(null), lit('a'))) }],
  ['null eq null', { set: 'Contacts', filter: () => cmp('eq', lit(null), lit(null)) }],
  ['null ge null is false', { set: 'Contacts', filter: () => cmp('ge', lit(null), lit(null)) }],
  ['null in a list', { set: 'Contacts', filter: () => not(inList(lit(null), [lit('a'), lit(null)])) }],
  ['null or false', { set: 'Contacts', filter: () => not(or(fn('contains', prop('JobTitle'), lit('e')), FALSE)) }],
  ['null and false', { set: 'Contacts', filter: () => not(and(fn('contains', prop('JobTitle'), lit('e')), FALSE)) }],
  ['an outer variable compared beneath not', {
    set: 'Companies', filter: () => lambda('any', 'Contacts', 'x', not(cmp('eq', prop('x/HomeAddress/City'), prop('$it/Address/City')))),
  }],
  ['two lambda variables compared beneath not', {
    set: 'Contacts', filter: () => lambda('any', 'Opportunities', 'o', lambda('any', 'o/Contacts', 'x', not(cmp('eq', prop('x/JobTitle'), prop('$it/JobTitle'))))),
  }],
  ['keys of two lambda scopes compared beneath not', {
    set: 'Contacts', filter: () => lambda('any', 'Opportunities', 'o', lambda('any', 'o/Contacts', 'x', not(cmp('eq', prop('x/Id'), prop('$it/Id'))))),
  }],
  ['not any over a null comparison', { set: 'Companies', filter: () => not(lambda('any', 'Contacts', 'x', cmp('gt', prop('x/BirthDate'), date('1980-06-15')))) }],
];

const CASES: Array<[string, Case]> = [
  ...matrix(CONTACT_ATOMS, CONTACT_PLACEMENTS).map(([n, c]): [string, Case] => [`contact: ${n}`, c]),
  ...matrix(COMPANY_ATOMS, COMPANY_PLACEMENTS).map(([n, c]): [string, Case] => [`company: ${n}`, c]),
  ...SINGLE,
];

async function readAll(svc: TestService, path: string): Promise<Mutable[]> {
  return (await allPages(svc, path)).flatMap((p) => p.body.value as Mutable[]);
}

const mostCommon = (values: readonly unknown[]): string[] => {
  const counts = new Map<string, number>();
  for (const v of values) if (typeof v === 'string') counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v]) => v);
};

/** Reads the rows through the service and links navigations in JS (Contact.Company, Company.Contacts, …). */
async function load(svc: TestService): Promise<Data> {
  const users = await readAll(svc, '/Users?$select=Id,Email');
  const companies = await readAll(svc, '/Companies?$select=Id,Name,Revenue,EmployeeCount,Industry,Website,Address,ParentId,OwnerId&$expand=Opportunities($select=Id)');
  const contacts = await readAll(svc, '/Contacts?$select=Id,FirstName,LastName,JobTitle,ContactType,BirthDate,HomeAddress,BusinessAddress,CompanyId&$expand=Opportunities($select=Id)');
  const opportunities = await readAll(svc, '/Opportunities?$select=Id');
  const byId = (rows: Mutable[]) => new Map(rows.map((r) => [r.Id, r]));
  const [userById, companyById, opportunityById] = [byId(users), byId(companies), byId(opportunities)];
  for (const o of opportunities) Object.assign(o, { Contacts: [], Companies: [] });
  const linkOpportunities = (owner: Mutable, side: 'Contacts' | 'Companies') => {
    owner.Opportunities = (owner.Opportunities as Mutable[]).map((ref) => {
      const o = opportunityById.get(ref.Id)!;
      (o[side] as Mutable[]).push(owner);
      return o;
    });
  };
  for (const c of companies) {
    Object.assign(c, { Parent: companyById.get(c.ParentId) ?? null, Owner: userById.get(c.OwnerId) ?? null, Contacts: [] });
    linkOpportunities(c, 'Companies');
  }
  for (const c of contacts) {
    c.Company = companyById.get(c.CompanyId) ?? null;
    if (c.Company) ((c.Company as Mutable).Contacts as Mutable[]).push(c);
    linkOpportunities(c, 'Contacts');
  }
  const employees = companies.map((c) => c.EmployeeCount).filter((n): n is number => typeof n === 'number').sort((a, b) => a - b);
  const revenues = companies.map((c) => c.Revenue).filter((n): n is number => typeof n === 'number').sort((a, b) => a - b);
  const titles = mostCommon(contacts.map((c) => c.JobTitle));
  const industries = mostCommon(companies.map((c) => c.Industry));
  return {
    contacts, companies, opportunities,
    title: titles[0], titles: [titles[0], titles[1]],
    city: mostCommon(contacts.map((c) => (c.HomeAddress as Mutable | null)?.City))[0],
    employees: employees[Math.floor(employees.length / 2)],
    revenue: revenues[Math.floor(revenues.length / 2)],
    industries: [industries[0], industries[1]],
    parentOwnerEmail: mostCommon(companies.map((c) => ((c.Parent as Mutable | null)?.Owner as Mutable | null)?.Email))[0],
  };
}

const ids = (rows: readonly Entity[]): string[] => rows.map((r) => String(r.Id)).sort();

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let data: Data;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 400, pageSize: 1000 });
    data = await load(svc);
  });
  afterAll(() => svc.close());

  it('has nulls where the cases need them (guards the cases against becoming vacuous)', () => {
    const some = (rows: Mutable[], pred: (r: Mutable) => boolean) => rows.some(pred) && !rows.every(pred);
    expect(some(data.contacts, (c) => c.JobTitle === null)).toBe(true);
    expect(some(data.contacts, (c) => c.Company === null)).toBe(true);
    expect(some(data.contacts, (c) => c.HomeAddress === null || (c.HomeAddress as Mutable).City === null)).toBe(true);
    expect(some(data.contacts, (c) => c.ContactType === null)).toBe(true);
    expect(some(data.contacts, (c) => c.BirthDate === null)).toBe(true);
    expect(some(data.companies, (c) => c.EmployeeCount === null)).toBe(true);
    expect(some(data.companies, (c) => c.Revenue === null)).toBe(true);
    expect(some(data.companies, (c) => c.Parent === null)).toBe(true);
    expect(data.companies.some((c) => (c.Contacts as Mutable[]).some((x) => x.JobTitle === null))).toBe(true);
  });

  it.each(CASES)('%s', async (_title, c) => {
    const filter = c.filter(data);
    const rows = c.set === 'Contacts' ? data.contacts : c.set === 'Companies' ? data.companies : data.opportunities;
    const pages = await allPages(svc, `/${c.set}?$select=Id&$filter=${enc(filter.text)}`);
    const actual = ids(pages.flatMap((p) => p.body.value));
    expect({ filter: filter.text, ids: actual }).toEqual({ filter: filter.text, ids: ids(selected(rows, filter)) });
  });

  it('counts the companies whose EmployeeCount is null under not (…le…) (the issue\'s example)', async () => {
    const res = await svc.get(`/Companies/$count?$filter=${enc(`not (EmployeeCount le ${data.employees})`)}`);
    const expected = data.companies.filter((c) => c.EmployeeCount === null || (c.EmployeeCount as number) > data.employees).length;
    expect(data.companies.some((c) => c.EmployeeCount === null)).toBe(true);
    expect(Number(res.text)).toBe(expected);
  });
});
