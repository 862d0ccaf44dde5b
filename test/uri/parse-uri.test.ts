/** Unit tests for the URL entry points: resource paths, query options, $expand, $search, decoding, errors. */
import { uriErrorOf } from '../helpers/errors';
import type { ExpandItem, SearchExpr } from '../../src/uri/ast';
import { parseQueryString, parseResourcePath, parseUri } from '../../src/uri/parse-uri';

const errorOf = uriErrorOf;

const options = (query: string) => parseQueryString(query).options;

function showSearch(e: SearchExpr): string {
  switch (e.kind) {
    case 'term': return e.phrase ? JSON.stringify(e.text) : e.text;
    case 'not': return `(NOT ${showSearch(e.operand)})`;
    default: return `(${showSearch(e.left)} ${e.kind.toUpperCase()} ${showSearch(e.right)})`;
  }
}
const search = (raw: string) => {
  const s = options(`$search=${raw}`).search;
  if (!s) throw new Error('no $search');
  return showSearch(s);
};

/** `Nav(opt,..)` in one line, to compare expand trees */
function showExpand(items: readonly ExpandItem[]): string {
  return items.map((i) => {
    const path = i.path === '*' ? '*' : i.path.map((s) => s.name).join('/');
    const o = i.options;
    const parts = [
      o.filter && 'filter', o.select && `select=${o.select.map((s) => (s.kind === 'all' ? '*' : s.segments.map((p) => p.name).join('/'))).join(',')}`,
      o.orderby && 'orderby', o.top !== undefined && `top=${o.top}`, o.skip !== undefined && `skip=${o.skip}`,
      o.count !== undefined && `count=${o.count}`, o.levels !== undefined && `levels=${o.levels}`, o.search && 'search',
      o.expand && `expand=${showExpand(o.expand)}`,
    ].filter(Boolean);
    return `${path}${i.suffix ? '/' + i.suffix : ''}${parts.length ? `(${parts.join(';')})` : ''}`;
  }).join(',');
}
const expand = (raw: string) => showExpand(options(`$expand=${raw}`).expand ?? []);

describe('resource paths', () => {
  it('parses entity sets, keys, navigation and the $ segments', () => {
    expect(parseResourcePath('/Contacts')).toEqual([{ kind: 'name', name: 'Contacts', position: 1 }]);
    const [set, nav, count] = parseResourcePath('Companies(42)/Contacts/$count');
    expect(set).toEqual({ kind: 'name', name: 'Companies', position: 0, key: { kind: 'single', value: { type: 'Edm.Int32', value: '42' }, position: 10 } });
    expect(nav).toMatchObject({ kind: 'name', name: 'Contacts', position: 14 });
    expect(count).toEqual({ kind: '$count', position: 23 });
    expect(parseResourcePath('Contacts(1)/Photo/$value').map((s) => s.kind)).toEqual(['name', 'name', '$value']);
    expect(parseResourcePath('Contacts(1)/Groups/$ref').map((s) => s.kind)).toEqual(['name', 'name', '$ref']);
  });

  it('parses compound keys and string keys with escaped and encoded characters', () => {
    expect(parseResourcePath("OrderItems(OrderId=1,ItemId='a')")[0]).toMatchObject({
      key: { kind: 'named', pairs: [{ name: 'OrderId', value: { type: 'Edm.Int32', value: '1' } }, { name: 'ItemId', value: { type: 'Edm.String', value: 'a' } }] },
    });
    const key = (path: string) => parseResourcePath(path)[0];
    expect(key("People('O''Neil')")).toMatchObject({ key: { value: { value: "O'Neil" } } });
    expect(key('People(%27O%27%27Neil%27)')).toMatchObject({ key: { value: { value: "O'Neil" } } });
    expect(key("Categories('Smartphone%2FTablet')")).toMatchObject({ key: { value: { value: 'Smartphone/Tablet' } } });
    expect(key("Categories('Tablet%20)small(')")).toMatchObject({ key: { value: { value: 'Tablet )small(' } } });
    expect(key("Files('a+b')")).toMatchObject({ key: { value: { value: 'a+b' } } });
  });

  it('resolves key values given as parameter aliases', () => {
    expect(parseUri('Contacts(@k)', '@k=5').segments[0]).toMatchObject({ key: { kind: 'single', value: { type: 'Edm.Int32', value: '5' } } });
    expect(parseUri('Contacts(Id=@k)', "@k='x'").segments[0]).toMatchObject({ key: { kind: 'named', pairs: [{ name: 'Id', value: { value: 'x' } }] } });
    expect(errorOf(() => parseUri('Contacts(@k)', '')).message).toMatch(/@k has no value/);
    expect(errorOf(() => parseUri('Contacts(@k)', '@k=Name')).message).toMatch(/must be a literal/);
  });

  it.each([
    ["Categories('Smartphone/Tablet')", 22],
    ['Products/$count/foo', 15],
    ['Categories(1)/Products/$ref/$count', 27],
    ['Categories(1)/ID/$value/foo', 23],
    ["OrderItems(OrderId=1;ItemId='a')", undefined],
    ['Categories(ID=wrong)', undefined],
    ['Contacts//Groups', 9],
    ['$unknown', 0],
  ])('rejects %s', (path, position) => {
    const err = errorOf(() => parseResourcePath(path));
    expect(err.code).toBe('SYNTAX_ERROR');
    if (position !== undefined) expect(err.position).toBe(position);
  });
});

