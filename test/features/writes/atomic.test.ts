/** Atomicity: a write request is one transaction; a failure at any statement leaves the database unchanged. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  countRows, countsOf, expectError, expectStatus, insertContact, insertGroup, insertLine, insertOpportunity, insertProduct, linked, newId, num,
  patch, post, rowOf, snapshot,
} from './write-support';

interface WriteEvent { table: string; statement: 'insert' | 'update' | 'delete' }
type Hook = (event: WriteEvent) => void | Promise<void>;

const TABLES = ['Opportunities', 'OpportunityProducts', 'Contacts', 'Companies', 'Contact_Opportunity', 'Contact_Group'];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** Runs `run` with `hook` registered as an afterWriteStatement hook, and always removes it. */
  async function withHook<T>(hook: Hook, run: () => Promise<T>): Promise<T> {
    const hooks = (svc.running.services as any).hooks.afterWriteStatement as Hook[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- not typed until the feature lands
    hooks.push(hook);
    try {
      return await run();
    } finally {
      const i = hooks.indexOf(hook);
      if (i >= 0) hooks.splice(i, 1);
    }
  }

  /** A hook that records every event and throws (or rejects) on the n-th one. */
  function failOn(n: number, events: WriteEvent[], async = false): Hook {
    return (event) => {
      events.push({ table: event.table, statement: event.statement });
      if (events.length !== n) return undefined;
      if (async) return Promise.reject(new Error('injected failure'));
      throw new Error('injected failure');
    };
  }

  /** Every row of the tables a test may touch. */
  async function state(): Promise<Record<string, Row[]>> {
    const out: Record<string, Row[]> = {};
    for (const t of TABLES) out[t] = await snapshot(svc, t);
    return out;
  }

  const deepBody = async (name: string) => {
    const p = await insertProduct(svc);
    const c = await insertContact(svc);
    return {
      Name: name,
      Products: [{ ProductId: p, Quantity: 1, Price: 10 }, { ProductId: p, Quantity: 2, Price: 10 }, { ProductId: p, Quantity: 3, Price: 10 }],
      'Contacts@odata.bind': [`Contacts(${c})`],
    };
  };

  describe('validation failures', () => {
    it('a deep insert whose last child is invalid writes no row at all', async () => {
      const body = await deepBody('Atomic deal');
      body.Products[2] = { ...body.Products[2], Quantity: 'three' as unknown as number };
      const before = await countsOf(svc, TABLES);
      const res = await post(svc, '/Opportunities', body);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.json().error.details.map((d: Row) => d.target)).toEqual(['Products/2/Quantity']);
      expect(await countsOf(svc, TABLES)).toEqual(before);
      expect(await svc.knex('Opportunities').where({ Name: 'Atomic deal' }).first()).toBeUndefined();
    });

    it('a single-valued deep insert with an invalid company writes neither contact nor company', async () => {
      const before = await countsOf(svc, TABLES);
      expectError(await post(svc, '/Contacts', { LastName: 'Atomic', Company: { Name: 'n'.repeat(201) } }), 400, 'VALIDATION_FAILED');
      expect(await countsOf(svc, TABLES)).toEqual(before);
    });
  });

  describe('afterWriteStatement hooks', () => {
    it('report each statement of a deep insert with its table and kind', async () => {
      const events: WriteEvent[] = [];
      const res = await withHook((e) => { events.push({ table: e.table, statement: e.statement }); }, async () => post(svc, '/Opportunities', await deepBody('Observed deal')));
      expectStatus(res, 201);
      expect(events).toEqual(expect.arrayContaining([
        { table: 'Opportunities', statement: 'insert' },
        { table: 'OpportunityProducts', statement: 'insert' },
        { table: 'Contact_Opportunity', statement: 'insert' },
      ]));
      for (const e of events) expect(['insert', 'update', 'delete']).toContain(e.statement);
    });

    it('a failure on the 2nd statement of a deep insert answers 500 INTERNAL_ERROR and leaves the database unchanged', async () => {
      const body = await deepBody('Injected deal');
      const before = await state();
      const events: WriteEvent[] = [];
      const res = await withHook(failOn(2, events), () => post(svc, '/Opportunities', body));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(events.length).toBe(2);
      expect(await state()).toEqual(before);
      // the hook is gone: the same request now succeeds
      const again = await post(svc, '/Opportunities', body);
      expectStatus(again, 201);
      expect(await countRows(svc, 'OpportunityProducts', { OpportunityId: again.json().Id })).toBe(3);
    });

    it('a rejected promise from a hook rolls back too', async () => {
      const body = await deepBody('Rejected deal');
      const before = await state();
      const events: WriteEvent[] = [];
      const res = await withHook(failOn(2, events, true), () => post(svc, '/Opportunities', body));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await state()).toEqual(before);
    });

    it('a failure on the last statement of a deep insert rolls back every earlier one', async () => {
      const body = await deepBody('Late failure');
      const counted: WriteEvent[] = [];
      expectStatus(await withHook((e) => { counted.push(e); }, () => post(svc, '/Opportunities', { ...body, Name: 'Counting deal' })), 201);
      const before = await state();
      const events: WriteEvent[] = [];
      const res = await withHook(failOn(counted.length, events), () => post(svc, '/Opportunities', body));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await state()).toEqual(before);
    });

    it('a failure while creating through a navigation leaves neither the entity nor the link', async () => {
      const group = await insertGroup(svc);
      const before = await state();
      const id = newId();
      const res = await withHook(failOn(2, []), () => post(svc, `/Groups(${group})/Contacts`, { Id: id, LastName: 'Half' }));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
      expect(await state()).toEqual(before);
    });

    it('a failure while maintaining Opportunity.Amount leaves the new line out too', async () => {
      const opp = await insertOpportunity(svc, { Amount: 10 });
      await insertLine(svc, opp, null, 1, 10, 0);
      const before = await state();
      const res = await withHook(failOn(2, []), () => post(svc, `/Opportunities(${opp})/Products`, { Quantity: 5, Price: 10 }));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await state()).toEqual(before);
      expect(num((await rowOf(svc, 'Opportunities', opp))!.Amount)).toBeCloseTo(10, 2);
    });

    it('a failure in a PATCH with a collection bind changes neither the entity nor its links', async () => {
      const contact = await insertContact(svc, { JobTitle: 'Before' });
      const group = await insertGroup(svc);
      const before = await state();
      const res = await withHook(failOn(2, []), () => patch(svc, `/Contacts(${contact})`, { JobTitle: 'After', 'Groups@odata.bind': [`Groups(${group})`] }));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await state()).toEqual(before);
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Before');
      expect(await linked(svc, 'Contact_Group', 'ContactId', contact, 'GroupId')).toEqual([]);
    });

    it('the service keeps answering after an injected failure', async () => {
      const res = await withHook(failOn(1, []), () => post(svc, '/Contacts', { LastName: 'Never' }));
      expectError(res, 500, 'INTERNAL_ERROR');
      expect(await svc.knex('Contacts').where({ LastName: 'Never' }).first()).toBeUndefined();
      expectStatus(await svc.get('/Contacts?$top=1'), 200);
      expectStatus(await post(svc, '/Contacts', { LastName: 'Afterwards' }), 201);
    });
  });
});
