/**
 * Malformed multipart batches and limits: the whole batch answers 400 INVALID_BATCH / LIMIT_EXCEEDED (or 413 for the
 * body size) with a clear message, and nothing runs: a valid POST placed before the problem did not happen.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import { countRows, newId } from '../writes/write-support';
import {
  asChangeSet, asHttp, batchParts, CRLF, expectBatchError, expectPartStatus, httpRequest, marker, multipartBody, multipartType, notesWithText,
  postNote, sendBatch, type Entry, type PartSpec,
} from './batch-support';

const MIB = 1024 * 1024;

/** A raw part: MIME header lines, then `content` verbatim (the caller decides about blank lines). */
const rawPart = (mimeLines: readonly string[], content: string): Entry => ({ raw: mimeLines.join(CRLF) + CRLF + content });
const HTTP_MIME = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];

/** A POST /Notes whose JSON body is padded with spaces to about `bytes` bytes (still valid JSON). */
const paddedNote = (text: string, bytes: number): PartSpec => {
  const json = JSON.stringify({ Text: text });
  return { method: 'POST', url: 'Notes', headers: { 'Content-Type': 'application/json' }, body: `${json.slice(0, -1)}${' '.repeat(Math.max(0, bytes - json.length))}}` };
};

interface Case {
  /** the batch body and Content-Type, given a valid Note text placed before the problem and a text used in the problem part */
  build(before: string, inside: string): { body: string; contentType: string };
  readonly message: RegExp;
}

const withParts = (entries: (before: string, inside: string) => Entry[]): Case['build'] => (before, inside) => ({
  body: multipartBody(entries(before, inside)), contentType: multipartType(),
});

