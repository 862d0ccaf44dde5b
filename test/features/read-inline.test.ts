/**
 * Issue 15, item 6: on SQLite a read whose shape does not bound its work (a filter, a sort on other
 * columns, an `any`) runs in a read process until a run has measured its statement cheap; the same
 * statement with the same values then runs on the service's own connection while it took at most
 * INLINE_READ_MS of CPU, no other read is running or waiting, and no write transaction holds the
 * connection (ReadPool.runMeasured). The answer is the same either way; a dear statement stays in the
 * read processes. PostgreSQL has no read processes: the same answers, nothing inline.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { enc } from './support';

const FILTERED = `/Contacts?$filter=${enc("startswith(LastName,'S') and BusinessAddress/State ne 'XX'")}&$orderby=LastName,FirstName&$top=20&$select=Id,FullName`;
const IN_A_GROUP = `/Contacts?$filter=${enc('Groups/any()')}&$top=10&$select=Id`;
/** contacts sharing a group with a contact whose first name is their last name: nested loops over every membership, many ms */
const DEAR = `/Contacts?$select=Id&$filter=${enc('Groups/any(g:g/Contacts/any(c:c/Groups/any(h:h/Contacts/any(d:d/FirstName eq $it/LastName))))')}`;

describe.each(ENGINES)('reads measured inline on $name', (engine) => {
  let svc: TestService;
  const inlineRuns = (): number => svc.running.services.reads?.use().inline ?? 0;

  beforeAll(async () => {
    svc = await startTestService(engine, { config: { sqliteReadProcesses: 1 } });
  }, 120_000);
  afterAll(async () => svc?.close());

  it.each([['a filtered, sorted page', FILTERED], ['an any over a link table', IN_A_GROUP]])('%s: the read process first, inline after, the same answer', async (_label, path) => {
    const before = inlineRuns();
    const first = await svc.get(path);
    expect(first.status).toBe(200);
    expect((first.json().value as unknown[]).length).toBeGreaterThan(0);
    expect(inlineRuns()).toBe(before);
    // a read process's first run of a statement is cold (its pages, its code): a second run may be needed to measure it
    for (let run = 0; run < 3 && inlineRuns() === before; run++) {
      const again = await svc.get(path);
      expect(again.status).toBe(200);
      expect(again.json()).toEqual(first.json());
    }
    expect(inlineRuns()).toBe(engine.name === 'sqlite' ? before + 1 : 0);
  });

  it('a statement measured dearer than the inline budget stays in the read processes', async () => {
    const first = await svc.get(DEAR);
    expect(first.status).toBe(200);
    const before = inlineRuns();
    const second = await svc.get(DEAR);
    expect(second.json()).toEqual(first.json());
    expect(inlineRuns()).toBe(before);
  });

  it('the same filter with another value is measured on its own', async () => {
    const path = (letter: string) => `/Contacts?$filter=${enc(`startswith(LastName,'${letter}')`)}&$orderby=FirstName&$select=Id`;
    await svc.get(path('B'));
    const before = inlineRuns();
    expect((await svc.get(path('C'))).status).toBe(200);
    expect(inlineRuns()).toBe(before);
  });

  it('a read while a change set holds the connection runs beside it and never sees its rows half-written', async () => {
    const marker = `inline-${engine.name}-${Date.now()}`;
    const notes = `/Notes?$filter=${enc(`startswith(Text,'${marker}')`)}&$count=true&$top=0`;
    expect((await svc.get(notes)).json()['@odata.count']).toBe(0);
    const parts = Array.from({ length: 300 }, (_, i) => `--cs\r\nContent-Type: application/http\r\nContent-ID: ${i + 1}\r\n\r\n`
      + `POST Notes HTTP/1.1\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ Text: `${marker} ${i}` })}\r\n`).join('');
    const body = `--b\r\nContent-Type: multipart/mixed;boundary=cs\r\n\r\n${parts}--cs--\r\n--b--\r\n`;
    const batch = svc.request('POST', '/$batch', { headers: { 'Content-Type': 'multipart/mixed;boundary=b' }, body });
    const reads = [];
    for (let i = 0; i < 20; i++) {
      reads.push(svc.get(notes));
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const answers = await Promise.all(reads);
    const done = await batch;
    expect(done.status).toBe(200);
    expect(done.text).not.toMatch(/HTTP\/1\.1 [45]\d\d/);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect([0, 300]).toContain(answer.json()['@odata.count']);
    }
    expect((await svc.get(notes)).json()['@odata.count']).toBe(300);
  });
});