describe('query options', () => {
  it('reads $top, $skip, $count, $format, $skiptoken and custom options; names are case-insensitive and $ is optional', () => {
    const parsed = parseQueryString('$top=5&skip=10&$COUNT=true&$format=application/json;odata.metadata=none&$skiptoken=abc&find=O%27Neil&!special');
    expect(parsed.options).toMatchObject({ top: 5, skip: 10, count: true, format: 'application/json;odata.metadata=none', skiptoken: 'abc' });
    expect([...parsed.custom]).toEqual([['find', "O'Neil"], ['!special', '']]);
  });

  it('records valid options the service does not implement yet', () => {
    expect(parseQueryString('$index=1').unsupported).toEqual(['$index']);
    expect(parseQueryString('$apply=aggregate(Amount with sum as Total)').unsupported).toEqual([]);
  });

  it.each([
    ['$top=-1', 'INVALID_QUERY_OPTION'],
    ['$count', 'INVALID_QUERY_OPTION'],
    ['$top=1&$top=2', 'DUPLICATE_QUERY_OPTION'],
    ['@a=1&@a=2', 'DUPLICATE_QUERY_OPTION'],
    ['$filtr=true', 'UNKNOWN_QUERY_OPTION'],
    ['$filter =true', 'UNKNOWN_QUERY_OPTION'],
    ['$filter= true', 'SYNTAX_ERROR'],
    ['$search=#1', 'SYNTAX_ERROR'],
    ['$filter=%E0%A4%A', 'SYNTAX_ERROR'],
  ])('rejects %s with %s', (query, code) => {
    expect(errorOf(() => parseQueryString(query)).code).toBe(code);
  });

  it('keeps + as a plus sign and decodes %20', () => {
    expect(options("$filter=Phone eq '+49%201'").filter).toMatchObject({ right: { literal: { value: '+49 1' } } });
  });

  it('parses $orderby items with asc/desc in any case', () => {
    expect(options('$orderby=LastName DESC,FirstName asc,Created').orderby?.map((o) => o.descending)).toEqual([true, false, false]);
  });

  it('reports positions inside the option value', () => {
    const err = errorOf(() => parseQueryString('$filter=Name eq'));
    expect(err).toMatchObject({ code: 'SYNTAX_ERROR', position: 7, target: '$filter' });
  });
});

