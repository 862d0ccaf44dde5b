/**
 * Edm.Decimal is exact on every engine: arithmetic filters, round/floor/ceiling, comparisons, ordering
 * and sums over the seeded data give what an exact decimal computation in JS (BigInt, below; it shares
 * no code with the service) gives over the values read back, and SQLite and PostgreSQL agree with each
 * other; written values read back digit for digit.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc, type Row } from './support';

/** value = units / 10^scale */
interface Dec { readonly units: bigint; readonly scale: number }

function dec(text: string): Dec {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const fraction = m[3] ?? '';
  const units = BigInt(m[2] + fraction);
  return { units: m[1] ? -units : units, scale: fraction.length };
}
const p10 = (n: number) => 10n ** BigInt(n);
function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const s = Math.max(a.scale, b.scale);
  return [a.units * p10(s - a.scale), b.units * p10(s - b.scale), s];
}
const add = (a: Dec, b: Dec): Dec => { const [x, y, scale] = align(a, b); return { units: x + y, scale }; };
const sub = (a: Dec, b: Dec): Dec => { const [x, y, scale] = align(a, b); return { units: x - y, scale }; };
const mul = (a: Dec, b: Dec): Dec => ({ units: a.units * b.units, scale: a.scale + b.scale });
const mod = (a: Dec, b: Dec): Dec => { const [x, y, scale] = align(a, b); return { units: x % y, scale }; };
/** the service's documented quotient: truncated to 20 fractional digits */
const div = (a: Dec, b: Dec): Dec => {
  const [x, y] = align(a, b);
  return { units: (x * p10(20)) / y, scale: 20 };
};
const cmp = (a: Dec, b: Dec): number => { const [x, y] = align(a, b); return x < y ? -1 : x > y ? 1 : 0; };
function toInteger(a: Dec, mode: 'round' | 'floor' | 'ceiling'): Dec {
  const d = p10(a.scale);
  const q = a.units / d;
  const r = a.units % d;
  if (r === 0n) return { units: q, scale: 0 };
  if (mode === 'floor') return { units: r < 0n ? q - 1n : q, scale: 0 };
  if (mode === 'ceiling') return { units: r > 0n ? q + 1n : q, scale: 0 };
  const away = (r < 0n ? -r : r) * 2n >= d;
  return { units: away ? (r < 0n ? q - 1n : q + 1n) : q, scale: 0 };
}
function text(a: Dec): string {
  const negative = a.units < 0n;
  let digits = (negative ? -a.units : a.units).toString().padStart(a.scale + 1, '0');
  let out = a.scale === 0 ? digits : `${digits.slice(0, -a.scale)}.${digits.slice(-a.scale)}`;
  if (a.scale > 0) out = out.replace(/0+$/, '').replace(/\.$/, '');
  digits = out;
  return negative && digits !== '0' ? `-${digits}` : digits;
}
const eq = (a: Dec, b: Dec) => cmp(a, b) === 0;

const IEEE754 = { Accept: 'application/json;IEEE754Compatible=true' };

interface Data {
  readonly companies: Row[];
  readonly opportunities: Row[];
  readonly lines: Row[];
  readonly products: Row[];
}

/** Decimals as the exact strings IEEE754Compatible=true gives. */
async function read(svc: TestService, path: string): Promise<Row[]> {
  return (await allPages(svc, path, IEEE754)).flatMap((p) => p.body.value);
}

const value = (r: Row, name: string): Dec | null => (r[name] === null ? null : dec(String(r[name])));
const sampleOf = (rows: Row[], name: string, n: number): Dec => value(rows.filter((r) => r[name] !== null)[n], name)!;

type Set = 'Companies' | 'Opportunities' | 'OpportunityProducts' | 'Products';
interface Case {
  readonly set: Set;
  readonly filter: (d: Data) => string;
  readonly expected: (r: Row, d: Data) => boolean;
}