const CASES: readonly [string, Case][] = [
  ['multipart/mixed without boundary=', {
    build: (before, inside) => ({ body: multipartBody([postNote(before), postNote(inside)]), contentType: 'multipart/mixed' }),
    message: /boundary/i,
  }],
  ['a body that never contains --<boundary>', {
    build: (before, inside) => ({ body: multipartBody([postNote(before), postNote(inside)], { boundary: 'other_b' }), contentType: multipartType('batch_b') }),
    message: /boundary|delimiter/i,
  }],
  ['a missing close delimiter --b--', {
    build: (before, inside) => ({ body: multipartBody([postNote(before), postNote(inside)], { close: false }), contentType: multipartType() }),
    message: /close|delimiter|end|--batch_b--/i,
  }],
  ['a part without the blank line between its MIME headers and the request line', {
    build: withParts((before, inside) => [postNote(before), rawPart(HTTP_MIME, httpRequest(postNote(inside)))]),
    message: /blank|empty|header/i,
  }],
  ['a request with a body but no blank line after its headers', {
    build: withParts((before, inside) => [
      postNote(before),
      rawPart([...HTTP_MIME, ''], ['POST Notes HTTP/1.1', 'Content-Type: application/json', JSON.stringify({ Text: inside })].join(CRLF)),
    ]),
    message: /blank|empty|header/i,
  }],
  ['a change set inside a change set', {
    build: withParts((before, inside) => [
      postNote(before),
      { changeset: [{ ...postNote(`${before} cs`), contentId: '1' }, { changeset: [{ ...postNote(inside), contentId: '2' }], boundary: 'inner_cs' }] },
    ]),
    message: /change ?set|nest/i,
  }],
  ['a GET inside a change set', {
    build: withParts((before, inside) => [
      postNote(before),
      { changeset: [{ ...postNote(inside), contentId: '1' }, { method: 'GET', url: 'Notes', contentId: '2' }] },
    ]),
    message: /GET|change ?set/i,
  }],
  ['Content-Transfer-Encoding: base64', {
    build: withParts((before, inside) => [
      postNote(before),
      rawPart(['Content-Type: application/http', 'Content-Transfer-Encoding: base64', ''], Buffer.from(httpRequest(postNote(inside))).toString('base64')),
    ]),
    message: /base64|transfer-encoding/i,
  }],
  ['Content-Transfer-Encoding: quoted-printable', {
    build: withParts((before, inside) => [postNote(before), postNote(inside, { mime: { 'Content-Transfer-Encoding': 'quoted-printable' } })]),
    message: /quoted-printable|transfer-encoding/i,
  }],
  ['a part Content-Type text/plain', {
    build: withParts((before, inside) => [postNote(before), postNote(inside, { mime: { 'Content-Type': 'text/plain' } })]),
    message: /content-type|text\/plain|application\/http/i,
  }],
  ['a part Content-Type application/json', {
    build: withParts((before, inside) => [postNote(before), postNote(inside, { mime: { 'Content-Type': 'application/json' } })]),
    message: /content-type|application\/json|application\/http/i,
  }],
  ['a Content-ID used twice in one change set', {
    build: withParts((before, inside) => [
      postNote(before),
      { changeset: [{ ...postNote(`${inside} a`), contentId: '1' }, { ...postNote(`${inside} b`), contentId: '1' }] },
    ]),
    message: /content-id|duplicate|twice|more than once/i,
  }],
  ...([
    ['without the HTTP version', 'POST Notes'],
    ['with an extra token', 'POST Notes HTTP/1.1 extra'],
    ['with another protocol', 'POST Notes XTTP/1.1'],
    ['without a URL', 'POST HTTP/1.1'],
  ] as const).map(([what, line]): [string, Case] => [`a request line ${what} ('${line}')`, {
    build: withParts((before, inside) => [
      postNote(before),
      rawPart([...HTTP_MIME, ''], `${line}${CRLF}Content-Type: application/json${CRLF}${CRLF}${JSON.stringify({ Text: inside })}`),
    ]),
    message: /request line|HTTP\/1\.1|method|url/i,
  }]),
];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  /** Asserts that none of the Notes the batch tried to create exists, and that the Notes count did not change. */
  async function nothingRan(count: number, ...texts: string[]): Promise<void> {
    for (const t of texts) {
      expect(await notesWithText(svc, t)).toBe(0);
      expect(await svc.knex('Notes').where('Text', 'like', `${t}%`).first('Id')).toBeUndefined();
    }
    expect(await countRows(svc, 'Notes')).toBe(count);
  }

  describe('malformed → 400 INVALID_BATCH, nothing runs', () => {
    it.each(CASES)('%s', async (_what, c) => {
      const [before, inside] = [marker('before'), marker('inside')];
      const count = await countRows(svc, 'Notes');
      const { body, contentType } = c.build(before, inside);
      const res = await sendBatch(svc, body, contentType);
      expectBatchError(res, 400, 'INVALID_BATCH', c.message);
      await nothingRan(count, before, inside);
    });

    it('the same batches without the problem run (the builders are sound)', async () => {
      const [before, inside] = [marker('sound before'), marker('sound inside')];
      const parts = batchParts(await sendBatch(svc, multipartBody([postNote(before), { changeset: [{ ...postNote(inside), contentId: '1' }] }]), multipartType()));
      expectPartStatus(asHttp(parts[0]), 201);
      expectPartStatus(asChangeSet(parts[1]).parts[0], 201);
      expect(await notesWithText(svc, before)).toBe(1);
      expect(await notesWithText(svc, inside)).toBe(1);
    });
  });

  describe('limits', () => {
    it('more than 5000 parts (ODATA_BATCH_MAX_PARTS default) → 400 LIMIT_EXCEEDED, nothing runs', async () => {
      const before = marker('5001 parts');
      const count = await countRows(svc, 'Notes');
      const entries: Entry[] = [postNote(before), ...Array.from({ length: 5000 }, (): PartSpec => ({ method: 'GET', url: 'SystemInfo()' }))];
      const res = await sendBatch(svc, multipartBody(entries), multipartType());
      expectBatchError(res, 400, 'LIMIT_EXCEEDED', /5000|parts/i);
      await nothingRan(count, before);
    }, 120000);

    it('change-set members count as parts: a change set of 5001 POSTs → 400 LIMIT_EXCEEDED, nothing runs', async () => {
      const before = marker('5001 members');
      const tag = newId().slice(0, 8);
      const count = await countRows(svc, 'Notes');
      // short members, so that the change set as a whole stays under the 1 MiB part limit
      const members = Array.from({ length: 5001 }, (_, i): PartSpec => ({ ...postNote(`${tag}${i}`), contentId: String(i + 1) }));
      const body = multipartBody([postNote(before), { changeset: members, boundary: 'cs' }]);
      expect(Buffer.byteLength(body)).toBeLessThan(MIB - 4096);
      const res = await sendBatch(svc, body, multipartType());
      expectBatchError(res, 400, 'LIMIT_EXCEEDED', /5000|parts/i);
      await nothingRan(count, before, tag);
    }, 120000);

    it('exactly 5000 parts run', async () => {
      const before = marker('5000 parts');
      const entries: Entry[] = [postNote(before), ...Array.from({ length: 4999 }, (): PartSpec => ({ method: 'GET', url: 'SystemInfo()' }))];
      const parts = batchParts(await sendBatch(svc, multipartBody(entries), multipartType()));
      expect(parts).toHaveLength(5000);
      expectPartStatus(asHttp(parts[0]), 201);
      expectPartStatus(asHttp(parts[4999]), 200);
      expect(await notesWithText(svc, before)).toBe(1);
    }, 120000);

    it('a part larger than 1 MiB (ODATA_BATCH_MAX_PART_BYTES default) → 400 LIMIT_EXCEEDED, nothing runs', async () => {
      const [before, big] = [marker('before big part'), marker('big part')];
      const count = await countRows(svc, 'Notes');
      const res = await sendBatch(svc, multipartBody([postNote(before), paddedNote(big, Math.round(1.1 * MIB))]), multipartType());
      expectBatchError(res, 400, 'LIMIT_EXCEEDED', /part|bytes|large|MiB|1048576/i);
      await nothingRan(count, before, big);
    });

    it('a part just under 1 MiB runs', async () => {
      const text = marker('almost 1 MiB');
      const parts = batchParts(await sendBatch(svc, multipartBody([paddedNote(text, MIB - 4096)]), multipartType()));
      expectPartStatus(asHttp(parts[0]), 201);
      expect(await notesWithText(svc, text)).toBe(1);
    });

    it('a whole body over ODATA_MAX_BODY_BYTES (10 MiB) → 413, nothing runs', async () => {
      const before = marker('huge body');
      const count = await countRows(svc, 'Notes');
      const entries: Entry[] = [postNote(before), ...Array.from({ length: 11 }, (_, i) => paddedNote(`${before} ${i}`, MIB - 4096))];
      const body = multipartBody(entries);
      expect(Buffer.byteLength(body)).toBeGreaterThan(10 * MIB);
      const res = await sendBatch(svc, body, multipartType());
      expectBatchError(res, 413, 'PAYLOAD_TOO_LARGE');
      await nothingRan(count, before);
    }, 120000);
  });
});
