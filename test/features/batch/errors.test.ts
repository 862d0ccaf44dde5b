/** multipart $batch errors outside change sets: stop at the first failure, or run everything with Prefer: odata.continue-on-error. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import { etagOf, insertContact, MISSING, rowOf } from '../writes/write-support';
import {
  asChangeSet, asHttp, batchParts, expectPartError, expectPartStatus, marker, notesWithText, postNote, sendMultipart, type PartSpec,
} from './batch-support';

/** The preference tokens of a Preference-Applied header. */
const tokens = (header: string | null): string[] => (header ?? '').split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** POST A, a request that fails, POST B, PATCH of a contact. */
  async function batchWithFailure(failing: PartSpec): Promise<{ entries: PartSpec[]; a: string; b: string; contact: string }> {
    const [a, b] = [marker('a'), marker('b')];
    const contact = await insertContact(svc, { JobTitle: 'Unchanged' });
    return {
      a, b, contact,
      entries: [postNote(a), failing, postNote(b), { method: 'PATCH', url: `Contacts(${contact})`, body: { JobTitle: 'Changed' } }],
    };
  }

  const FAILING: readonly [string, PartSpec, number, string][] = [
    ['a GET of a missing entity (404)', { method: 'GET', url: `Contacts(${MISSING})` }, 404, 'NOT_FOUND'],
    ['an invalid POST (400)', { method: 'POST', url: 'Notes', body: { Text: null } }, 400, 'VALIDATION_FAILED'],
    ['a GET with a syntax error (400)', { method: 'GET', url: 'Contacts?$filter=LastName%20eq' }, 400, 'SYNTAX_ERROR'],
    ['an unknown entity set (404)', { method: 'GET', url: 'NoSuchSet' }, 404, 'NOT_FOUND'],
  ];

  describe('without continue-on-error processing stops after the first failed request', () => {
    it.each(FAILING)('%s: the parts up to and including the failure, later parts not executed', async (_what, failing, status, code) => {
      const { entries, a, b, contact } = await batchWithFailure(failing);
      const res = await sendMultipart(svc, entries);
      const parts = batchParts(res);
      expect(parts).toHaveLength(2);
      expectPartStatus(asHttp(parts[0]), 201);
      expectPartError(asHttp(parts[1]), status, code);
      expect(await notesWithText(svc, a)).toBe(1);
      expect(await notesWithText(svc, b)).toBe(0);
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Unchanged');
      expect(res.headers.get('preference-applied')).toBeNull();
    });

    it('a failure in the first part answers just that part', async () => {
      const later = marker('never');
      const parts = batchParts(await sendMultipart(svc, [{ method: 'DELETE', url: `Notes(${MISSING})` }, postNote(later)]));
      expect(parts).toHaveLength(1);
      expectPartError(asHttp(parts[0]), 404, 'NOT_FOUND');
      expect(await notesWithText(svc, later)).toBe(0);
    });

    it('a status below 400 is not a failure: a 304 does not stop the batch', async () => {
      const contact = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${contact})`);
      const later = marker('after 304');
      const parts = batchParts(await sendMultipart(svc, [{ method: 'GET', url: `Contacts(${contact})`, headers: { 'If-None-Match': etag } }, postNote(later)]));
      expect(parts).toHaveLength(2);
      expectPartStatus(asHttp(parts[0]), 304);
      expectPartStatus(asHttp(parts[1]), 201);
      expect(await notesWithText(svc, later)).toBe(1);
    });

    it('the requests before the failure are committed even though the batch stopped', async () => {
      const contact = await insertContact(svc, { JobTitle: 'Before' });
      const parts = batchParts(await sendMultipart(svc, [
        { method: 'PATCH', url: `Contacts(${contact})`, body: { JobTitle: 'Committed' } }, { method: 'GET', url: `Contacts(${MISSING})` },
      ]));
      expect(parts.map((p) => asHttp(p).status)).toEqual([204, 404]);
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Committed');
    });
  });

  describe.each(['odata.continue-on-error', 'continue-on-error'])('with Prefer: %s every part runs', (prefer) => {
    it.each(FAILING)('%s: every part answered, later parts executed, Preference-Applied', async (_what, failing, status, code) => {
      const { entries, a, b, contact } = await batchWithFailure(failing);
      const res = await sendMultipart(svc, entries, { Prefer: prefer });
      const parts = batchParts(res).map(asHttp);
      expect(parts).toHaveLength(4);
      expectPartStatus(parts[0], 201);
      expectPartError(parts[1], status, code);
      expectPartStatus(parts[2], 201);
      expect(parts[2].json().Text).toBe(b);
      expectPartStatus(parts[3], 204);
      expect(await notesWithText(svc, a)).toBe(1);
      expect(await notesWithText(svc, b)).toBe(1);
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Changed');
      expect(tokens(res.headers.get('preference-applied'))).toContain('odata.continue-on-error');
    });

    it('several failures are all answered, and a failed change set does not stop the rest', async () => {
      const [kept, lost, last] = [marker('kept'), marker('lost'), marker('last')];
      const res = await sendMultipart(svc, [
        { method: 'GET', url: `Contacts(${MISSING})` },
        { changeset: [{ ...postNote(lost), contentId: '1' }, { method: 'POST', url: 'Notes', body: {}, contentId: '2' }] },
        postNote(kept),
        { method: 'DELETE', url: `Notes(${MISSING})` },
        postNote(last),
      ], { Prefer: prefer });
      const parts = batchParts(res);
      expect(parts).toHaveLength(5);
      expectPartError(asHttp(parts[0]), 404, 'NOT_FOUND');
      expectPartError(asHttp(parts[1]), 400, 'VALIDATION_FAILED');
      expectPartStatus(asHttp(parts[2]), 201);
      expectPartError(asHttp(parts[3]), 404, 'NOT_FOUND');
      expectPartStatus(asHttp(parts[4]), 201);
      expect(await notesWithText(svc, lost)).toBe(0);
      expect(await notesWithText(svc, kept)).toBe(1);
      expect(await notesWithText(svc, last)).toBe(1);
      expect(tokens(res.headers.get('preference-applied'))).toContain('odata.continue-on-error');
    });

    it('a successful change set still answers as a nested multipart part', async () => {
      const text = marker('cs with continue');
      const res = await sendMultipart(svc, [{ method: 'GET', url: `Contacts(${MISSING})` }, { changeset: [{ ...postNote(text), contentId: '1' }] }], { Prefer: prefer });
      const parts = batchParts(res);
      expectPartError(asHttp(parts[0]), 404, 'NOT_FOUND');
      expectPartStatus(asChangeSet(parts[1]).parts[0], 201);
      expect(await notesWithText(svc, text)).toBe(1);
    });
  });

  it('Preference-Applied is absent when continue-on-error was not asked for, even when every part succeeds', async () => {
    const res = await sendMultipart(svc, [postNote(marker('plain'))]);
    expectPartStatus(asHttp(batchParts(res)[0]), 201);
    expect(tokens(res.headers.get('preference-applied'))).not.toContain('odata.continue-on-error');
  });
});
