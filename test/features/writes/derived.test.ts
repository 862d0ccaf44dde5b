/** Server-maintained values: OpportunityProduct.Total, Opportunity.Amount, Contact.FullName, Created and Edited. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  del, expectStatus, insertContact, insertLine, insertOpportunity, insertProduct, lineTotal, num, PAST, patch, post, put, rowOf, text,
} from './write-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let product: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 60 });
    product = await insertProduct(svc);
  });
  afterAll(() => svc.close());

  const totalOf = async (line: string): Promise<number> => num((await rowOf(svc, 'OpportunityProducts', line))!.Total)!;
  const amountOf = async (opp: string): Promise<number> => num((await rowOf(svc, 'Opportunities', opp))!.Amount)!;
  /** The sum of the line Totals in the database, to compare Amount with. */
  const sumOfLines = async (opp: string): Promise<number> =>
    ((await svc.knex('OpportunityProducts').where({ OpportunityId: opp }).select('Total')) as Row[]).reduce((s, r) => s + Number(r.Total), 0);

  describe('OpportunityProduct.Total = Quantity × Price × (1 − Discount/100)', () => {
    it('on create', async () => {
      const opp = await insertOpportunity(svc);
      const res = await post(svc, '/OpportunityProducts', { OpportunityId: opp, ProductId: product, Quantity: 3, Price: 12.5, Discount: 10 });
      expectStatus(res, 201);
      expect(Number(res.json().Total)).toBeCloseTo(33.75, 4);
      expect(await totalOf(res.json().Id)).toBeCloseTo(33.75, 4);
    });

    it.each([
      ['Quantity', { Quantity: 5 }, lineTotal(5, 20, 25)],
      ['Price', { Price: 8 }, lineTotal(2, 8, 25)],
      ['Discount', { Discount: 50 }, lineTotal(2, 20, 50)],
      ['all three', { Quantity: 7, Price: 1.5, Discount: 0 }, lineTotal(7, 1.5, 0)],
    ])('on PATCH of %s', async (_what, change, expected) => {
      const opp = await insertOpportunity(svc);
      const line = await insertLine(svc, opp, product, 2, 20, 25);
      const res = await patch(svc, `/OpportunityProducts(${line})`, change, { Prefer: 'return=representation' });
      expectStatus(res, 200);
      expect(Number(res.json().Total)).toBeCloseTo(expected, 4);
      expect(await totalOf(line)).toBeCloseTo(expected, 4);
    });

    it('on PUT (omitted Quantity/Discount take their defaults 1 and 0)', async () => {
      const opp = await insertOpportunity(svc);
      const line = await insertLine(svc, opp, product, 4, 10, 10);
      expectStatus(await put(svc, `/OpportunityProducts(${line})`, { OpportunityId: opp, Price: 30 }), 204);
      expect(await rowOf(svc, 'OpportunityProducts', line, [], ['Quantity', 'Discount'])).toMatchObject({ Quantity: 1, Discount: 0 });
      expect(await totalOf(line)).toBeCloseTo(30, 4);
    });

    it('through a property URL', async () => {
      const opp = await insertOpportunity(svc);
      const line = await insertLine(svc, opp, product, 1, 10, 0);
      expectStatus(await put(svc, `/OpportunityProducts(${line})/Quantity`, { value: 6 }), 204);
      expect(await totalOf(line)).toBeCloseTo(60, 4);
    });
  });

  describe('Opportunity.Amount = sum of its lines', () => {
    it('is 0 for a new opportunity without lines', async () => {
      const res = await post(svc, '/Opportunities', { Name: 'Empty' });
      expectStatus(res, 201);
      expect(Number(res.json().Amount)).toBeCloseTo(0, 4);
      expect(await amountOf(res.json().Id)).toBeCloseTo(0, 4);
    });

    it('after a deep insert', async () => {
      const res = await post(svc, '/Opportunities', {
        Name: 'Deep', Products: [{ ProductId: product, Quantity: 2, Price: 10, Discount: 0 }, { ProductId: product, Quantity: 1, Price: 5.25, Discount: 20 }],
      });
      expectStatus(res, 201);
      expect(await amountOf(res.json().Id)).toBeCloseTo(20 + 4.2, 2);
      expect(await amountOf(res.json().Id)).toBeCloseTo(await sumOfLines(res.json().Id), 2);
    });

    it('after POST /OpportunityProducts', async () => {
      const opp = await insertOpportunity(svc, { Amount: 100 });
      await insertLine(svc, opp, product, 10, 10, 0);
      expectStatus(await post(svc, '/OpportunityProducts', { OpportunityId: opp, Quantity: 2, Price: 3, Discount: 0 }), 201);
      expect(await amountOf(opp)).toBeCloseTo(106, 2);
    });

    it('after POST /OpportunityProducts with Opportunity@odata.bind', async () => {
      const opp = await insertOpportunity(svc);
      expectStatus(await post(svc, '/OpportunityProducts', { 'Opportunity@odata.bind': `Opportunities(${opp})`, Quantity: 4, Price: 2.5, Discount: 0 }), 201);
      expect(await amountOf(opp)).toBeCloseTo(10, 2);
    });

    it('after POST /Opportunities(<o>)/Products', async () => {
      const opp = await insertOpportunity(svc, { Amount: 50 });
      await insertLine(svc, opp, product, 5, 10, 0);
      const res = await post(svc, `/Opportunities(${opp})/Products`, { ProductId: product, Quantity: 1, Price: 25, Discount: 0 });
      expectStatus(res, 201);
      expect(res.json().OpportunityId).toBe(opp);
      expect(await amountOf(opp)).toBeCloseTo(75, 2);
    });

    it('after PATCH of a line', async () => {
      const opp = await insertOpportunity(svc, { Amount: 30 });
      const line = await insertLine(svc, opp, product, 1, 10, 0);
      await insertLine(svc, opp, product, 2, 10, 0);
      expectStatus(await patch(svc, `/OpportunityProducts(${line})`, { Quantity: 3 }), 204);
      expect(await amountOf(opp)).toBeCloseTo(50, 2);
    });

    it('after PUT of a line', async () => {
      const opp = await insertOpportunity(svc, { Amount: 10 });
      const line = await insertLine(svc, opp, product, 1, 10, 0);
      expectStatus(await put(svc, `/OpportunityProducts(${line})`, { OpportunityId: opp, Quantity: 2, Price: 11, Discount: 50 }), 204);
      expect(await amountOf(opp)).toBeCloseTo(11, 2);
    });

    it('after DELETE of a line', async () => {
      const opp = await insertOpportunity(svc, { Amount: 40 });
      const line = await insertLine(svc, opp, product, 1, 10, 0);
      await insertLine(svc, opp, product, 3, 10, 0);
      expectStatus(await del(svc, `/OpportunityProducts(${line})`), 204);
      expect(await amountOf(opp)).toBeCloseTo(30, 2);
    });

    it('after deleting the last line it is 0', async () => {
      const opp = await insertOpportunity(svc, { Amount: 10 });
      const line = await insertLine(svc, opp, product, 1, 10, 0);
      expectStatus(await del(svc, `/OpportunityProducts(${line})`), 204);
      expect(await amountOf(opp)).toBeCloseTo(0, 4);
    });

    it.each([
      ['PATCH OpportunityId', (line: string, to: string) => patch(svc, `/OpportunityProducts(${line})`, { OpportunityId: to })],
      ['PATCH Opportunity@odata.bind', (line: string, to: string) => patch(svc, `/OpportunityProducts(${line})`, { 'Opportunity@odata.bind': `Opportunities(${to})` })],
    ])('moving a line to another opportunity (%s) changes both sums', async (_how, move) => {
      const from = await insertOpportunity(svc, { Amount: 35 });
      const to = await insertOpportunity(svc, { Amount: 7 });
      const line = await insertLine(svc, from, product, 3, 10, 0);
      await insertLine(svc, from, product, 1, 5, 0);
      await insertLine(svc, to, product, 1, 7, 0);
      expectStatus(await move(line, to), 204);
      expect(await rowOf(svc, 'OpportunityProducts', line)).toMatchObject({ OpportunityId: to });
      expect(await amountOf(from)).toBeCloseTo(5, 2);
      expect(await amountOf(to)).toBeCloseTo(37, 2);
    });

    it('a client Amount in PATCH is ignored', async () => {
      const opp = await insertOpportunity(svc, { Amount: 20 });
      await insertLine(svc, opp, product, 2, 10, 0);
      expectStatus(await patch(svc, `/Opportunities(${opp})`, { Amount: 999, Name: 'Renamed' }), 204);
      expect(await rowOf(svc, 'Opportunities', opp)).toMatchObject({ Name: 'Renamed' });
      expect(await amountOf(opp)).toBeCloseTo(20, 2);
    });

    it('the response of a line write reports the new Total, and the opportunity reads back its new Amount', async () => {
      const opp = await insertOpportunity(svc);
      const res = await post(svc, `/Opportunities(${opp})/Products`, { Quantity: 2, Price: 2.5, Discount: 0 });
      expectStatus(res, 201);
      expect(Number(res.json().Total)).toBeCloseTo(5, 4);
      expect(Number((await svc.get(`/Opportunities(${opp})`)).json().Amount)).toBeCloseTo(5, 2);
    });
  });

  describe('Contact.FullName', () => {
    it.each([
      [{ FirstName: 'Ann', LastName: 'Lee' }, 'Ann Lee'],
      [{ LastName: 'Lee' }, 'Lee'],
      [{ FirstName: 'Ann' }, 'Ann'],
      [{ JobTitle: 'Nameless' }, null],
    ])('on create from %j is %j', async (body, expected) => {
      const res = await post(svc, '/Contacts', body);
      expectStatus(res, 201);
      expect(res.json().FullName).toBe(expected);
      expect((await rowOf(svc, 'Contacts', res.json().Id))!.FullName).toBe(expected);
    });

    it.each([
      [{ FirstName: 'Bea' }, 'Bea Old'],
      [{ LastName: 'New' }, 'Old New'],
      [{ FirstName: null }, 'Old'],
      [{ LastName: null }, 'Old'],
      [{ FirstName: null, LastName: null }, null],
      [{ firstname: 'Lower' }, 'Lower Old'],
    ])('follows PATCH %j → %j', async (change, expected) => {
      const id = await insertContact(svc, { FirstName: 'Old', LastName: 'Old' });
      expectStatus(await patch(svc, `/Contacts(${id})`, change), 204);
      expect((await rowOf(svc, 'Contacts', id))!.FullName).toBe(expected);
    });

    it('follows PUT (an omitted FirstName is null)', async () => {
      const id = await insertContact(svc, { FirstName: 'Gone', LastName: 'Kept' });
      expectStatus(await put(svc, `/Contacts(${id})`, { LastName: 'Only' }), 204);
      expect((await rowOf(svc, 'Contacts', id))!.FullName).toBe('Only');
    });

    it('follows writes to property URLs', async () => {
      const id = await insertContact(svc, { FirstName: 'A', LastName: 'B' });
      expectStatus(await put(svc, `/Contacts(${id})/LastName`, { value: 'C' }), 204);
      expect((await rowOf(svc, 'Contacts', id))!.FullName).toBe('A C');
      expectStatus(await del(svc, `/Contacts(${id})/FirstName`), 204);
      expect((await rowOf(svc, 'Contacts', id))!.FullName).toBe('C');
    });
  });

  describe('Created and Edited', () => {
    it('Created never changes and Edited changes on every update', async () => {
      const id = await insertContact(svc, { LastName: 'Stamp' });
      const edits = [PAST];
      for (let i = 0; i < 4; i++) {
        expectStatus(await patch(svc, `/Contacts(${id})`, { JobTitle: `Step ${i}` }), 204);
        const row = (await rowOf(svc, 'Contacts', id))!;
        expect(Date.parse(text(row.Created)!)).toBe(Date.parse(PAST));
        expect(text(row.Edited)).toMatch(/Z$|[+-]\d\d:?\d\d$/);
        edits.push(text(row.Edited)!);
      }
      expect(new Set(edits.map((e) => Date.parse(e))).size).toBe(5);
      for (let i = 1; i < edits.length; i++) expect(Date.parse(edits[i])).toBeGreaterThan(Date.parse(edits[i - 1]));
    });

    it('a write reports the new Edited and the old Created', async () => {
      const id = await insertContact(svc, { LastName: 'Stamp' });
      const before = Date.now();
      const res = await patch(svc, `/Contacts(${id})`, { JobTitle: 'X' }, { Prefer: 'return=representation' });
      expectStatus(res, 200);
      expect(Date.parse(res.json().Created)).toBe(Date.parse(PAST));
      expect(Date.parse(res.json().Edited)).toBeGreaterThanOrEqual(before - 2000);
    });
  });
});