/** a predicate over non-null operands (null arithmetic and comparisons select nothing) */
const over = (names: string[], f: (...v: Dec[]) => boolean) => (r: Row) => {
  const values = names.map((n) => value(r, n));
  return values.every((v) => v !== null) && f(...(values as Dec[]));
};

const CASES: Case[] = [
  { set: 'Companies', filter: () => 'Revenue mul 3 lt 1060883444.34', expected: over(['Revenue'], (v) => cmp(mul(v, dec('3')), dec('1060883444.34')) < 0) },
  { set: 'Companies', filter: (d) => `Revenue mul 3 eq ${text(mul(sampleOf(d.companies, 'Revenue', 3), dec('3')))}`, expected: (r, d) => over(['Revenue'], (v) => eq(mul(v, dec('3')), mul(sampleOf(d.companies, 'Revenue', 3), dec('3'))))(r) },
  { set: 'Companies', filter: () => 'Revenue add 0.1 gt 250000000.35', expected: over(['Revenue'], (v) => cmp(add(v, dec('0.1')), dec('250000000.35')) > 0) },
  { set: 'Companies', filter: (d) => `Revenue add 0.1 eq ${text(add(sampleOf(d.companies, 'Revenue', 5), dec('0.1')))}`, expected: (r, d) => over(['Revenue'], (v) => eq(add(v, dec('0.1')), add(sampleOf(d.companies, 'Revenue', 5), dec('0.1'))))(r) },
  { set: 'Companies', filter: () => 'Revenue sub 1000.01 le 99999999.99', expected: over(['Revenue'], (v) => cmp(sub(v, dec('1000.01')), dec('99999999.99')) <= 0) },
  { set: 'Companies', filter: () => 'Revenue div 3 ge 66666666.67', expected: over(['Revenue'], (v) => cmp(div(v, dec('3')), dec('66666666.67')) >= 0) },
  { set: 'Companies', filter: () => 'Revenue divby 7 lt 12345678.9', expected: over(['Revenue'], (v) => cmp(div(v, dec('7')), dec('12345678.9')) < 0) },
  { set: 'Companies', filter: () => 'Revenue mod 3 eq 1', expected: over(['Revenue'], (v) => eq(mod(v, dec('3')), dec('1'))) },
  { set: 'Companies', filter: () => 'Revenue mod 3 gt 1.5', expected: over(['Revenue'], (v) => cmp(mod(v, dec('3')), dec('1.5')) > 0) },
  { set: 'Companies', filter: () => 'Revenue mod 0.25 eq 0.05', expected: over(['Revenue'], (v) => eq(mod(v, dec('0.25')), dec('0.05'))) },
  { set: 'Companies', filter: () => '-Revenue lt -300000000.5', expected: over(['Revenue'], (v) => cmp({ units: -v.units, scale: v.scale }, dec('-300000000.5')) < 0) },
  { set: 'Companies', filter: (d) => `round(Revenue) eq ${text(toInteger(sampleOf(d.companies, 'Revenue', 7), 'round'))}`, expected: (r, d) => over(['Revenue'], (v) => eq(toInteger(v, 'round'), toInteger(sampleOf(d.companies, 'Revenue', 7), 'round')))(r) },
  { set: 'Companies', filter: () => 'round(Revenue div 1000) gt 150000', expected: over(['Revenue'], (v) => cmp(toInteger(div(v, dec('1000')), 'round'), dec('150000')) > 0) },
  { set: 'Companies', filter: () => 'floor(Revenue) lt Revenue', expected: over(['Revenue'], (v) => cmp(toInteger(v, 'floor'), v) < 0) },
  { set: 'Companies', filter: () => 'Revenue ne null and ceiling(Revenue mul 0.001) eq floor(Revenue mul 0.001) add 1', expected: over(['Revenue'], (v) => eq(toInteger(mul(v, dec('0.001')), 'ceiling'), add(toInteger(mul(v, dec('0.001')), 'floor'), dec('1')))) },
  { set: 'Companies', filter: (d) => `Revenue eq ${text(sampleOf(d.companies, 'Revenue', 2))}`, expected: (r, d) => over(['Revenue'], (v) => eq(v, sampleOf(d.companies, 'Revenue', 2)))(r) },
  { set: 'Companies', filter: (d) => `Revenue in (${text(sampleOf(d.companies, 'Revenue', 1))}, ${text(sampleOf(d.companies, 'Revenue', 4))}, 7)`, expected: (r, d) => over(['Revenue'], (v) => [sampleOf(d.companies, 'Revenue', 1), sampleOf(d.companies, 'Revenue', 4), dec('7')].some((x) => eq(v, x)))(r) },
  { set: 'Companies', filter: (d) => `Revenue ge ${text(sampleOf(d.companies, 'Revenue', 6))}`, expected: (r, d) => over(['Revenue'], (v) => cmp(v, sampleOf(d.companies, 'Revenue', 6)) >= 0)(r) },
  { set: 'Companies', filter: () => 'Revenue gt EmployeeCount mul 1000', expected: (r) => over(['Revenue'], (v) => r.EmployeeCount !== null && cmp(v, mul(dec(String(r.EmployeeCount)), dec('1000'))) > 0)(r) },
  { set: 'Opportunities', filter: () => 'Amount div 10 ne 10752.61935', expected: over(['Amount'], (v) => !eq(div(v, dec('10')), dec('10752.61935'))) },
  { set: 'Opportunities', filter: (d) => `Amount div 10 eq ${text(div(sampleOf(d.opportunities, 'Amount', 3), dec('10')))}`, expected: (r, d) => over(['Amount'], (v) => eq(div(v, dec('10')), div(sampleOf(d.opportunities, 'Amount', 3), dec('10'))))(r) },
  { set: 'Opportunities', filter: () => 'Amount mul 0.15 gt 12345.6789', expected: over(['Amount'], (v) => cmp(mul(v, dec('0.15')), dec('12345.6789')) > 0) },
  { set: 'Opportunities', filter: () => 'Amount mod 100 lt 50.5', expected: over(['Amount'], (v) => cmp(mod(v, dec('100')), dec('50.5')) < 0) },
  { set: 'OpportunityProducts', filter: () => 'Quantity mul Price sub Total gt 0', expected: over(['Quantity', 'Price', 'Total'], (q, p, t) => cmp(sub(mul(q, p), t), dec('0')) > 0) },
  { set: 'OpportunityProducts', filter: () => 'Quantity mul Price mul (100 sub Discount) div 100 eq Total', expected: over(['Quantity', 'Price', 'Discount', 'Total'], (q, p, disc, t) => eq(div(mul(mul(q, p), sub(dec('100'), disc)), dec('100')), t)) },
  { set: 'OpportunityProducts', filter: () => 'Price div Quantity lt 75.125', expected: over(['Price', 'Quantity'], (p, q) => cmp(div(p, q), dec('75.125')) < 0) },
  { set: 'OpportunityProducts', filter: () => 'Quantity mod 2 eq 1', expected: over(['Quantity'], (q) => eq(mod(q, dec('2')), dec('1'))) },
  { set: 'Products', filter: () => 'Price add Price eq Price mul 2', expected: over(['Price'], () => true) },
  { set: 'Products', filter: () => 'Price mul 1.1 le 110.11', expected: over(['Price'], (p) => cmp(mul(p, dec('1.1')), dec('110.11')) <= 0) },
];

