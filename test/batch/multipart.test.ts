/** Unit tests for the multipart/mixed $batch reader (splitting, malformed input, limits) and writer (round trip). */
import type { BatchItem, BatchLimits, ResponseItem } from '../../src/batch/batch-types';
import { MultipartBatchReader, parseMultipartBatch } from '../../src/batch/multipart-reader';
import { writeHttpMessage, writeMultipartBatch } from '../../src/batch/multipart-writer';
import { ODataError } from '../../src/errors/odata-error';
import { errorOf } from '../helpers/errors';

const LIMITS: BatchLimits = { maxParts: 100, maxPartBytes: 1 << 20 };
const TYPE = 'multipart/mixed;boundary=batch_1';
const HTTP_MIME = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];

/** A batch body from parts given as lines (MIME headers, blank line, content). */
function batch(parts: readonly string[][], eol = '\r\n', boundary = 'batch_1'): string {
  return parts.map((p) => `--${boundary}${eol}${p.join(eol)}${eol}`).join('') + `--${boundary}--${eol}`;
}
const request = (lines: string[], mime: string[] = HTTP_MIME): string[] => [...mime, '', ...lines];
const get = (url: string): string[] => request([`GET ${url} HTTP/1.1`, '']);
const post = (id: string, url = 'Companies'): string[] =>
  request([`POST ${url} HTTP/1.1`, 'Content-Type: application/json', '', '{"Name":"X"}'], [...HTTP_MIME, `Content-ID: ${id}`]);
function changeSet(members: readonly string[][], boundary = 'changeset_1'): string[] {
  return [`Content-Type: multipart/mixed;boundary=${boundary}`, '', ...members.flatMap((m) => [`--${boundary}`, ...m]), `--${boundary}--`];
}

const parse = (body: string, limits = LIMITS, type = TYPE): BatchItem[] => parseMultipartBatch(type, Buffer.from(body), limits);

const oDataErrorOf = (run: () => unknown): ODataError => errorOf(run, ODataError);

/** Feeds the body in chunks of `size` bytes; returns the items, or the error and how many bytes had been written. */
function feed(body: string, size: number, limits = LIMITS): { items?: BatchItem[]; error?: ODataError; written: number; total: number } {
  const bytes = Buffer.from(body);
  const reader = new MultipartBatchReader(TYPE, limits);
  let written = 0;
  try {
    for (; written < bytes.length; written += size) reader.write(bytes.subarray(written, written + size));
    return { items: reader.end(), written, total: bytes.length };
  } catch (err) {
    if (!(err instanceof ODataError)) throw err;
    return { error: err, written, total: bytes.length };
  }
}

function sample(eol: string): string {
  const patch = request(['PATCH $1 HTTP/1.1', 'Content-Type: application/json', 'If-Match: *', '', '{', '  "Name": "B"', '}'], ['Content-Type: application/http', 'Content-ID: 2']);
  const del = request(['delete Contacts(3) HTTP/1.1'], ['Content-Type: application/http']);
  const first = request(['GET Contacts?$top=2 HTTP/1.1', 'Accept: application/json', '']);
  return `preamble${eol}` + batch([first, changeSet([post('1'), patch]), del], eol) + 'epilogue';
}

function sampleItems(eol: string): BatchItem[] {
  return [
    { kind: 'request', part: { method: 'GET', url: 'Contacts?$top=2', headers: { accept: 'application/json' } } },
    {
      kind: 'changeset',
      id: 'changeset_1',
      parts: [
        { id: '1', method: 'POST', url: 'Companies', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"Name":"X"}') },
        { id: '2', method: 'PATCH', url: '$1', headers: { 'content-type': 'application/json', 'if-match': '*' }, body: Buffer.from(['{', '  "Name": "B"', '}'].join(eol)) },
      ],
    },
    { kind: 'request', part: { method: 'DELETE', url: 'Contacts(3)', headers: {} } },
  ];
}

