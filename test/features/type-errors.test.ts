/**
 * Errors: type and syntax errors in query options answer 400 in the OData error shape with the
 * position named; unsupported, wrong-method, unacceptable-format and version errors get their own
 * status; and no malformed query string makes the service fail with a 500.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../helpers/service';
import { enc, prng } from './support';

interface ODataErrorBody {
  error: { code: string; message: string; target?: string; details: unknown[] };
}

function expectODataError(res: TestResponse, status: number, code?: string): ODataErrorBody['error'] {
  expect({ status: res.status, text: res.text }).toEqual({ status, text: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = res.json<ODataErrorBody>();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ code: expect.any(String), message: expect.any(String), target: expect.any(String), details: expect.any(Array) });
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

/**
 * [title, $filter, expected code, zero-based position of the offending token]. Errors found at a binary
 * operator name *some* position ('op'); where exactly is the subject of a separate test below.
 */
const FILTER_ERRORS: readonly (readonly [string, string, string, number | 'op'])[] = [
  ['a string property compared with a number', 'LastName eq 5', 'TYPE_MISMATCH', 'op'],
  ['an unknown property', `NoSuchProperty eq 'x'`, 'UNKNOWN_PROPERTY', 0],
  ['an unknown property after a valid one', `LastName eq 'x' and Nope eq 1`, 'UNKNOWN_PROPERTY', 20],
  ['an unknown member of a complex property', `BusinessAddress/Planet eq 'x'`, 'UNKNOWN_PROPERTY', 16],
  ['a function with an argument of the wrong type', 'contains(LastName,5)', 'INVALID_ARGUMENTS', 0],
  ['a function with the wrong number of arguments', 'startswith(LastName)', 'INVALID_ARGUMENTS', 0],
  ['too many arguments', `substring(LastName,1,2,3) eq 'a'`, 'INVALID_ARGUMENTS', 0],
  ['an unknown function', `frobnicate(LastName) eq 'x'`, 'UNKNOWN_FUNCTION', 0],
  ['an enum compared with a name that is not a member', `ContactType eq 'Martian'`, 'INVALID_LITERAL', 'op'],
  ['a non-Boolean $filter', 'LastName', 'TYPE_MISMATCH', -1],
  ['arithmetic on a string', 'LastName add 1 eq 2', 'TYPE_MISMATCH', 'op'],
  ['and with a non-Boolean operand', `LastName and IsPrivate`, 'TYPE_MISMATCH', 'op'],
  ['a bad date-time literal', 'Created lt 2024-13-45T00:00:00Z', 'SYNTAX_ERROR', 11],
  ['unbalanced parentheses', `(LastName eq 'x'`, 'SYNTAX_ERROR', 16],
  ['an extra closing parenthesis', `LastName eq 'x')`, 'SYNTAX_ERROR', 15],
  ['an unterminated string', `LastName eq 'x`, 'SYNTAX_ERROR', 12],
  ['a dangling operator', 'LastName eq', 'SYNTAX_ERROR', 11],
];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  beforeAll(async () => { svc = await startTestService(engine); });
  afterAll(() => svc.close());

  describe('$filter errors answer 400 naming the position', () => {
    it.each(FILTER_ERRORS)('%s', async (_title, filter, code, position) => {
      const res = await svc.get(`/Contacts?$filter=${enc(filter)}`);
      const error = expectODataError(res, 400, code);
      expect(error.target).toBe('$filter');
      if (position === 'op') expect(error.message).toMatch(/ at position \d+ in \$filter$/);
      else if (position >= 0) expect(error.message).toContain(`position ${position}`);
    });

    it('points at the operator of a mistyped comparison, not at the space before it', async () => {
      // `LastName eq 5`: the operator `eq` starts at position 9
      const error = expectODataError(await svc.get(`/Contacts?$filter=${enc('LastName eq 5')}`), 400, 'TYPE_MISMATCH');
      expect(error.message).toContain('at position 9 in $filter');
    });
  });

  describe('other query option errors', () => {
    it('rejects an unknown $-prefixed system query option', async () => {
      const error = expectODataError(await svc.get('/Contacts?$foo=1'), 400, 'UNKNOWN_QUERY_OPTION');
      expect(error.message).toContain('$foo');
      expect(error.target).toBe('$foo');
    });

    it('passes a custom option without $ through untouched', async () => {
      expect((await svc.get('/Contacts?$top=1&foo=1')).status).toBe(200);
    });

    it('rejects an unknown property in $orderby with its position', async () => {
      const error = expectODataError(await svc.get(`/Contacts?$orderby=${enc('LastName,Nope desc')}`), 400, 'UNKNOWN_PROPERTY');
      expect(error.message).toContain('position 9');
    });

    it('rejects an unknown property in $select', async () => {
      expectODataError(await svc.get('/Contacts?$select=LastName,Nope'), 400, 'UNKNOWN_PROPERTY');
    });

    it('rejects an unknown navigation in $expand', async () => {
      expectODataError(await svc.get('/Contacts?$expand=Nope'), 400, 'UNKNOWN_PROPERTY');
    });

    it('rejects a type error inside a nested $expand $filter with its position in $expand', async () => {
      const error = expectODataError(await svc.get(`/Companies?$expand=${enc('Contacts($filter=LastName eq 5)')}`), 400, 'TYPE_MISMATCH');
      expect(error.message).toMatch(/position \d+/);
    });

    it('rejects a negative or non-numeric $top', async () => {
      expectODataError(await svc.get('/Contacts?$top=-1'), 400, 'INVALID_QUERY_OPTION');
      expectODataError(await svc.get('/Contacts?$top=abc'), 400, 'INVALID_QUERY_OPTION');
    });

    it('rejects a query option given twice', async () => {
      expectODataError(await svc.get('/Contacts?$top=1&$top=2'), 400, 'DUPLICATE_QUERY_OPTION');
    });

    it('rejects an option not allowed on the resource ($top on a single entity)', async () => {
      const id = (await svc.get('/Contacts?$top=1&$select=Id')).json().value[0].Id;
      expectODataError(await svc.get(`/Contacts(${id})?$top=1`), 400, 'QUERY_OPTION_NOT_ALLOWED');
    });
  });

  describe('unsupported features, methods, formats and versions', () => {
    it('answers 501 for a $apply transformation not implemented', async () => {
      expectODataError(await svc.get(`/Contacts?$apply=${enc('concat(identity,identity)')}`), 501, 'NOT_IMPLEMENTED');
    });

    it('answers 405 for DELETE on $metadata', async () => {
      const res = await svc.request('DELETE', '/$metadata');
      expect(res.status).toBe(405);
      expect(res.json().error.code).toBe('METHOD_NOT_ALLOWED');
    });

    it('answers 406 for $format=xml on a collection', async () => {
      const res = await svc.get('/Contacts?$format=xml');
      expect(res.status).toBe(406);
      expect(res.json().error.code).toBe('NOT_ACCEPTABLE');
    });

    it('answers 406 for Accept: text/html on a collection', async () => {
      const res = await svc.get('/Contacts', { Accept: 'text/html' });
      expect(res.status).toBe(406);
      expect(res.json().error.code).toBe('NOT_ACCEPTABLE');
    });

    it('answers 400 for OData-MaxVersion: 3.0', async () => {
      const res = await svc.get('/Contacts?$top=1', { 'OData-MaxVersion': '3.0' });
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe('UNSUPPORTED_VERSION');
      expect(res.headers.get('odata-version')).toBe('4.0');
    });

    it('accepts OData-MaxVersion: 4.01', async () => {
      expect((await svc.get('/Contacts?$top=1', { 'OData-MaxVersion': '4.01' })).status).toBe(200);
    });

    it('answers 404 for an unknown entity set', async () => {
      const res = await svc.get('/Martians');
      expect(res.status).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    });
  });

  describe('malformed input never causes a 500', () => {
    const FRAGMENTS = [
      'LastName', 'FirstName', 'Created', 'BirthDate', 'ContactType', 'IsPrivate', 'Company/Name', 'BusinessAddress/State', 'Groups',
      'eq', 'ne', 'lt', 'gt', 'and', 'or', 'not', 'add', 'sub', 'mul', 'div', 'mod', 'has', 'in', 'any', 'all',
      '(', ')', ',', '/', ':', ';', "'", "''", "'x'", '5', '-1', '1.5', '1e400', '2024-01-01', '2024-02-30', '2024-01-01T00:00:00Z',
      '12:00', 'null', 'true', 'false', 'duration\'P1D\'', "Crm.ContactType'Client'", "Crm.Nope'X'", '00000000-0000-0000-0000-000000000000',
      'contains(', 'length(', 'substring(', 'year(', 'now()', 'cast(', 'isof(', 'g:g/Name', '$it', '$this', '$root', '$count', '@p', '*',
      '%', '%25', '%zz', '\u00e9', '\u{1F600}', '\\', '"', '[', ']', '{', '}', '  ', '\t',
    ];
    const OPTIONS = ['$filter', '$orderby', '$select', '$expand', '$top', '$skip', '$search', '$count', '$skiptoken', '$levels', '$format', '$id', '$apply', 'filter', '$Filter'];
    const PATHS = ['/Contacts', '/Companies', '/Contacts/$count', '/Groups', '/Opportunities'];

    function randomQuery(next: () => number): string {
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
      const parts: string[] = [];
      const options = 1 + Math.floor(next() * 3);
      for (let i = 0; i < options; i++) {
        const words: string[] = [];
        const length = Math.floor(next() * 8);
        for (let j = 0; j < length; j++) words.push(pick(FRAGMENTS));
        const value = words.join(next() < 0.7 ? ' ' : '');
        // mostly well-encoded values, sometimes raw text (invalid percent-encoding included)
        parts.push(`${pick(OPTIONS)}=${next() < 0.8 ? enc(value).replace(/%25(?=z)/g, '%') : value.replace(/[ #&]/g, '+')}`);
      }
      return `${pick(PATHS)}?${parts.join('&')}`;
    }

    it('answers every one of 400 random query strings with a status below 500 or 501', async () => {
      const next = prng(20240601);
      const failures: string[] = [];
      const queries = Array.from({ length: 400 }, () => randomQuery(next));
      for (let i = 0; i < queries.length; i += 20) {
        const batch = queries.slice(i, i + 20);
        const responses = await Promise.all(batch.map((q) => svc.get(q).catch((err: Error) => ({ status: -1, text: err.message }))));
        responses.forEach((res, k) => {
          if (res.status < 200 || (res.status >= 500 && res.status !== 501)) failures.push(`${res.status} ${batch[k]} → ${res.text.slice(0, 200)}`);
        });
      }
      expect(failures).toEqual([]);
    });

    it('answers errors for malformed queries in the OData error shape', async () => {
      const next = prng(7);
      for (let i = 0; i < 50; i++) {
        const q = randomQuery(next);
        const res = await svc.get(q);
        if (res.status >= 400) {
          const body = res.json<ODataErrorBody>();
          expect({ q, code: typeof body.error.code, message: typeof body.error.message, details: Array.isArray(body.error.details) })
            .toEqual({ q, code: 'string', message: 'string', details: true });
        }
      }
    });
  });
});
