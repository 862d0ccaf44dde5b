/** multipart $batch change sets: nested answers, all-or-nothing, one error part, `$<Content-ID>` references, 1000-request change sets. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  countRows, etagOf, GUID, insertCompany, insertContact, MISSING, rowOf, snapshot, WEAK_ETAG,
} from '../writes/write-support';
import {
  asChangeSet, asHttp, batchParts, expectHttpPartHeaders, expectPartError, expectPartStatus, idFromLocation, marker, notesWithText,
  postNote, sendMultipart, type PartSpec,
} from './batch-support';

const TABLES = ['Companies', 'Contacts', 'Notes'] as const;

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const snapshots = async (): Promise<Record<string, Row[]>> => {
    const out: Record<string, Row[]> = {};
    for (const t of TABLES) out[t] = await snapshot(svc, t);
    return out;
  };

  describe('a change set that succeeds', () => {
    it('answers one nested multipart/mixed part with one part per member, in order, Content-IDs echoed', async () => {
      const existing = await insertContact(svc, { JobTitle: 'Before' });
      const doomed = await insertContact(svc);
      const note = marker('cs ok');
      const parts = batchParts(await sendMultipart(svc, [{
        changeset: [
          { method: 'POST', url: 'Companies', body: { Name: 'Changeset Co' }, contentId: '1' },
          { method: 'PATCH', url: `Contacts(${existing})`, body: { JobTitle: 'After' }, contentId: '2' },
          { method: 'DELETE', url: `Contacts(${doomed})`, contentId: '3' },
          { ...postNote(note), contentId: 'four' },
        ],
      }]));
      expect(parts).toHaveLength(1);
      const cs = asChangeSet(parts[0]);
      expect(cs.mime['content-type']).toMatch(/^multipart\/mixed\s*;\s*boundary=/i);
      expect(cs.parts).toHaveLength(4);
      cs.parts.forEach((p, i) => expectHttpPartHeaders(p, ['1', '2', '3', 'four'][i]));
      expect(cs.parts.map((p) => p.status)).toEqual([201, 204, 204, 201]);
      const company = cs.parts[0].json();
      expect(company.Id).toMatch(GUID);
      expect(cs.parts[0].headers.location).toBe(`${svc.url}/Companies(${company.Id})`);
      expect(cs.parts[0].headers.etag).toMatch(WEAK_ETAG);
      expect((await rowOf(svc, 'Companies', company.Id))!.Name).toBe('Changeset Co');
      expect((await rowOf(svc, 'Contacts', existing))!.JobTitle).toBe('After');
      expect(cs.parts[1].headers.etag).toBe(await etagOf(svc, `/Contacts(${existing})`));
      expect(await rowOf(svc, 'Contacts', doomed)).toBeUndefined();
      expect(await notesWithText(svc, note)).toBe(1);
    });

    it('stamps every write of a change set with the transaction\'s one moment, and a row written twice still gets a newer ETag', async () => {
      const contact = await insertContact(svc, { JobTitle: 'Start' });
      const cs = asChangeSet(batchParts(await sendMultipart(svc, [{
        changeset: [
          { ...postNote(marker('moment a')), contentId: '1' },
          { ...postNote(marker('moment b')), contentId: '2' },
          { method: 'PATCH', url: `Contacts(${contact})`, body: { JobTitle: 'First' }, contentId: '3' },
          { method: 'PATCH', url: `Contacts(${contact})`, body: { JobTitle: 'Second' }, contentId: '4' },
        ],
      }]))[0]);
      expect(cs.parts.map((p) => p.status)).toEqual([201, 201, 204, 204]);
      const [a, b] = [cs.parts[0].json(), cs.parts[1].json()];
      expect(a.Created).toBe(b.Created);
      expect(a.Edited).toBe(a.Created);
      const [first, second] = [cs.parts[2].headers.etag, cs.parts[3].headers.etag];
      expect(first).toMatch(WEAK_ETAG);
      expect(second).not.toBe(first);
      expect(second).toBe(await etagOf(svc, `/Contacts(${contact})`));
      expect((await rowOf(svc, 'Contacts', contact))!.JobTitle).toBe('Second');
    });

    it('requests outside the change set keep their own parts around it', async () => {
      const [before, after] = [marker('before cs'), marker('after cs')];
      const parts = batchParts(await sendMultipart(svc, [
        postNote(before), { changeset: [{ ...postNote(marker('inside')), contentId: '1' }] }, { method: 'GET', url: 'Notes/$count' }, postNote(after),
      ]));
      expect(parts.map((p) => p.kind)).toEqual(['http', 'changeset', 'http', 'http']);
      expectPartStatus(asHttp(parts[0]), 201);
      expectPartStatus(asChangeSet(parts[1]).parts[0], 201);
      expect(Number(asHttp(parts[2]).body)).toBe((await countRows(svc, 'Notes')) - 1);
      expectPartStatus(asHttp(parts[3]), 201);
      expect(await notesWithText(svc, before)).toBe(1);
      expect(await notesWithText(svc, after)).toBe(1);
    });
  });

  describe('a change set that fails is all-or-nothing', () => {
    const FAILURES: readonly [string, (svc: TestService) => Promise<{ part: PartSpec; status: number; code: string }>][] = [
      ['an invalid body (400)', async () => ({ part: { method: 'POST', url: 'Notes', body: { IsPrivate: true } }, status: 400, code: 'VALIDATION_FAILED' })],
      ['a DELETE of a missing entity (404)', async () => ({ part: { method: 'DELETE', url: `Contacts(${MISSING})` }, status: 404, code: 'NOT_FOUND' })],
      ['a stale If-Match (412)', async (s) => ({
        part: { method: 'PATCH', url: `Contacts(${await insertContact(s)})`, headers: { 'If-Match': 'W/"2001-01-01T00:00:00.000Z"' }, body: { JobTitle: 'Nope' } },
        status: 412, code: 'PRECONDITION_FAILED',
      })],
      ['an action that refuses (404)', async () => ({
        part: { method: 'POST', url: 'Contacts/Crm.MassUpdate', body: { Ids: [MISSING], Changes: { JobTitle: 'X' } } }, status: 404, code: 'NOT_FOUND',
      })],
    ];

    it.each(FAILURES)('the last member fails with %s: one application/http error part, nothing stays', async (_what, make) => {
      const existing = await insertContact(svc, { JobTitle: 'Untouched' });
      const doomed = await insertContact(svc);
      const failure = await make(svc);
      const before = await snapshots();
      const parts = batchParts(await sendMultipart(svc, [
        {
          changeset: [
            { method: 'POST', url: 'Companies', body: { Name: 'Rolled back Co' }, contentId: '1' },
            { method: 'POST', url: '$1/Contacts', body: { LastName: 'Rolled back' }, contentId: '2' },
            { method: 'PATCH', url: `Contacts(${existing})`, body: { JobTitle: 'Changed' }, contentId: '3' },
            { method: 'DELETE', url: `Contacts(${doomed})`, contentId: '4' },
            { ...postNote(marker('rolled back')), contentId: '5' },
            { ...failure.part, contentId: '6' },
          ],
        },
      ]));
      expect(parts).toHaveLength(1);
      const part = asHttp(parts[0]);
      expect(part.mime['content-type']).toMatch(/^application\/http/i);
      expectPartError(part, failure.status, failure.code);
      expect(await snapshots()).toEqual(before);
    });

    it('a failure in the first member also answers one error part and runs nothing of the change set', async () => {
      const before = await snapshots();
      const parts = batchParts(await sendMultipart(svc, [{
        changeset: [
          { method: 'POST', url: 'Notes', body: { Text: 'x'.repeat(4001) }, contentId: '1' },
          { ...postNote(marker('second')), contentId: '2' },
        ],
      }]));
      expect(parts).toHaveLength(1);
      expectPartError(asHttp(parts[0]), 400, 'VALIDATION_FAILED');
      expect(await snapshots()).toEqual(before);
    });

    it('a request before the failed change set stays', async () => {
      const kept = marker('kept');
      const lost = marker('lost');
      const parts = batchParts(await sendMultipart(svc, [
        postNote(kept),
        { changeset: [{ ...postNote(lost), contentId: '1' }, { method: 'POST', url: 'Notes', body: {}, contentId: '2' }] },
      ]));
      expect(parts).toHaveLength(2);
      expectPartStatus(asHttp(parts[0]), 201);
      expectPartError(asHttp(parts[1]), 400, 'VALIDATION_FAILED');
      expect(await notesWithText(svc, kept)).toBe(1);
      expect(await notesWithText(svc, lost)).toBe(0);
    });
  });

  describe('references to Content-IDs', () => {
    it('POST $1/Contacts creates a contact of the company created by member 1', async () => {
      const parts = batchParts(await sendMultipart(svc, [{
        changeset: [
          { method: 'POST', url: 'Companies', body: { Name: 'Parent Co' }, contentId: '1' },
          { method: 'POST', url: '$1/Contacts', body: { FirstName: 'Kid', LastName: 'Contact' }, contentId: '2' },
        ],
      }]));
      const cs = asChangeSet(parts[0]);
      expect(cs.parts.map((p) => p.status)).toEqual([201, 201]);
      const company = cs.parts[0].json().Id;
      const contact = cs.parts[1].json();
      expect(contact.CompanyId).toBe(company);
      expect(cs.parts[1].headers.location).toBe(`${svc.url}/Contacts(${contact.Id})`);
      expect(await rowOf(svc, 'Contacts', contact.Id)).toMatchObject({ LastName: 'Contact', CompanyId: company });
      expect((await rowOf(svc, 'Companies', company))!.Name).toBe('Parent Co');
    });

    it('PATCH $1 changes and DELETE $2 deletes the entities created earlier in the change set', async () => {
      const [kept, gone] = [marker('patched'), marker('deleted')];
      const cs = asChangeSet(batchParts(await sendMultipart(svc, [{
        changeset: [
          { ...postNote('draft'), contentId: '1' },
          { ...postNote(gone), contentId: '2' },
          { method: 'PATCH', url: '$1', body: { Text: kept, IsPrivate: true }, contentId: '3' },
          { method: 'DELETE', url: '$2', contentId: '4' },
        ],
      }]))[0]);
      expect(cs.parts.map((p) => p.status)).toEqual([201, 201, 204, 204]);
      const first = cs.parts[0].json().Id;
      expect((await rowOf(svc, 'Notes', first, ['IsPrivate']))).toMatchObject({ Text: kept, IsPrivate: true });
      expect(await rowOf(svc, 'Notes', cs.parts[1].json().Id)).toBeUndefined();
      expect(await notesWithText(svc, gone)).toBe(0);
    });

    it('$1 also means an existing entity addressed by member 1', async () => {
      const company = await insertCompany(svc, { Industry: 'Old' });
      const cs = asChangeSet(batchParts(await sendMultipart(svc, [{
        changeset: [
          { method: 'PATCH', url: `Companies(${company})`, body: { Industry: 'New' }, contentId: '1' },
          { method: 'POST', url: '$1/Contacts', body: { LastName: 'Of existing' }, contentId: '2' },
        ],
      }]))[0]);
      expect(cs.parts.map((p) => p.status)).toEqual([204, 201]);
      expect(cs.parts[1].json().CompanyId).toBe(company);
      expect((await rowOf(svc, 'Companies', company))!.Industry).toBe('New');
      expect(await countRows(svc, 'Contacts', { CompanyId: company, LastName: 'Of existing' })).toBe(1);
    });

    it('"Company@odata.bind": "$1" links to the company created by member 1', async () => {
      const cs = asChangeSet(batchParts(await sendMultipart(svc, [{
        changeset: [
          { method: 'POST', url: 'Companies', body: { Name: 'Bound Co' }, contentId: '1' },
          { method: 'POST', url: 'Contacts', body: { LastName: 'Bound', 'Company@odata.bind': '$1' }, contentId: '2' },
        ],
      }]))[0]);
      expect(cs.parts.map((p) => p.status)).toEqual([201, 201]);
      const company = cs.parts[0].json().Id;
      expect(cs.parts[1].json().CompanyId).toBe(company);
      expect((await rowOf(svc, 'Contacts', cs.parts[1].json().Id))!.CompanyId).toBe(company);
    });

    it('references resolve within their own change set: two change sets may both use Content-ID 1', async () => {
      const parts = batchParts(await sendMultipart(svc, [
        { changeset: [{ method: 'POST', url: 'Companies', body: { Name: 'First Co' }, contentId: '1' }, { method: 'POST', url: '$1/Contacts', body: { LastName: 'First' }, contentId: '2' }] },
        { changeset: [{ method: 'POST', url: 'Companies', body: { Name: 'Second Co' }, contentId: '1' }, { method: 'POST', url: '$1/Contacts', body: { LastName: 'Second' }, contentId: '2' }] },
      ]));
      const [a, b] = parts.map(asChangeSet);
      expect([...a.parts, ...b.parts].map((p) => p.status)).toEqual([201, 201, 201, 201]);
      expect(a.parts[1].json().CompanyId).toBe(a.parts[0].json().Id);
      expect(b.parts[1].json().CompanyId).toBe(b.parts[0].json().Id);
      expect(a.parts[0].json().Id).not.toBe(b.parts[0].json().Id);
    });
  });

  describe('1000 requests in one change set', () => {
    const notes = (prefix: string, invalidAt?: number): PartSpec[] => Array.from({ length: 1000 }, (_, i) => ({
      method: 'POST', url: 'Notes', contentId: String(i + 1),
      body: i + 1 === invalidAt ? { Text: null } : { Text: `${prefix} ${i + 1}` },
    }));

    it('a change set of 1000 POSTs to Notes succeeds in one request', async () => {
      const prefix = marker('thousand');
      const count = await countRows(svc, 'Notes');
      const parts = batchParts(await sendMultipart(svc, [{ changeset: notes(prefix) }]));
      expect(parts).toHaveLength(1);
      const cs = asChangeSet(parts[0]);
      expect(cs.parts).toHaveLength(1000);
      expect(cs.parts.every((p) => p.status === 201)).toBe(true);
      expect(cs.parts.map((p) => p.mime['content-id'])).toEqual(Array.from({ length: 1000 }, (_, i) => String(i + 1)));
      expect(cs.parts[499].json().Text).toBe(`${prefix} 500`);
      expect(new Set(cs.parts.map((p) => idFromLocation(p.headers.location))).size).toBe(1000);
      expect(await countRows(svc, 'Notes')).toBe(count + 1000);
      const stored = ((await svc.knex('Notes').where('Text', 'like', `${prefix} %`).select('Text')) as Row[]).map((r) => String(r.Text)).sort();
      expect(stored).toEqual(Array.from({ length: 1000 }, (_, i) => `${prefix} ${i + 1}`).sort());
    }, 120000);

    it('a change set of 1000 POSTs whose 500th is invalid answers that 400 and leaves the Notes count unchanged', async () => {
      const prefix = marker('atomic thousand');
      const count = await countRows(svc, 'Notes');
      const parts = batchParts(await sendMultipart(svc, [{ changeset: notes(prefix, 500) }]));
      expect(parts).toHaveLength(1);
      const error = expectPartError(asHttp(parts[0]), 400, 'VALIDATION_FAILED');
      expect(error.details.map((d) => d.target)).toEqual(['Text']);
      expect(await countRows(svc, 'Notes')).toBe(count);
      expect(await svc.knex('Notes').where('Text', 'like', `${prefix} %`).first('Id')).toBeUndefined();
    }, 120000);
  });
});
