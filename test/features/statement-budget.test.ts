/**
 * No request stalls the others, and no statement runs for ever: a read past the statement time
 * budget (ODATA_STATEMENT_TIMEOUT_MS) is cancelled and answered QUERY_TIMEOUT (504) naming the
 * limit; while a heavy read runs, by-key reads and other reads are still answered.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestResponse, type TestService } from '../helpers/service';
import { heavyRead } from './heavy-read';

const BUDGET_MS = 1500;
/** Cancelling is not instantaneous (the HTTP round trip, a killed read process, PostgreSQL's cancel). */
const CANCEL_SLACK_MS = 2500;

interface Timed {
  readonly res: TestResponse;
  /** when the answer had arrived, in ms since the test's start */
  readonly doneAt: number;
}

for (const engine of ENGINES) describe(engine.name, () => {
  let svc: TestService;
  let contactId: string;
  let contactCount: number;
  let heavyPath: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { config: { statementTimeoutMs: BUDGET_MS } });
    const first = await svc.get('/Contacts?$top=1&$select=Id');
    contactId = first.json().value[0].Id;
    heavyPath = heavyRead(engine, contactId);
    const [{ n }] = await svc.knex('Contacts').count({ n: '*' });
    contactCount = Number(n);
  });
  afterAll(() => svc.close());

  const timed = (start: number, path: string): Promise<Timed> => svc.get(path).then((res) => ({ res, doneAt: Date.now() - start }));

  function expectTimeout(res: TestResponse): void {
    expect(res.status).toBe(504);
    const { error } = res.json();
    expect(error.code).toBe('QUERY_TIMEOUT');
    expect(error.message).toContain('ODATA_STATEMENT_TIMEOUT_MS');
    expect(error.message).toContain(`${BUDGET_MS} ms`);
  }

  it('answers a by-key read and a count while a heavy read runs', async () => {
    const start = Date.now();
    const heavy = timed(start, heavyPath);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the heavy statement is under way
    const [byKey, count] = await Promise.all([timed(start, `/Contacts(${contactId})`), timed(start, '/Contacts/$count')]);
    const slow = await heavy;
    expect([byKey.res.status, byKey.res.json().Id]).toEqual([200, contactId]);
    expect([count.res.status, count.res.text]).toEqual([200, String(contactCount)]);
    expectTimeout(slow.res);
    expect(byKey.doneAt).toBeLessThan(slow.doneAt);
    expect(count.doneAt).toBeLessThan(slow.doneAt);
  });

  it('cancels a statement that runs past the budget and answers QUERY_TIMEOUT naming the limit', async () => {
    const start = Date.now();
    const { res, doneAt } = await timed(start, heavyPath);
    expectTimeout(res);
    expect(doneAt).toBeGreaterThanOrEqual(BUDGET_MS);
    expect(doneAt).toBeLessThan(BUDGET_MS + CANCEL_SLACK_MS);
  });

  it('keeps serving after cancelling: two heavy reads at once are both cancelled, then reads answer', async () => {
    // (a read process killed by the previous test may still be starting: the second may wait for it)
    const both = await Promise.all([svc.get(heavyPath), svc.get(heavyPath)]);
    for (const res of both) expectTimeout(res);
    const count = await svc.get('/Contacts/$count');
    expect([count.status, count.text]).toEqual([200, String(contactCount)]);
    const page = await svc.get('/Contacts?$top=3&$select=Id');
    expect(page.status).toBe(200);
    expect(page.json().value).toHaveLength(Math.min(3, contactCount));
  });
});
