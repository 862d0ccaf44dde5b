/**
 * $select and $expand: projected shapes, expanded single and collection navigations with nested
 * options (checked per parent against the database), $levels, `*`, `/$ref`, `/$count`, the
 * @odata.context each produces, and a fixed number of SQL statements per expanded level.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc, idsOf, iso, sortedIds, tableRows, type Row } from './support';

/** Percent-encodes an option value but keeps `;` literal, as most clients send nested $expand options. */
const encx = (text: string): string => enc(text).replace(/%3B/g, ';');
const byLastNameThenId = (a: Row, b: Row) => (String(a.LastName) < String(b.LastName) ? -1 : String(a.LastName) > String(b.LastName) ? 1 : String(a.Id) < String(b.Id) ? -1 : 1);
const ownKeys = (entity: Row) => Object.keys(entity).filter((k) => !k.includes('@'));

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contacts: Row[];
  let companies: Row[];
  let groups: Row[];
  let contactGroups: Row[];
  let sample: Row;

  beforeAll(async () => {
    svc = await startTestService(engine);
    contacts = await tableRows(svc, 'Contacts', ['IsPrivate']);
    companies = await tableRows(svc, 'Companies');
    groups = await tableRows(svc, 'Groups');
    contactGroups = await tableRows(svc, 'Contact_Group_Members'); // static links and dynamic-group matches (dynamic-groups.test checks the view)
    sample = contacts.find((c) => c.CompanyId !== null && c.BusinessAddress_City !== null)!;
  });
  afterAll(() => svc.close());

  const contactsOf = (companyId: unknown) => contacts.filter((c) => c.CompanyId === companyId);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON entities, as TestResponse.json() gives
  async function all(path: string): Promise<any[]> {
    return (await allPages(svc, path)).flatMap((p) => p.body.value);
  }

  describe('$select', () => {
    it('returns only the selected properties, with the select list in the context', async () => {
      const res = await svc.get('/Contacts?$select=FirstName,LastName&$top=5');
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(FirstName,LastName)`);
      for (const e of body.value) expect(ownKeys(e).filter((k) => k !== 'Id')).toEqual(['FirstName', 'LastName']);
    });

    it('returns the selected values of the right rows', async () => {
      const value = await all('/Contacts?$select=Id,LastName,IsPrivate');
      const expected = new Map(contacts.map((c) => [c.Id, { '@odata.etag': `W/"${iso(c.Edited)}"`, Id: c.Id, LastName: c.LastName, IsPrivate: c.IsPrivate }]));
      for (const e of value) expect(e).toEqual(expected.get(e.Id));
      expect(value).toHaveLength(contacts.length);
    });

    it('selects a member of a complex property', async () => {
      const res = await svc.get(`/Contacts(${sample.Id})?$select=BusinessAddress/City`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(BusinessAddress/City)/$entity`);
      expect(body.BusinessAddress).toEqual({ City: sample.BusinessAddress_City });
      expect(ownKeys(body).filter((k) => k !== 'Id')).toEqual(['BusinessAddress']);
    });

    it('selects a whole complex property', async () => {
      const body = (await svc.get(`/Contacts(${sample.Id})?$select=HomeAddress`)).json();
      expect(Object.keys(body.HomeAddress ?? { Line1: 0, Line2: 0, City: 0, State: 0, PostalCode: 0, Country: 0 }).sort())
        .toEqual(['City', 'Country', 'Line1', 'Line2', 'PostalCode', 'State']);
    });

    it('selects every property with *', async () => {
      const res = await svc.get(`/Contacts(${sample.Id})?$select=*`);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(*)/$entity`);
      expect(body).toEqual({ ...(await svc.get(`/Contacts(${sample.Id})`)).json(), '@odata.context': body['@odata.context'] });
    });

    it('writes the select list of a single entity as Set(list)/$entity', async () => {
      const body = (await svc.get(`/Contacts(${sample.Id})?$select=Id,FullName`)).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(Id,FullName)/$entity`);
      expect(ownKeys(body)).toEqual(['Id', 'FullName']);
    });
  });

  describe('$expand', () => {
    it('expands a single-valued navigation (null when there is none)', async () => {
      const value = await all('/Contacts?$select=Id,CompanyId&$expand=Company($select=Id,Name)');
      expect(value).toHaveLength(contacts.length);
      for (const c of value) {
        const company = companies.find((co) => co.Id === c.CompanyId);
        expect(c.Company).toEqual(company ? { '@odata.etag': `W/"${iso(company.Edited)}"`, Id: company.Id, Name: company.Name } : null);
      }
    });

    it('writes $select with a nested $expand select in the context: Contacts(Id,FullName,Company(Name))', async () => {
      const body = (await svc.get('/Contacts?$top=2&$select=Id,FullName&$expand=Company($select=Name)')).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(Id,FullName,Company(Name))`);
    });

    it('leaves an expansion without nested $select out of the context (OData 4.0 form, never Nav())', async () => {
      const body = (await svc.get('/Contacts?$top=2&$select=Id&$expand=Company')).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(Id)`);
    });

    it('expands a collection navigation with every related row', async () => {
      const value = await all('/Companies?$select=Id&$expand=Contacts($select=Id)');
      expect(value).toHaveLength(companies.length);
      for (const co of value) expect(sortedIds(co.Contacts)).toEqual(sortedIds(contactsOf(co.Id)));
    });

    it('expands a many-to-many navigation', async () => {
      const value = await all('/Groups?$select=Id&$expand=Contacts($select=Id)');
      for (const g of value) {
        const expected = contactGroups.filter((l) => l.GroupId === g.Id).map((l) => String(l.ContactId)).sort();
        expect(sortedIds(g.Contacts)).toEqual(expected);
      }
    });

    it('applies nested $filter, $orderby, $skip, $top, $select and $count per parent', async () => {
      const options = `$filter=startswith(LastName,'S');$select=LastName;$orderby=LastName desc;$skip=1;$top=2;$count=true`;
      const value = await all(`/Companies?$select=Id&$expand=${encx(`Contacts(${options})`)}`);
      let nonTrivial = 0;
      for (const co of value) {
        const matching = contactsOf(co.Id).filter((c) => String(c.LastName).startsWith('S'));
        const ordered = [...matching].sort((a, b) => -byLastNameThenId(a, b) || (String(a.Id) < String(b.Id) ? -1 : 1));
        const expected = ordered.slice(1, 3).map((c) => ({ LastName: c.LastName }));
        expect({ id: co.Id, count: co['Contacts@odata.count'], contacts: co.Contacts.map((c: Row) => ({ LastName: c.LastName })) })
          .toEqual({ id: co.Id, count: matching.length, contacts: expected });
        if (matching.length > 2) nonTrivial++;
      }
      expect(nonTrivial).toBeGreaterThan(0);
    });

    it('honours a per-parent $top inside $expand for every parent (not a global limit)', async () => {
      const value = await all(`/Companies?$select=Id&$expand=${encx('Contacts($select=Id,LastName;$orderby=LastName;$top=2)')}`);
      for (const co of value) {
        const expected = [...contactsOf(co.Id)].sort(byLastNameThenId).slice(0, 2);
        expect({ id: co.Id, ids: idsOf(co.Contacts) }).toEqual({ id: co.Id, ids: idsOf(expected) });
      }
      expect(value.filter((co) => co.Contacts.length === 2).length).toBeGreaterThan(2);
    });

    it('honours a per-parent $top inside a many-to-many $expand', async () => {
      const value = await all(`/Contacts?$select=Id&$filter=Groups/any()&$expand=${encx('Groups($select=Id;$top=1)')}`);
      expect(value.length).toBeGreaterThan(0);
      for (const c of value) {
        const expected = contactGroups.filter((l) => l.ContactId === c.Id).map((l) => String(l.GroupId)).sort().slice(0, 1);
        expect(idsOf(c.Groups)).toEqual(expected);
      }
    });

    it('expands nested navigations: Companies → Contacts → Groups', async () => {
      const value = await all(`/Companies?$select=Id&$expand=${encx('Contacts($select=Id;$expand=Groups($select=Name))')}`);
      for (const co of value) {
        for (const c of co.Contacts) {
          const expected = contactGroups.filter((l) => l.ContactId === c.Id).map((l) => groups.find((g) => g.Id === l.GroupId)!.Name).sort();
          expect(c.Groups.map((g: Row) => g.Name).sort()).toEqual(expected);
        }
      }
      const body = (await svc.get(`/Companies?$top=1&$select=Id&$expand=${encx('Contacts($select=Id;$expand=Groups($select=Name))')}`)).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Companies(Id,Contacts(Id,Groups(Name)))`);
    });

    it('expands a navigation recursively with $levels', async () => {
      const value = await all(`/Groups?$select=Id,Name&$expand=${encx('Subgroups($select=Id,Name;$levels=2)')}`);
      for (const g of value) {
        const children = groups.filter((x) => x.ParentId === g.Id);
        expect(sortedIds(g.Subgroups)).toEqual(sortedIds(children));
        for (const child of g.Subgroups) {
          expect(sortedIds(child.Subgroups)).toEqual(sortedIds(groups.filter((x) => x.ParentId === child.Id)));
          for (const grandchild of child.Subgroups) expect(grandchild.Subgroups).toBeUndefined();
        }
      }
      expect(value.some((g) => g.Subgroups.length > 0)).toBe(true);
    });

    it('expands Divisions with $levels=max down to the leaves', async () => {
      const value = await all('/Companies?$select=Id&$filter=ParentId eq null&$expand=Divisions($select=Id;$levels=max)');
      for (const co of value) expect(sortedIds(co.Divisions)).toEqual(sortedIds(companies.filter((x) => x.ParentId === co.Id)));
    });

    it('expands every navigation with *', async () => {
      const body = (await svc.get(`/Contacts(${sample.Id})?$select=Id&$expand=*`)).json();
      for (const nav of ['Company', 'Owner', 'Groups', 'Opportunities', 'Activities', 'Histories', 'Notes']) expect(body).toHaveProperty([nav]);
      expect(body.Company.Id).toBe(sample.CompanyId);
      expect(Array.isArray(body.Groups)).toBe(true);
    });

    it('expands references with Nav/$ref', async () => {
      const value = await all('/Companies?$select=Id&$expand=Contacts/$ref');
      for (const co of value) {
        const expected = contactsOf(co.Id).map((c) => `${svc.url}/Contacts(${String(c.Id)})`).sort();
        expect(co.Contacts.map((r: Row) => r['@odata.id']).sort()).toEqual(expected);
        for (const r of co.Contacts) expect(Object.keys(r)).toEqual(['@odata.id']);
      }
    });

    it('expands counts with Nav/$count', async () => {
      const value = await all('/Companies?$select=Id&$expand=Contacts/$count');
      for (const co of value) {
        expect(co['Contacts@odata.count']).toBe(contactsOf(co.Id).length);
        expect(co).not.toHaveProperty('Contacts');
      }
    });

    it('separates nested options with a percent-encoded semicolon (%3B) too, as the ABNF SEMI allows', async () => {
      const res = await svc.get(`/Companies?$top=3&$select=Id&$expand=${enc('Contacts($select=Id;$top=1)')}`);
      expect(res.status).toBe(200);
      for (const co of res.json().value) expect(co.Contacts.length).toBeLessThanOrEqual(1);
    });

    it('expands a navigation on a single entity', async () => {
      const res = await svc.get(`/Companies(${sample.CompanyId})?$expand=Contacts($select=Id)`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Companies(*,Contacts(Id))/$entity`);
      expect(sortedIds(body.Contacts)).toEqual(sortedIds(contactsOf(sample.CompanyId)));
    });
  });

  describe('@odata.context', () => {
    it('is $metadata#Set for a plain collection and $metadata#Set/$entity for one entity', async () => {
      expect((await svc.get('/Contacts?$top=1')).json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts`);
      expect((await svc.get(`/Contacts(${sample.Id})`)).json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts/$entity`);
    });

    it('names the target set after navigation, with the select list', async () => {
      const body = (await svc.get(`/Companies(${sample.CompanyId})/Contacts?$select=LastName`)).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(LastName)`);
      const single = (await svc.get(`/Contacts(${sample.Id})/Company?$select=Name`)).json();
      expect(single['@odata.context']).toBe(`${svc.url}/$metadata#Companies(Name)/$entity`);
    });

    it('names the entity and property path for a property', async () => {
      const body = (await svc.get(`/Contacts(${sample.Id})/BusinessAddress/City`)).json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(${String(sample.Id)})/BusinessAddress/City`);
    });
  });

  describe('SQL statements per request', () => {
    async function statementsFor(path: string): Promise<{ count: number; rows: number }> {
      let count = 0;
      // the authenticate stage's token lookup is not the query's
      const listener = (q: { sql: string }) => { if (!q.sql.includes('odata_auth_tokens')) count++; };
      svc.knex.on('query', listener);
      try {
        const res = await svc.get(path);
        expect(res.status).toBe(200);
        return { count, rows: res.json().value.length };
      } finally {
        svc.knex.removeListener('query', listener);
      }
    }

    it('issues the same number of statements for 2 and for 50 parents: one per expanded level', async () => {
      const expand = encx('Contacts($top=2;$expand=Groups)');
      const few = await statementsFor(`/Companies?$top=2&$expand=${expand}`);
      const many = await statementsFor(`/Companies?$top=50&$expand=${expand}`);
      expect(few.rows).toBe(2);
      expect(many.rows).toBe(companies.length);
      expect(many.count).toBe(few.count);
      expect(few.count).toBe(3);
    });

    it('adds one statement for $count=true and one for a nested $count', async () => {
      const plain = await statementsFor('/Companies?$top=50&$expand=Contacts');
      const counted = await statementsFor(`/Companies?$top=50&$count=true&$expand=${encx('Contacts($count=true)')}`);
      expect(plain.count).toBe(2);
      expect(counted.count).toBe(4);
    });
  });
});
