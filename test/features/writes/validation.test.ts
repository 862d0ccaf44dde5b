/** Validation of request bodies: 400 VALIDATION_FAILED with one detail per field error, and nothing written. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import {
  countsOf, expectError, expectStatus, expectValidation, insertCompany, insertContact, insertGroup, insertProduct, MISSING, post, rowOf,
} from './write-support';

const WRITTEN = ['Contacts', 'Companies', 'Opportunities', 'OpportunityProducts', 'Contact_Group', 'Contact_Opportunity'];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** POSTs a body that must be refused with exactly these details, and checks no table grew. */
  async function refused(path: string, body: unknown, expected: { code: string; target: string }[]): Promise<void> {
    const before = await countsOf(svc, WRITTEN);
    expectValidation(await post(svc, path, body), expected);
    expect(await countsOf(svc, WRITTEN)).toEqual(before);
  }

  describe('TYPE_MISMATCH', () => {
    it('a string for a Boolean', () => refused('/Contacts', { LastName: 'V', IsPrivate: 'yes' }, [{ code: 'TYPE_MISMATCH', target: 'IsPrivate' }]));
    it('a string for an Int32', () => refused('/Companies', { Name: 'V', EmployeeCount: 'many' }, [{ code: 'TYPE_MISMATCH', target: 'EmployeeCount' }]));
    it('a fraction for an Int32', () => refused('/Companies', { Name: 'V', EmployeeCount: 1.5 }, [{ code: 'TYPE_MISMATCH', target: 'EmployeeCount' }]));
    it('an Int32 above the range', () => refused('/Companies', { Name: 'V', EmployeeCount: 2147483648 }, [{ code: 'TYPE_MISMATCH', target: 'EmployeeCount' }]));
    it('an Int32 below the range', () => refused('/Companies', { Name: 'V', EmployeeCount: -2147483649 }, [{ code: 'TYPE_MISMATCH', target: 'EmployeeCount' }]));
    it('a text that is not a date', () => refused('/Contacts', { LastName: 'V', BirthDate: 'not a date' }, [{ code: 'TYPE_MISMATCH', target: 'BirthDate' }]));
    it('a text that is not a GUID', () => refused('/Contacts', { LastName: 'V', CompanyId: 'not-a-guid' }, [{ code: 'TYPE_MISMATCH', target: 'CompanyId' }]));
    it('an object for a string', () => refused('/Contacts', { LastName: { x: 1 } }, [{ code: 'TYPE_MISMATCH', target: 'LastName' }]));

    it('accepts the Int32 bounds themselves', async () => {
      const res = await post(svc, '/Companies', { Name: 'Max Co', EmployeeCount: 2147483647 });
      expectStatus(res, 201);
      expect(Number((await rowOf(svc, 'Companies', res.json().Id))!.EmployeeCount)).toBe(2147483647);
    });
  });

  describe('NULL_NOT_ALLOWED', () => {
    it('null for a non-nullable property', () => refused('/Companies', { Name: null }, [{ code: 'NULL_NOT_ALLOWED', target: 'Name' }]));
    it('a missing non-nullable property without default', () => refused('/Companies', { Industry: 'Nameless' }, [{ code: 'NULL_NOT_ALLOWED', target: 'Name' }]));
  });

  describe('TOO_LONG', () => {
    it('a string over MaxLength', () => refused('/Contacts', { FirstName: 'x'.repeat(101), LastName: 'V' }, [{ code: 'TOO_LONG', target: 'FirstName' }]));
    it('a complex member over MaxLength, with its path', () =>
      refused('/Contacts', { LastName: 'V', BusinessAddress: { City: 'c'.repeat(101) } }, [{ code: 'TOO_LONG', target: 'BusinessAddress/City' }]));

    it('accepts a string of exactly MaxLength', async () => {
      const res = await post(svc, '/Contacts', { FirstName: 'y'.repeat(100), LastName: 'Edge' });
      expectStatus(res, 201);
      expect((await rowOf(svc, 'Contacts', res.json().Id))!.FirstName).toBe('y'.repeat(100));
    });
  });

  describe('UNKNOWN_ENUM_MEMBER', () => {
    it('a name that is not a member', () => refused('/Contacts', { LastName: 'V', ContactType: 'Friend' }, [{ code: 'UNKNOWN_ENUM_MEMBER', target: 'ContactType' }]));

    it('accepts a member name and stores its value', async () => {
      const res = await post(svc, '/Contacts', { LastName: 'Enum', ContactType: 'PastClient' });
      expectStatus(res, 201);
      expect(res.json().ContactType).toBe('PastClient');
      expect(Number((await rowOf(svc, 'Contacts', res.json().Id))!.ContactType)).toBe(1);
    });
  });

  describe('UNKNOWN_PROPERTY', () => {
    it('a property not in the type', () => refused('/Contacts', { LastName: 'V', Nickname: 'x' }, [{ code: 'UNKNOWN_PROPERTY', target: 'Nickname' }]));

    it('an unknown navigation in X@odata.bind', async () => {
      const company = await insertCompany(svc);
      const before = await countsOf(svc, WRITTEN);
      const error = expectError(await post(svc, '/Contacts', { LastName: 'V', 'Employer@odata.bind': `Companies(${company})` }), 400, 'VALIDATION_FAILED');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].code).toBe('UNKNOWN_PROPERTY');
      expect(error.details[0].target).toMatch(/^Employer/);
      expect(await countsOf(svc, WRITTEN)).toEqual(before);
    });
  });

  describe('BIND_NOT_FOUND', () => {
    it('a bind to a key that does not exist', () =>
      refused('/Contacts', { LastName: 'V', 'Company@odata.bind': `Companies(${MISSING})` }, [{ code: 'BIND_NOT_FOUND', target: 'Company@odata.bind' }]));

    it('a bind to an entity of the wrong entity set', async () => {
      const group = await insertGroup(svc);
      await refused('/Contacts', { LastName: 'V', 'Company@odata.bind': `Groups(${group})` }, [{ code: 'BIND_NOT_FOUND', target: 'Company@odata.bind' }]);
    });

    it('a collection bind where one key does not exist links nothing', async () => {
      const group = await insertGroup(svc);
      const before = await countsOf(svc, WRITTEN);
      const error = expectError(await post(svc, '/Contacts', { LastName: 'V', 'Groups@odata.bind': [`Groups(${group})`, `Groups(${MISSING})`] }), 400, 'VALIDATION_FAILED');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].code).toBe('BIND_NOT_FOUND');
      // the target names the annotation, optionally with the index of the failing entry
      expect(['Groups@odata.bind', 'Groups@odata.bind/1']).toContain(error.details[0].target);
      expect(await countsOf(svc, WRITTEN)).toEqual(before);
    });
  });

  describe('several errors and deep inserts', () => {
    it('reports every field error of one body', () =>
      refused('/Contacts', { FirstName: 'z'.repeat(150), IsPrivate: 'yes', ContactType: 'Friend' }, [
        { code: 'TOO_LONG', target: 'FirstName' },
        { code: 'TYPE_MISMATCH', target: 'IsPrivate' },
        { code: 'UNKNOWN_ENUM_MEMBER', target: 'ContactType' },
      ]));

    it('prefixes a nested error with the navigation and index', async () => {
      const p = await insertProduct(svc);
      await refused('/Opportunities', {
        Name: 'Nested error',
        Products: [{ ProductId: p, Quantity: 1, Price: 5 }, { ProductId: p, Quantity: 'two', Price: 5 }],
      }, [{ code: 'TYPE_MISMATCH', target: 'Products/1/Quantity' }]);
    });

    it('reports errors of the parent and of several children together', async () => {
      const p = await insertProduct(svc);
      await refused('/Opportunities', {
        Name: null,
        Products: [{ ProductId: 'nope', Price: 5 }, { ProductId: p, Price: 5 }, { ProductId: p, Discount: 'lots' }],
      }, [
        { code: 'NULL_NOT_ALLOWED', target: 'Name' },
        { code: 'TYPE_MISMATCH', target: 'Products/0/ProductId' },
        { code: 'TYPE_MISMATCH', target: 'Products/2/Discount' },
      ]);
    });

    it('prefixes an error inside a single-valued deep insert with the navigation', () =>
      refused('/Contacts', { LastName: 'V', Company: { Name: null } }, [{ code: 'NULL_NOT_ALLOWED', target: 'Company/Name' }]));

    it('does not link existing contacts when the body is refused', async () => {
      const c = await insertContact(svc);
      await refused('/Opportunities', { Name: 'x'.repeat(201), 'Contacts@odata.bind': [`Contacts(${c})`] }, [{ code: 'TOO_LONG', target: 'Name' }]);
    });
  });

  describe('property names', () => {
    it('match case-insensitively and are answered with their canonical names', async () => {
      const res = await post(svc, '/Contacts', { lastname: 'Lower', FIRSTNAME: 'Upper', jobTitle: 'Mixed' });
      expectStatus(res, 201);
      const body = res.json();
      expect(body).toMatchObject({ LastName: 'Lower', FirstName: 'Upper', JobTitle: 'Mixed', FullName: 'Upper Lower' });
      expect(body).not.toHaveProperty('lastname');
      expect(await rowOf(svc, 'Contacts', body.Id)).toMatchObject({ LastName: 'Lower', FirstName: 'Upper', JobTitle: 'Mixed' });
    });
  });
});