describe('MultipartBatchReader: well-formed batches', () => {
  it.each([['CRLF', '\r\n'], ['LF', '\n']])('reads requests and a change set with %s line ends', (_name, eol) => {
    expect(parse(sample(eol))).toEqual(sampleItems(eol));
  });

  it.each([1, 2, 3, 7, 13, 64])('gives the same result when fed in chunks of %i bytes (delimiters split)', (size) => {
    expect(feed(sample('\r\n'), size).items).toEqual(sampleItems('\r\n'));
    expect(feed(sample('\n'), size).items).toEqual(sampleItems('\n'));
  });

  it('accepts a quoted boundary, other parameters, and whitespace after delimiters', () => {
    const body = `--b 1 \t\r\n${get('A').join('\r\n')}\r\n--b 1--  \r\n`;
    const items = parse(body, LIMITS, 'Multipart/Mixed; charset=utf-8; Boundary="b 1"');
    expect(items).toEqual([{ kind: 'request', part: { method: 'GET', url: 'A', headers: {} } }]);
  });

  it('keeps text that only starts like a delimiter, binary bytes and bare CRs in the body', () => {
    const content = '--batch_1x\r\n--batch_1-y\r\nend\r\u0000\u00ff';
    const [item] = parse(batch([request(['POST A HTTP/1.1', '', content])]));
    expect(item.kind === 'request' && item.part.body?.toString()).toBe(content);
  });

  it('accepts a request without the blank line when the part ends after its headers', () => {
    const items = parse(batch([request(['GET A HTTP/1.1', 'Accept: x']), request(['GET B HTTP/1.1']), get('C')]));
    expect(items.map((i) => i.kind === 'request' && i.part)).toEqual([
      { method: 'GET', url: 'A', headers: { accept: 'x' } },
      { method: 'GET', url: 'B', headers: {} },
      { method: 'GET', url: 'C', headers: {} },
    ]);
  });

  it('joins repeated and folded headers, accepts 7bit/8bit, and leaves a member without Content-ID unnamed', () => {
    const headers = ['GET A HTTP/1.1', 'Prefer: a', 'Prefer: b', 'X-Long: one', '  two', ''];
    const noId = request(['POST B HTTP/1.1', ''], ['Content-Type: application/http', 'Content-Transfer-Encoding: 8bit']);
    const items = parse(batch([request(headers, ['Content-Type: application/http', 'Content-Transfer-Encoding: 7BIT']), changeSet([noId])]));
    expect(items).toEqual([
      { kind: 'request', part: { method: 'GET', url: 'A', headers: { prefer: 'a, b', 'x-long': 'one two' } } },
      { kind: 'changeset', id: 'changeset_1', parts: [{ method: 'POST', url: 'B', headers: {} }] },
    ]);
  });

  it('reads an empty batch', () => {
    expect(parse('--batch_1--\r\n')).toEqual([]);
  });
});

