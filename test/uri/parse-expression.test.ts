/** Unit tests for the common-expression parser: precedence, lambdas, literals, lists, error positions. */
import { uriErrorOf } from '../helpers/errors';
import type { Expr, Literal } from '../../src/uri/ast';
import { parseExpression } from '../../src/uri/parse-expression';
import { expressionContext } from '../../src/uri/parse-query-options';
import { Scanner } from '../../src/uri/scanner';

function parse(text: string, aliases: Record<string, string> = {}): Expr {
  const s = new Scanner(text, '$filter');
  const expr = parseExpression(s, expressionContext({ aliases: new Map(Object.entries(aliases)), nested: false }));
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest()}'`);
  return expr;
}

function literalText(l: Literal): string {
  switch (l.type) {
    case 'null': return 'null';
    case 'enum': return `${l.typeName}'${l.members.join(',')}'`;
    case 'Edm.String': return `'${l.value}'`;
    default: return String(l.value);
  }
}

/** One-line rendering of a tree, fully parenthesised, so precedence is visible. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal': return literalText(e.literal);
    case 'path': return e.segments.map((s) => s.name).join('/');
    case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'not': return `(not ${show(e.operand)})`;
    case 'negate': return `(-${show(e.operand)})`;
    case 'call': return `${e.name}(${e.args.map(show).join(', ')})`;
    case 'in': return `(${show(e.left)} in [${e.list.map(show).join(', ')}])`;
    case 'lambda': return `${show(e.source)}/${e.op}(${e.variable && e.predicate ? `${e.variable}: ${show(e.predicate)}` : ''})`;
  }
}

const literal = (text: string): Literal => {
  const e = parse(text);
  if (e.kind !== 'literal') throw new Error(`not a literal: ${text}`);
  return e.literal;
};

const errorOf = uriErrorOf;

describe('operator precedence', () => {
  it.each([
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c', '((a and b) or c)'],
    ['a eq 1 and b ne 2', '((a eq 1) and (b ne 2))'],
    ['a add b mul c eq d', '((a add (b mul c)) eq d)'],
    ['a sub b sub c', '((a sub b) sub c)'],
    ['a div b mod c divby d', '(((a div b) mod c) divby d)'],
    ['a lt 1 eq true', '((a lt 1) eq true)'],
    ['-a add b', '((-a) add b)'],
    ['not a eq b', '((not a) eq b)'],
    ['not (a eq b)', '(not (a eq b))'],
    ['(a add b) mul c', '((a add b) mul c)'],
  ])('parses %s as %s', (text, tree) => {
    expect(show(parse(text))).toBe(tree);
  });

  it('binds has and in tighter than any other operator', () => {
    expect(show(parse("Style has Crm.Priority'High' eq true"))).toBe("((Style has Crm.Priority'High') eq true)");
    expect(show(parse('a add b in (1, 2)'))).toBe('(a add (b in [1, 2]))');
    expect(show(parse('not a in (1)'))).toBe('(not (a in [1]))');
    expect(show(parse("-a has X.E'A'"))).toBe("(-(a has X.E'A'))");
  });

  it('reads operators and lambda keywords case-insensitively', () => {
    expect(show(parse("Name EQ 'Milk' AND Price LT 2.55"))).toBe("((Name eq 'Milk') and (Price lt 2.55))");
    expect(show(parse('NOT a Or b'))).toBe('((not a) or b)');
    expect(show(parse('Orders/ANY(o: o/Amount gt 1)'))).toBe('Orders/any(o: (o/Amount gt 1))');
  });

  it('does not take a name that starts with an operator for the operator', () => {
    expect(show(parse('equals eq notes'))).toBe('(equals eq notes)');
    expect(show(parse('a eq b and android'))).toBe('((a eq b) and android)');
  });
});

describe('functions, paths and lambdas', () => {
  it('parses canonical function calls, nested, with spaces', () => {
    expect(show(parse("concat(concat(City, ', '), Country) eq 'x'"))).toBe("(concat(concat(City, ', '), Country) eq 'x')");
    expect(show(parse('now( )'))).toBe('now()');
    expect(show(parse("contains(BusinessAddress/City,'ber')"))).toBe("contains(BusinessAddress/City, 'ber')");
  });

  it('parses $count as the end of a collection path', () => {
    expect(show(parse('Orders/$count gt 2'))).toBe('(Orders/$count gt 2)');
  });

  it('parses nested lambdas with their variables in scope', () => {
    const e = parse('Orders/any(o: o/Items/all(i: i/Quantity gt o/Minimum))');
    expect(show(e)).toBe('Orders/any(o: o/Items/all(i: (i/Quantity gt o/Minimum)))');
  });

  it('accepts any() without a predicate but not all()', () => {
    expect(show(parse('Orders/any()'))).toBe('Orders/any()');
    expect(errorOf(() => parse('Orders/all()')).code).toBe('SYNTAX_ERROR');
  });

  it('rejects any/all without a collection path, and a lambda variable already in scope', () => {
    expect(errorOf(() => parse('any()')).position).toBe(0);
    expect(errorOf(() => parse('all(x: true)')).position).toBe(0);
    expect(errorOf(() => parse('A/any(x: x/B/any(x: true))')).message).toMatch(/already in scope/);
  });
});

describe('literals', () => {
  it.each<[string, Literal]>([
    ['null', { type: 'null' }],
    ['true', { type: 'Edm.Boolean', value: true }],
    ['false', { type: 'Edm.Boolean', value: false }],
    ["'O''Neil'", { type: 'Edm.String', value: "O'Neil" }],
    ["''''", { type: 'Edm.String', value: "'" }],
    ["''", { type: 'Edm.String', value: '' }],
    ['42', { type: 'Edm.Int32', value: '42' }],
    ['-2147483648', { type: 'Edm.Int32', value: '-2147483648' }],
    ['2147483648', { type: 'Edm.Int64', value: '2147483648' }],
    ['9007199254740993', { type: 'Edm.Int64', value: '9007199254740993' }],
    ['-9223372036854775808', { type: 'Edm.Int64', value: '-9223372036854775808' }],
    ['12L', { type: 'Edm.Int64', value: '12' }],
    ['2.55', { type: 'Edm.Decimal', value: '2.55' }],
    ['99.99m', { type: 'Edm.Decimal', value: '99.99' }],
    ['1.5e3', { type: 'Edm.Double', value: '1.5e3' }],
    ['2.0d', { type: 'Edm.Double', value: '2.0' }],
    ['INF', { type: 'Edm.Double', value: 'INF' }],
    ['-INF', { type: 'Edm.Double', value: '-INF' }],
    ['NaN', { type: 'Edm.Double', value: 'NaN' }],
    ['01234567-89AB-CDEF-0123-456789ABCDEF', { type: 'Edm.Guid', value: '01234567-89ab-cdef-0123-456789abcdef' }],
    ['2024-02-29', { type: 'Edm.Date', value: '2024-02-29' }],
    ['13:45', { type: 'Edm.TimeOfDay', value: '13:45:00.000' }],
    ['23:59:59.1234567', { type: 'Edm.TimeOfDay', value: '23:59:59.123' }],
    ['2024-01-01T00:30:00+01:00', { type: 'Edm.DateTimeOffset', value: '2023-12-31T23:30:00.000Z' }],
    ['2024-03-10T12:00:00-05:30', { type: 'Edm.DateTimeOffset', value: '2024-03-10T17:30:00.000Z' }],
    ['2024-06-30T23:59:59.999Z', { type: 'Edm.DateTimeOffset', value: '2024-06-30T23:59:59.999Z' }],
    ['2024-06-30T10:00Z', { type: 'Edm.DateTimeOffset', value: '2024-06-30T10:00:00.000Z' }],
    ["duration'P1DT2H3M4.5S'", { type: 'Edm.Duration', value: 'P1DT2H3M4.5S', milliseconds: 93_784_500 }],
    ["duration'-PT1H'", { type: 'Edm.Duration', value: '-PT1H', milliseconds: -3_600_000 }],
    ["Crm.Priority'High'", { type: 'enum', typeName: 'Crm.Priority', members: ['High'] }],
    ["Crm.Flags'A,B'", { type: 'enum', typeName: 'Crm.Flags', members: ['A', 'B'] }],
    ["Sales.Pattern'32'", { type: 'enum', typeName: 'Sales.Pattern', members: ['32'] }],
  ])('reads %s', (text, expected) => {
    expect(literal(text)).toEqual(expected);
  });

  it('converts date-time offsets to UTC without the local time zone', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['Pacific/Chatham', 'America/St_Johns', 'UTC']) {
        process.env.TZ = tz;
        expect(literal('2024-03-31T02:30:00+02:00')).toEqual({ type: 'Edm.DateTimeOffset', value: '2024-03-31T00:30:00.000Z' });
        expect(literal('0001-01-01T00:00:00+00:01')).toEqual({ type: 'Edm.DateTimeOffset', value: '0000-12-31T23:59:00.000Z' });
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it.each([
    ['2023-02-29', /invalid date/],
    ['2024-01-01T24:00:00Z', /invalid date-time/],
    ["duration'P'", /invalid duration/],
    ["duration'1H'", /invalid duration/],
    ["'unterminated", /unterminated string/],
    ["binary'AAEC'", /not supported/],
  ])('rejects %s', (text, message) => {
    expect(errorOf(() => parse(text)).message).toMatch(message);
  });
});

describe('in lists and parameter aliases', () => {
  it('reads literal lists, an empty list, a JSON array and a single parenthesised operand', () => {
    expect(show(parse("Name in ('Milk', 'Cheese')"))).toBe("(Name in ['Milk', 'Cheese'])");
    expect(show(parse('Name in ()'))).toBe('(Name in [])');
    expect(show(parse('Name in ["Milk","Cheese"]'))).toBe("(Name in ['Milk', 'Cheese'])");
    expect(show(parse('FirstName in (FirstName)'))).toBe('(FirstName in [FirstName])');
  });

  it('rejects non-literal list items and lists outside in, at the offending position', () => {
    expect(errorOf(() => parse('FirstName in (FirstName,LastName)')).position).toBe(23);
    expect(errorOf(() => parse("Name in ('a', LastName)")).position).toBe(14);
    expect(errorOf(() => parse("EmailAddresses eq ('Miller','Smith')")).position).toBe(27);
  });

  it('substitutes parameter aliases, including lists for in', () => {
    expect(show(parse('Name eq @p', { '@p': "'Gates'" }))).toBe("(Name eq 'Gates')");
    expect(show(parse('Id in @ids', { '@ids': '(1,2,3)' }))).toBe('(Id in [1, 2, 3])');
    expect(show(parse('Price gt @x', { '@x': '5 add 3' }))).toBe('(Price gt (5 add 3))');
    expect(errorOf(() => parse('Name eq @missing')).message).toMatch(/@missing has no value/);
  });
});

describe('error positions', () => {
  it.each([
    ['', 0],
    ['Name eq', 7],
    ['(Name eq 1', 10],
    ["Name eq 'x' and", 15],
    ['Name eqx 1', 5],
    ['contains(Name,', 14],
    ['Name eq #', 8],
  ])('reports where %j goes wrong (position %d)', (text, position) => {
    const err = errorOf(() => parse(text));
    expect(err.code).toBe('SYNTAX_ERROR');
    expect(err.position).toBe(position);
    expect(err.message).toContain(`at position ${position}`);
  });
});

describe('node positions', () => {
  it('places an operation at its operator, not at the space before it', () => {
    const e = parse('LastName  eq 5 and Tags has X.E\'A\' and Id in (1)');
    expect(e).toMatchObject({ kind: 'binary', op: 'and', position: 35, left: { op: 'and', position: 15, left: { op: 'eq', position: 10 }, right: { op: 'has', position: 24 } }, right: { kind: 'in', position: 42 } });
  });
});
