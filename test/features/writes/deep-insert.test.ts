/** Deep insert: nested entities and @odata.bind in one POST, in one transaction; $expand shapes the answer. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  countRows, countsOf, expectStatus, insertContact, insertGroup, insertProduct, lineTotal, linked, num, post, rowOf,
} from './write-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  async function linesOf(opportunityId: string): Promise<Row[]> {
    const rows: Row[] = await svc.knex('OpportunityProducts').where({ OpportunityId: opportunityId }).select('*');
    return rows.sort((a, b) => Number(a.Quantity) - Number(b.Quantity));
  }

  describe('POST /Opportunities with Products and Contacts@odata.bind', () => {
    it('creates the lines with OpportunityId set and links the existing contacts', async () => {
      const [p1, p2] = [await insertProduct(svc), await insertProduct(svc)];
      const [c1, c2] = [await insertContact(svc), await insertContact(svc)];
      const before = await countsOf(svc, ['Contacts', 'Products']);
      const res = await post(svc, '/Opportunities', {
        Name: 'Deep deal',
        Products: [
          { ProductId: p1, Quantity: 2, Price: 10, Discount: 0 },
          { ProductId: p2, Quantity: 3, Price: 7.5, Discount: 20 },
        ],
        'Contacts@odata.bind': [`Contacts(${c1})`, `Contacts(${c2})`],
      });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.Name).toBe('Deep deal');
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Opportunities/$entity`);
      expect(res.headers.get('location')).toBe(`${svc.url}/Opportunities(${body.Id})`);
      // nested entities appear only when expanded
      expect(body).not.toHaveProperty('Products');
      expect(body).not.toHaveProperty('Contacts');

      const lines = await linesOf(body.Id);
      expect(lines).toHaveLength(2);
      expect(lines.map((l) => ({ ProductId: l.ProductId, Quantity: num(l.Quantity), Price: num(l.Price), Discount: num(l.Discount) }))).toEqual([
        { ProductId: p1, Quantity: 2, Price: 10, Discount: 0 },
        { ProductId: p2, Quantity: 3, Price: 7.5, Discount: 20 },
      ]);
      expect(num(lines[0].Total)).toBeCloseTo(20, 4);
      expect(num(lines[1].Total)).toBeCloseTo(18, 4);
      expect(await linked(svc, 'Contact_Opportunity', 'OpportunityId', body.Id, 'ContactId')).toEqual([c1, c2].sort());
      // bound contacts and referenced products are not created again
      expect(await countsOf(svc, ['Contacts', 'Products'])).toEqual(before);
    });

    it('answers with the nested entities when $expand=Products,Contacts', async () => {
      const p = await insertProduct(svc);
      const c = await insertContact(svc, { FirstName: 'Expanded', LastName: 'Contact' });
      const res = await post(svc, '/Opportunities?$expand=Products,Contacts', {
        Name: 'Expanded deal',
        Products: [{ ProductId: p, Quantity: 1, Price: 100, Discount: 10 }, { ProductId: p, Quantity: 4, Price: 2, Discount: 0 }],
        'Contacts@odata.bind': [`Contacts(${c})`],
      });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.Products).toHaveLength(2);
      for (const line of body.Products) {
        expect(line.OpportunityId).toBe(body.Id);
        expect(line.ProductId).toBe(p);
      }
      const totals = body.Products.map((l: Row) => Number(l.Total)).sort((a: number, b: number) => a - b);
      expect(totals[0]).toBeCloseTo(8, 4);
      expect(totals[1]).toBeCloseTo(90, 4);
      expect(body.Contacts.map((x: Row) => x.Id)).toEqual([c]);
      expect(body.Contacts[0].FullName).toBe('Expanded Contact');
      const dbIds = (await linesOf(body.Id)).map((l) => String(l.Id)).sort();
      expect(body.Products.map((l: Row) => l.Id).sort()).toEqual(dbIds);
    });

    it('sets Amount to the sum of the created lines', async () => {
      const p = await insertProduct(svc);
      const res = await post(svc, '/Opportunities', {
        Name: 'Summed deal',
        Products: [{ ProductId: p, Quantity: 3, Price: 12.5, Discount: 10 }, { ProductId: p, Quantity: 1, Price: 99.99, Discount: 0 }],
      });
      expectStatus(res, 201);
      const expected = lineTotal(3, 12.5, 10) + lineTotal(1, 99.99, 0);
      expect(Number(res.json().Amount)).toBeCloseTo(expected, 2);
      expect(num((await rowOf(svc, 'Opportunities', res.json().Id))!.Amount)).toBeCloseTo(expected, 2);
    });

    it('applies the child defaults (Quantity 1, Discount 0) inside a deep insert', async () => {
      const p = await insertProduct(svc);
      const res = await post(svc, '/Opportunities', { Name: 'Defaults deal', Products: [{ ProductId: p, Price: 40 }] });
      expectStatus(res, 201);
      const [line] = await linesOf(res.json().Id);
      expect(num(line.Quantity)).toBe(1);
      expect(num(line.Discount)).toBe(0);
      expect(num(line.Total)).toBeCloseTo(40, 4);
    });
  });

  describe('single-valued deep insert', () => {
    it('POST /Contacts with "Company": {...} creates the company and links it', async () => {
      const companies = await countRows(svc, 'Companies');
      const res = await post(svc, '/Contacts', { LastName: 'Founder', Company: { Name: 'New Co', Industry: 'Widgets' } });
      expectStatus(res, 201);
      const body = res.json();
      expect(body).not.toHaveProperty('Company');
      expect(await countRows(svc, 'Companies')).toBe(companies + 1);
      const contact = (await rowOf(svc, 'Contacts', body.Id))!;
      expect(contact.CompanyId).not.toBeNull();
      expect(body.CompanyId).toBe(contact.CompanyId);
      expect(await rowOf(svc, 'Companies', String(contact.CompanyId))).toMatchObject({ Name: 'New Co', Industry: 'Widgets' });
    });

    it('answers with the new company when $expand=Company', async () => {
      const res = await post(svc, '/Contacts?$expand=Company', { LastName: 'Founder', Company: { Name: 'Expanded Co' } });
      expectStatus(res, 201);
      const body = res.json();
      expect(body.Company).toMatchObject({ Name: 'Expanded Co' });
      expect(body.Company.Id).toBe(body.CompanyId);
      expect((await rowOf(svc, 'Companies', body.Company.Id))?.Name).toBe('Expanded Co');
    });
  });

  describe('other collection deep inserts', () => {
    it('POST /Companies with new Contacts creates them with CompanyId set', async () => {
      const res = await post(svc, '/Companies', { Name: 'Staffed Co', Contacts: [{ LastName: 'Alpha' }, { FirstName: 'Bo', LastName: 'Beta' }] });
      expectStatus(res, 201);
      const rows: Row[] = await svc.knex('Contacts').where({ CompanyId: res.json().Id }).select('*');
      expect(rows.map((r) => r.FullName).sort()).toEqual(['Alpha', 'Bo Beta']);
    });

    it('POST /Groups with new Contacts creates them and the link rows', async () => {
      const existing = await insertContact(svc);
      const res = await post(svc, '/Groups', {
        Name: 'Deep group', Contacts: [{ LastName: 'Gamma' }], 'Contacts@odata.bind': [`Contacts(${existing})`],
      });
      expectStatus(res, 201);
      const members = await linked(svc, 'Contact_Group', 'GroupId', res.json().Id, 'ContactId');
      expect(members).toHaveLength(2);
      expect(members).toContain(existing);
      const created = members.find((m) => m !== existing)!;
      expect((await rowOf(svc, 'Contacts', created))?.LastName).toBe('Gamma');
    });

    it('binds the new entity to existing groups while deep-inserting its company', async () => {
      const g = await insertGroup(svc);
      const res = await post(svc, '/Contacts', { LastName: 'Both', Company: { Name: 'Both Co' }, 'Groups@odata.bind': [`Groups(${g})`] });
      expectStatus(res, 201);
      expect(await linked(svc, 'Contact_Group', 'ContactId', res.json().Id, 'GroupId')).toEqual([g]);
      expect((await rowOf(svc, 'Companies', res.json().CompanyId))?.Name).toBe('Both Co');
    });
  });
});