describe('$expand', () => {
  it('parses nested options separated by ; with nested parentheses', () => {
    expect(expand('Orders($filter=(Amount gt 1) and (contains(Name,%27(%27));$expand=Items($select=Name,Price;$top=2);$orderby=Date desc)'))
      .toBe('Orders(filter;orderby;expand=Items(select=Name,Price;top=2))');
  });

  it('parses $ref, $count, *, $levels and options without $', () => {
    expect(expand('Company/$ref,Groups/$count($filter=Name eq %27x%27)')).toBe('Company/$ref,Groups/$count(filter)');
    expect(expand('*,*/$ref,*($levels=2),Parent($levels=max)')).toBe('*,*/$ref,*(levels=2),Parent(levels=max)');
    expect(expand('Items(expand=Product;top=1;count=true)')).toBe('Items(top=1;count=true;expand=Product)');
    expect(expand('Address/Country')).toBe('Address/Country');
  });

  it('scopes parameter aliases defined among the nested options', () => {
    const [item] = options('$expand=Orders($filter=Amount gt @min;@min=15)').expand ?? [];
    expect(item.options.filter).toMatchObject({ op: 'gt', right: { kind: 'literal', literal: { value: '15' } } });
  });

  it('tells an encoded ; (part of a value) from a raw one (a separator)', () => {
    const [item] = options('$expand=Manager($search=a%3Bb;$top=1)').expand ?? [];
    expect(item.options.search).toEqual({ kind: 'term', text: 'a;b', phrase: false });
    expect(item.options.top).toBe(1);
  });

  it('also separates options with %3B when a whole $expand value is percent-encoded (ABNF SEMI)', () => {
    expect(expand(encodeURIComponent('Contacts($select=Id;$top=1;@a=1)'))).toBe('Contacts(select=Id;top=1)');
  });

  it.each([
    ['Customer/$ref($levels=4)', /\$levels is not allowed/],
    ['Customer/$ref($select=Name)', /\$select is not allowed/],
    ['Items/$count($count=true)', /\$count is not allowed/],
    ['*($select=Name)', /\$select is not allowed/],
    ['*/$count', /cannot be followed/],
    ['Category($levels=04)', /positive integer/],
    ['Category($levels=0)', /positive integer/],
    ['Manager($search=gr(een)', /expected '\)'/],
    ['Items($skiptoken=x)', /not allowed inside \$expand/],
    ['Items($foo=1)', /Unknown query option/],
  ])('rejects %s', (raw, message) => {
    expect(errorOf(() => options(`$expand=${raw}`)).message).toMatch(message);
  });

  it('maps an error inside a nested option to its position in $expand', () => {
    const err = errorOf(() => options('$expand=Orders($filter=Amount gt)'));
    expect(err.position).toBe(24);
    expect(err.message).toContain('at position 24 in $expand');
  });
});

describe('$search', () => {
  it.each([
    ['blue', 'blue'],
    ['blue green', '(blue AND green)'],
    ['blue AND green', '(blue AND green)'],
    ['blue OR green', '(blue OR green)'],
    ['blue NOT green', '(blue AND (NOT green))'],
    ['NOT blue', '(NOT blue)'],
    ['NOT (blue green)', '(NOT (blue AND green))'],
    ['a OR b c', '(a OR (b AND c))'],
    ['a AND b OR c AND d', '((a AND b) OR (c AND d))'],
    ['(a OR b) c', '((a OR b) AND c)'],
    ['"blue green"', '"blue green"'],
    ['"blue%20green" red', '("blue green" AND red)'],
    ['"say \\"hi\\""', '"say \\"hi\\""'],
    ['AND', 'AND'],
    ['NOT', 'NOT'],
    ['NOT NOT', '(NOT NOT)'],
    ['AND OR', '(AND AND OR)'],
    ['AND OR NOT', '(AND OR NOT)'],
    ['a%3Bb', 'a;b'],
    ["Daniel's", "Daniel's"],
    ['%CE%94', 'Δ'],
    ["'\"blue'", '"\\"blue"'],
    ["'gr(een'", '"gr(een"'],
  ])('reads %s as %s', (raw, tree) => {
    expect(search(raw)).toBe(tree);
  });

  it.each([['a;b'], ['"blue'], ['%22blue'], ['(blue'], ['blue)'], [''], ['""']])('rejects %j', (raw) => {
    expect(errorOf(() => search(raw)).code).toBe('SYNTAX_ERROR');
  });
});