describe('MultipartBatchReader: malformed batches are INVALID_BATCH', () => {
  it.each([
    ['not multipart', 'application/json', /must be multipart\/mixed/],
    ['no boundary', 'multipart/mixed', /no boundary/],
    ['an empty boundary', 'multipart/mixed; boundary=""', /no boundary/],
  ])('rejects a Content-Type that is %s', (_name, type, message) => {
    const err = oDataErrorOf(() => new MultipartBatchReader(type, LIMITS));
    expect([err.code, err.message]).toEqual(['INVALID_BATCH', expect.stringMatching(message)]);
  });

  const post1 = post('1');
  const cases: [string, string, RegExp][] = [
    ['a body without any delimiter', 'GET A HTTP/1.1\r\n\r\n', /the batch body contains no delimiter '--batch_1'/],
    ['an empty body', '', /no delimiter '--batch_1'/],
    ['a missing close delimiter', batch([get('A')]).replace('--batch_1--\r\n', ''), /^the batch body ends without the close delimiter '--batch_1--'/],
    ['a cut close delimiter', batch([get('A')]).replace('--batch_1--\r\n', '--batch_1-'), /ends without the close delimiter '--batch_1--'/],
    ['no blank line between part headers and request line', batch([post1, [...HTTP_MIME, 'GET A HTTP/1.1', '']]), /^part 2: 'GET A HTTP\/1.1' is not a part header; a blank line must separate/],
    ['no blank line between request headers and body', batch([request(['POST A HTTP/1.1', 'Content-Type: application/json', '{"a":1}'])]), /^part 1: '\{"a":1\}' is not a request header; a blank line must separate the request headers from the body/],
    ['a change set inside a change set', batch([post1, changeSet([changeSet([post('2')], 'inner')])]), /^part 2.1: a change set cannot contain another change set/],
    ['a GET inside a change set', batch([changeSet([post1, get('A')])]), /^part 1.2: GET is not allowed in a change set/],
    ['a HEAD inside a change set', batch([changeSet([request(['HEAD A HTTP/1.1'])])]), /^part 1.1: HEAD is not allowed in a change set/],
    ['Content-Transfer-Encoding base64', batch([request(['GET A HTTP/1.1'], ['Content-Type: application/http', 'Content-Transfer-Encoding: base64'])]), /^part 1: Content-Transfer-Encoding 'base64' is not supported/],
    ['Content-Transfer-Encoding quoted-printable', batch([post1, request(['GET A HTTP/1.1'], ['Content-Type: application/http', 'Content-Transfer-Encoding: quoted-printable'])]), /^part 2: Content-Transfer-Encoding 'quoted-printable'/],
    ['a part Content-Type text/plain', batch([request(['GET A HTTP/1.1'], ['Content-Type: text/plain'])]), /^part 1: part Content-Type 'text\/plain' is not supported/],
    ['a part without Content-Type', batch([request(['GET A HTTP/1.1'], ['Content-ID: 1'])]), /^part 1: the part has no Content-Type/],
    ['a Content-ID used twice in a change set', batch([changeSet([post1, post('2'), post('1')])]), /^part 1.3: Content-ID '1' is used twice in the change set/],
    ['a request line without version', batch([request(['GET Contacts'])]), /^part 1: invalid request line 'GET Contacts', expected 'METHOD URL HTTP\/1.1'/],
    ['a request line with HTTP/1.0', batch([request(['GET Contacts HTTP/1.0'])]), /^part 1: invalid request line/],
    ['a request line with two spaces', batch([request(['GET  Contacts HTTP/1.1'])]), /^part 1: invalid request line/],
    ['a request line without method', batch([request(['Contacts HTTP/1.1'])]), /^part 1: invalid request line/],
    ['a part without a request', batch([get('A'), [...HTTP_MIME, '', '']]), /^part 2: the part has no HTTP request/],
    ['a part with headers only', batch([HTTP_MIME]), /^part 1: the part headers are not followed by a blank line/],
    ['an empty part', batch([get('A'), get('B'), []]), /^part 3: the part is empty/],
    ['a change set without boundary', batch([['Content-Type: multipart/mixed', '', '--changeset_1']]), /^part 1: Content-Type 'multipart\/mixed' has no boundary/],
    ['a change set without close delimiter', batch([changeSet([post1]).slice(0, -1)]), /^part 1: the change set ends without the close delimiter '--changeset_1--'/],
    ['a change set without delimiter', batch([['Content-Type: multipart/mixed;boundary=cs', '', 'nothing']]), /^part 1: the change set contains no delimiter '--cs'/],
    ['an empty change set', batch([changeSet([])]), /^part 1: the change set has no parts/],
  ];
  it.each(cases)('rejects %s', (_name, body, message) => {
    const err = oDataErrorOf(() => parse(body));
    expect([err.code, err.message]).toEqual(['INVALID_BATCH', expect.stringMatching(message)]);
  });

  it('keeps failing with the same error after a failure', () => {
    const reader = new MultipartBatchReader(TYPE, LIMITS);
    const err = oDataErrorOf(() => reader.write(Buffer.from(batch([request(['GET A'])]))));
    expect(oDataErrorOf(() => reader.write(Buffer.from('more')))).toBe(err);
    expect(oDataErrorOf(() => reader.end())).toBe(err);
  });
});