const ROWS: Record<Set, (d: Data) => Row[]> = {
  Companies: (d) => d.companies, Opportunities: (d) => d.opportunities, OpportunityProducts: (d) => d.lines, Products: (d) => d.products,
};

/** Per engine, the ids every case selected and the sums: compared across engines at the end. */
const answers = new Map<string, Record<string, unknown>>();

for (const engine of ENGINES) {
  describe(`Edm.Decimal is exact (${engine.name})`, () => {
    let svc: TestService;
    let data: Data;
    const answer: Record<string, unknown> = {};
    beforeAll(async () => {
      svc = await startTestService(engine);
      data = {
        companies: await read(svc, '/Companies?$select=Id,Revenue,EmployeeCount'),
        opportunities: await read(svc, '/Opportunities?$select=Id,Amount,Status'),
        lines: await read(svc, '/OpportunityProducts?$select=Id,Quantity,Price,Discount,Total,OpportunityId'),
        products: await read(svc, '/Products?$select=Id,Price'),
      };
      answers.set(engine.name, answer);
      answer.values = { companies: data.companies, opportunities: data.opportunities, lines: data.lines };
    }, 120_000);
    afterAll(async () => svc?.close());

    it('reads the seeded decimals as exact text with IEEE754Compatible, as numbers without', async () => {
      expect(data.companies.filter((c) => c.Revenue !== null).length).toBeGreaterThan(10);
      for (const c of data.companies) if (c.Revenue !== null) expect(String(c.Revenue)).toBe(text(dec(String(c.Revenue))));
      const plain = (await svc.get('/Companies?$select=Id,Revenue&$top=20')).json<{ value: Row[] }>().value;
      for (const c of plain) {
        const exact = data.companies.find((x) => x.Id === c.Id)!.Revenue;
        expect(c.Revenue).toBe(exact === null ? null : Number(exact));
      }
    });

    it.each(CASES.map((c, i) => [i, c.set, c] as const))('case %i on %s', async (i, set, c) => {
      const filter = c.filter(data);
      const expected = ROWS[set](data).filter((r) => c.expected(r, data)).map((r) => String(r.Id)).sort();
      const got = (await read(svc, `/${set}?$select=Id&$filter=${enc(filter)}`)).map((r) => String(r.Id)).sort();
      expect({ filter, ids: got }).toEqual({ filter, ids: expected });
      answer[`case ${i}: ${filter}`] = got;
    });

    it('every filter case selects some rows and leaves some out somewhere (the cases can fail)', () => {
      const selected = CASES.map((c) => ROWS[c.set](data).filter((r) => c.expected(r, data)).length);
      expect(selected.filter((n) => n > 0).length).toBeGreaterThan(CASES.length * 0.7);
    });

    it('orders by a decimal exactly, across keyset pages', async () => {
      const rows = (await allPages(svc, '/Companies?$select=Id,Revenue&$orderby=Revenue desc,Id', { ...IEEE754, Prefer: 'odata.maxpagesize=7' })).flatMap((p) => p.body.value);
      const expected = [...data.companies].sort((a, b) => {
        const x = value(a, 'Revenue');
        const y = value(b, 'Revenue');
        if (x === null || y === null) return x === y ? String(a.Id) < String(b.Id) ? -1 : 1 : x === null ? 1 : -1;
        return cmp(y, x) || (String(a.Id) < String(b.Id) ? -1 : 1);
      });
      expect(rows.map((r) => r.Id)).toEqual(expected.map((r) => r.Id));
      const byExpression = (await read(svc, '/OpportunityProducts?$select=Id&$orderby=Price mul Quantity,Id')).map((r) => r.Id);
      const lines = [...data.lines].sort((a, b) => cmp(mul(value(a, 'Price')!, value(a, 'Quantity')!), mul(value(b, 'Price')!, value(b, 'Quantity')!)) || (String(a.Id) < String(b.Id) ? -1 : 1));
      expect(byExpression).toEqual(lines.map((r) => r.Id));
    });

    it('sums exactly: Amount = Σ Total per opportunity, and Crm.TotalAmount over many rows', async () => {
      for (const o of data.opportunities) {
        const total = data.lines.filter((l) => l.OpportunityId === o.Id).reduce((s, l) => add(s, value(l, 'Total')!), dec('0'));
        expect([o.Id, String(o.Amount)]).toEqual([o.Id, text(total)]);
      }
      const statuses = ['Open', 'Won', 'Lost', 'Inactive'];
      for (const [i, status] of statuses.entries()) {
        const res = await svc.get(`/Opportunities/Crm.TotalAmount(Status=Crm.OpportunityStatus'${status}')`, IEEE754);
        expect(res.status).toBe(200);
        const expected = data.opportunities.filter((o) => Number(o.Status) === i || o.Status === status).reduce((s, o) => add(s, value(o, 'Amount')!), dec('0'));
        expect([status, res.json().value]).toEqual([status, text(expected)]);
        answer[`TotalAmount ${status}`] = res.json().value;
      }
    });

    it('reads written values back digit for digit, rounded to the scale as numeric(19,4) rounds', async () => {
      const writes: [unknown, string][] = [
        [0.3, '0.3'], ['123456789012345.6789', '123456789012345.6789'], ['-99999999999999.9999', '-99999999999999.9999'],
        ['1.23455', '1.2346'], ['-1.23455', '-1.2346'], ['0.00005', '0.0001'], ['1e3', '1000'], [7, '7'],
      ];
      const headers = { 'Content-Type': 'application/json;IEEE754Compatible=true', ...IEEE754 };
      for (const [input, expected] of writes) {
        const created = await svc.request('POST', '/Companies', { headers, body: JSON.stringify({ Name: `Exact ${String(input)}`, Revenue: input }) });
        expect([input, created.status, created.json().Revenue]).toEqual([input, 201, expected]);
        const back = await svc.get(`/Companies(${created.json().Id})?$select=Revenue`, IEEE754);
        expect([input, back.json().Revenue]).toEqual([input, expected]);
        const found = await svc.get(`/Companies?$select=Id&$filter=${enc(`Revenue eq ${expected}`)}`);
        expect(found.json().value.map((r: Row) => r.Id)).toContain(created.json().Id);
      }
      const sum = await svc.get(`/Companies?$select=Id&$filter=${enc('Revenue eq 0.1 add 0.2 and Revenue sub 0.2 eq 0.1')}`);
      expect(sum.json().value.length).toBeGreaterThanOrEqual(1);
      const tooLarge = await svc.request('POST', '/Companies', { headers, body: JSON.stringify({ Name: 'Too large', Revenue: '1234567890123456' }) });
      expect(tooLarge.status).toBe(400);
    });

    it('computes a product line Total exactly and the opportunity Amount from it', async () => {
      const opportunity = data.opportunities[0];
      const product = data.products[0];
      const headers = { 'Content-Type': 'application/json;IEEE754Compatible=true', ...IEEE754 };
      const line = await svc.request('POST', '/OpportunityProducts', {
        headers, body: JSON.stringify({ OpportunityId: opportunity.Id, ProductId: product.Id, Quantity: '3', Price: '0.1', Discount: '33.3333' }),
      });
      expect(line.status).toBe(201);
      // 3 × 0.1 × (100 − 33.3333) / 100 = 0.200000100 → 0.2000 (scale 4)
      expect(line.json().Total).toBe('0.2');
      const lines = await read(svc, `/OpportunityProducts?$select=Total&$filter=OpportunityId eq ${opportunity.Id}`);
      const expected = lines.reduce((s, l) => add(s, value(l, 'Total')!), dec('0'));
      const after = await svc.get(`/Opportunities(${opportunity.Id})?$select=Amount`, IEEE754);
      expect(after.json().Amount).toBe(text(expected));
      expect(text(sub(dec(after.json().Amount), value(opportunity, 'Amount')!))).toBe('0.2');
    });
  });
}

describe('SQLite and PostgreSQL agree on decimals', () => {
  it('the same values, the same rows for every filter, the same sums', () => {
    if (answers.size < 2) {
      expect(ENGINES.length).toBe(1); // set ODATA_TEST_PG_URL to compare the engines
      return;
    }
    const [first, second] = [...answers.values()];
    expect(second).toEqual(first);
  });
});