describe('MultipartBatchReader: limits are LIMIT_EXCEEDED', () => {
  const limits = (maxParts: number, maxPartBytes = 1 << 20): BatchLimits => ({ maxParts, maxPartBytes });

  it('allows maxParts requests and rejects one more, counting change-set members', () => {
    expect(parse(batch([get('A'), get('B'), get('C')]), limits(3))).toHaveLength(3);
    const err = oDataErrorOf(() => parse(batch([get('A'), changeSet([post('1'), post('2'), post('3')])]), limits(3)));
    expect([err.code, err.message]).toEqual(['LIMIT_EXCEEDED', 'part 2.3: the batch has more than 3 parts (ODATA_BATCH_MAX_PARTS)']);
  });

  it('stops at the part that exceeds maxParts, before the rest is written', () => {
    const body = batch(Array.from({ length: 50 }, (_, i) => get(`Contacts(${i})`)));
    const result = feed(body, 16, limits(2));
    expect(result.error?.code).toBe('LIMIT_EXCEEDED');
    expect(result.error?.message).toMatch(/^part 3: /);
    expect(result.written).toBeLessThan(body.length / 10);
  });

  it('allows a part of exactly maxPartBytes and rejects one byte more', () => {
    const text = request(['POST A HTTP/1.1', '', 'x'.repeat(100)]).join('\r\n');
    const body = `--batch_1\r\n${text}\r\n--batch_1--`;
    expect(parse(body, limits(10, text.length))).toHaveLength(1);
    const err = oDataErrorOf(() => parse(body, limits(10, text.length - 1)));
    expect([err.code, err.message]).toEqual(['LIMIT_EXCEEDED', `part 1: the part is larger than ${text.length - 1} bytes (ODATA_BATCH_MAX_PART_BYTES)`]);
  });

  it('stops inside an oversized part without reading the rest of it', () => {
    const body = batch([get('A'), request(['POST A HTTP/1.1', '', 'x'.repeat(100_000)]), get('B')]);
    const result = feed(body, 100, limits(10, 1000));
    expect(result.error?.message).toMatch(/^part 2: the part is larger than 1000 bytes/);
    expect(result.written).toBeLessThan(2000);
  });

  it('applies maxPartBytes to each change-set member, not to the change set', () => {
    const big = (id: string): string[] => request(['POST A HTTP/1.1', '', 'y'.repeat(300)], [...HTTP_MIME, `Content-ID: ${id}`]);
    expect(parse(batch([changeSet([big('1'), big('2'), big('3')])]), limits(10, 500))).toHaveLength(1);
    const tooBig = request(['POST A HTTP/1.1', '', 'y'.repeat(600)]);
    expect(oDataErrorOf(() => parse(batch([changeSet([big('1'), tooBig])]), limits(10, 500))).message).toMatch(/^part 1.2: the part is larger than 500 bytes/);
  });
});

// A tiny, independent parser for the writer's output.
interface HttpResponsePart {
  readonly mime: Record<string, string>;
  readonly statusLine: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}
type ResponseEntry = HttpResponsePart | { readonly boundary: string; readonly parts: HttpResponsePart[] };

function headerBlock(text: string): [string[], string] {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no blank line in ${JSON.stringify(text)}`);
  return [text.slice(0, end).split('\r\n').filter((l) => l !== ''), text.slice(end + 4)];
}
const fieldsOf = (lines: string[]): Record<string, string> => Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));

function splitMultipart(text: string, boundary: string): string[] {
  const close = `--${boundary}--`;
  if (text === close) return [];
  if (!text.startsWith(`--${boundary}\r\n`) || !text.endsWith(`\r\n${close}`)) throw new Error(`not a multipart body: ${text}`);
  return text.slice(boundary.length + 4, -(close.length + 2)).split(`\r\n--${boundary}\r\n`);
}

function parseResponsePart(text: string): ResponseEntry {
  const [mimeLines, content] = headerBlock(text);
  const mime = fieldsOf(mimeLines);
  const nested = /^multipart\/mixed;boundary=(.+)$/.exec(mime['Content-Type']);
  if (nested) return { boundary: nested[1], parts: splitMultipart(content, nested[1]).map((p) => parseResponsePart(p) as HttpResponsePart) };
  const [[statusLine, ...headerLines], body] = headerBlock(content);
  return { mime, statusLine, headers: fieldsOf(headerLines), body };
}

describe('writeMultipartBatch and writeHttpMessage', () => {
  it('writes a status line, headers, a blank line and the body', () => {
    const message = writeHttpMessage(201, { 'Content-Type': 'application/json', Location: 'http://x/A(1)' }, '{"a":"é"}');
    expect(message.toString()).toBe('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nLocation: http://x/A(1)\r\n\r\n{"a":"é"}');
    expect(writeHttpMessage(204, {}).toString()).toBe('HTTP/1.1 204 No Content\r\n\r\n');
    expect(writeHttpMessage(200, { 'X-Bad': 'a\r\nInjected: b' }, Buffer.from([0, 255])).equals(Buffer.from('HTTP/1.1 200 OK\r\nX-Bad: a Injected: b\r\n\r\n\u0000\u00ff', 'latin1'))).toBe(true);
  });

  it('writes responses and change sets that parse back', () => {
    const items: ResponseItem[] = [
      { kind: 'response', response: { status: 200, headers: { 'Content-Type': 'application/json', 'OData-Version': '4.0' }, body: '{"value":[]}' } },
      {
        kind: 'changeset',
        id: 'changeset_1',
        responses: [
          { id: '1', status: 201, headers: { Location: 'http://x/Companies(1)', ETag: 'W/"1"' }, body: '{\r\n"Name":"X"\r\n}' },
          { id: '2', status: 204, headers: { 'OData-Version': '4.0' } },
        ],
      },
      { kind: 'response', response: { id: 'q', status: 404, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"error":{}}') } },
    ];
    const { contentType, body } = writeMultipartBatch(items);
    const boundary = /^multipart\/mixed;boundary=(batchresponse_[0-9a-f-]{36})$/.exec(contentType)?.[1] ?? '';
    expect(boundary).not.toBe('');
    expect(body.toString().endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    const parts = splitMultipart(body.toString().slice(0, -2), boundary).map(parseResponsePart);
    const http = { 'Content-Type': 'application/http', 'Content-Transfer-Encoding': 'binary' };
    expect(parts).toEqual([
      { mime: http, statusLine: 'HTTP/1.1 200 OK', headers: { 'Content-Type': 'application/json', 'OData-Version': '4.0' }, body: '{"value":[]}' },
      {
        boundary: expect.stringMatching(/^changesetresponse_[0-9a-f-]{36}$/),
        parts: [
          { mime: { ...http, 'Content-ID': '1' }, statusLine: 'HTTP/1.1 201 Created', headers: { Location: 'http://x/Companies(1)', ETag: 'W/"1"' }, body: '{\r\n"Name":"X"\r\n}' },
          { mime: { ...http, 'Content-ID': '2' }, statusLine: 'HTTP/1.1 204 No Content', headers: { 'OData-Version': '4.0' }, body: '' },
        ],
      },
      { mime: { ...http, 'Content-ID': 'q' }, statusLine: 'HTTP/1.1 404 Not Found', headers: { 'Content-Type': 'application/json' }, body: '{"error":{}}' },
    ]);
  });

  it('writes an empty batch', () => {
    const { contentType, body } = writeMultipartBatch([]);
    expect(body.toString()).toBe(`--${contentType.slice('multipart/mixed;boundary='.length)}--\r\n`);
  });
});
