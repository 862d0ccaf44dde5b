/**
 * Helpers for the $batch feature tests: a multipart/mixed request builder (parts, change sets,
 * Content-IDs, CRLF or LF line ends), a small multipart RESPONSE parser (part headers, status line,
 * headers, body, nested change sets), and senders for multipart and JSON batches.
 *
 * The parser is written here on purpose, independently of the service, and is strict: a response
 * that is not well-formed multipart fails the test that reads it.
 */
import type { TestResponse, TestService } from '../../helpers/service';
import { countRows, expectError, expectStatus, newId, type ErrorBody } from '../writes/write-support';

export const CRLF = '\r\n';

/** One HTTP request inside a batch. */
export interface PartSpec {
  readonly method: string;
  readonly url: string;
  /** headers of the inner HTTP request */
  readonly headers?: Readonly<Record<string, string>>;
  /** an object is sent as JSON (with `Content-Type: application/json` unless given); a string as is */
  readonly body?: unknown;
  /** the part's Content-ID MIME header */
  readonly contentId?: string;
  /** MIME headers of the part that replace the defaults (`Content-Type: application/http`, `Content-Transfer-Encoding: binary`) */
  readonly mime?: Readonly<Record<string, string>>;
}

export interface ChangeSetSpec {
  /** members; a nested change set is only for malformed cases */
  readonly changeset: readonly Entry[];
  readonly boundary?: string;
}

/** A part given verbatim (MIME headers, blank line and content), for malformed cases. */
export interface RawSpec { readonly raw: string }

export type Entry = PartSpec | ChangeSetSpec | RawSpec;

export interface BuildOptions {
  readonly boundary?: string;
  /** line end used everywhere (default CRLF) */
  readonly eol?: string;
  /** write the close delimiter `--b--` (default true) */
  readonly close?: boolean;
}

export const isChangeSetSpec = (e: Entry): e is ChangeSetSpec => 'changeset' in e;
const isRaw = (e: Entry): e is RawSpec => 'raw' in e;

/** The inner HTTP request: request line, headers, blank line, body. */
export function httpRequest(p: PartSpec, eol = CRLF): string {
  const headers: Record<string, string> = { ...(p.headers ?? {}) };
  let body = '';
  if (p.body !== undefined) {
    if (typeof p.body === 'string') body = p.body;
    else {
      body = JSON.stringify(p.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  const lines = [`${p.method} ${p.url} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return lines.join(eol) + eol + eol + body;
}

function partText(p: PartSpec, eol: string): string {
  const mime: Record<string, string> = { 'Content-Type': 'application/http', 'Content-Transfer-Encoding': 'binary', ...(p.mime ?? {}) };
  if (p.contentId !== undefined) mime['Content-ID'] = p.contentId;
  return Object.entries(mime).map(([k, v]) => `${k}: ${v}`).join(eol) + eol + eol + httpRequest(p, eol);
}

let boundaries = 0;

function entryText(e: Entry, eol: string): string {
  if (isRaw(e)) return e.raw;
  if (!isChangeSetSpec(e)) return partText(e, eol);
  const cs = e.boundary ?? `changeset_${++boundaries}_${newId().slice(0, 8)}`;
  return `Content-Type: multipart/mixed;boundary=${cs}${eol}${eol}` + multipartText(e.changeset, cs, eol, true);
}

function multipartText(entries: readonly Entry[], boundary: string, eol: string, close: boolean): string {
  let out = '';
  for (const e of entries) out += `--${boundary}${eol}${entryText(e, eol)}${eol}`;
  return close ? `${out}--${boundary}--${eol}` : out;
}

/** A multipart/mixed batch body. */
export function multipartBody(entries: readonly Entry[], options: BuildOptions = {}): string {
  return multipartText(entries, options.boundary ?? 'batch_b', options.eol ?? CRLF, options.close ?? true);
}

export const multipartType = (boundary = 'batch_b'): string => `multipart/mixed;boundary=${boundary}`;

/** POST /$batch with the given body and Content-Type. */
export function sendBatch(svc: TestService, body: string, contentType: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  return svc.request('POST', '/$batch', { headers: { 'Content-Type': contentType, ...headers }, body });
}

/** Builds and sends a multipart batch. */
export function sendMultipart(svc: TestService, entries: readonly Entry[], headers: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestResponse> {
  const boundary = options.boundary ?? 'batch_b';
  return sendBatch(svc, multipartBody(entries, { ...options, boundary }), multipartType(boundary), headers);
}

/** Sends a JSON batch (`Content-Type: application/json`); a string body is sent as is. */
export function sendJsonBatch(svc: TestService, payload: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return sendBatch(svc, typeof payload === 'string' ? payload : JSON.stringify(payload), 'application/json', headers);
}

// ---------------------------------------------------------------------------------------------
// Response parsing

/** One application/http part of a batch response. */
export interface HttpPart {
  readonly kind: 'http';
  /** MIME headers of the part, lower-case names */
  readonly mime: Readonly<Record<string, string>>;
  readonly status: number;
  readonly statusLine: string;
  /** headers of the inner HTTP response, lower-case names */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
}

/** A change set answered as a nested multipart/mixed part. */
export interface ChangeSetPart {
  readonly kind: 'changeset';
  readonly mime: Readonly<Record<string, string>>;
  readonly boundary: string;
  readonly parts: readonly HttpPart[];
}

export type ResponsePart = HttpPart | ChangeSetPart;

/** The boundary parameter of a multipart Content-Type (quoted or not); throws when there is none. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new Error(`no boundary in Content-Type '${contentType}'`);
  return m[1] ?? m[2];
}

/** The encapsulated parts (as lines) between `--b` delimiters; requires the close delimiter. */
function splitParts(text: string, boundary: string): string[][] {
  const lines = text.split(/\r?\n/);
  const delimiter = `--${boundary}`;
  const parts: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const l = line.replace(/[ \t]+$/, '');
    if (l === `${delimiter}--`) {
      if (current) parts.push(current);
      return parts;
    }
    if (l === delimiter) {
      if (current) parts.push(current);
      current = [];
    } else if (current) current.push(line);
  }
  throw new Error(`multipart body has no close delimiter ${delimiter}--:\n${text.slice(0, 800)}`);
}

function headerBlock(lines: readonly string[], what: string): { headers: Record<string, string>; rest: string[] } {
  const headers: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) throw new Error(`bad header line in ${what}: '${lines[i]}'`);
    headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
  }
  if (i >= lines.length) throw new Error(`${what} has no blank line after its headers: ${lines.join('\\n').slice(0, 400)}`);
  return { headers, rest: lines.slice(i + 1) };
}

/** One application/http response text (status line, headers, blank line, body). */
export function parseHttpResponse(lines: readonly string[], mime: Record<string, string> = {}): HttpPart {
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/1\.1 (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`bad status line '${statusLine}'`);
  const { headers, rest } = headerBlock(lines.slice(1), `response '${statusLine}'`);
  const body = rest.join('\r\n').replace(/(\r\n)+$/, '');
  return {
    kind: 'http', mime, status: Number(m[1]), statusLine, headers, body,
    json: () => {
      try {
        return JSON.parse(body);
      } catch {
        throw new Error(`part body is not JSON (${statusLine}): ${body.slice(0, 400)}`);
      }
    },
  };
}

/** Parses a multipart/mixed batch response body (change sets nested one level). */
export function parseMultipart(text: string, contentType: string, nested = false): ResponsePart[] {
  const boundary = boundaryOf(contentType);
  return splitParts(text, boundary).map((lines, i): ResponsePart => {
    const { headers: mime, rest } = headerBlock(lines, `part ${i + 1}`);
    const type = (mime['content-type'] ?? '').toLowerCase();
    if (type.startsWith('multipart/mixed')) {
      if (nested) throw new Error('change set inside a change set in the response');
      const inner = parseMultipart(rest.join('\r\n'), mime['content-type'], true) as HttpPart[];
      return { kind: 'changeset', mime, boundary: boundaryOf(mime['content-type']), parts: inner };
    }
    if (!type.startsWith('application/http')) throw new Error(`part ${i + 1} has Content-Type '${mime['content-type']}'`);
    return parseHttpResponse(rest, mime);
  });
}

/** Asserts a 200 multipart/mixed batch response and returns its parts. */
export function batchParts(res: TestResponse): ResponsePart[] {
  expectStatus(res, 200);
  const type = res.headers.get('content-type') ?? '';
  expect(type).toMatch(/^multipart\/mixed\s*;\s*boundary=/i);
  return parseMultipart(res.text, type);
}

export function asHttp(part: ResponsePart | undefined): HttpPart {
  if (!part) throw new Error('missing response part');
  if (part.kind !== 'http') throw new Error(`expected an application/http part, got a change set of ${part.parts.length}`);
  return part;
}

export function asChangeSet(part: ResponsePart | undefined): ChangeSetPart {
  if (!part) throw new Error('missing response part');
  if (part.kind !== 'changeset') throw new Error(`expected a change set part, got HTTP ${part.status}: ${part.body.slice(0, 400)}`);
  return part;
}

/** A Content-Type in a comparable form: lower case, no spaces, no charset, parameters sorted. */
export function mediaType(contentType: string | null | undefined): string | undefined {
  if (contentType === null || contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase().replace(/\s+/g, ''));
  return [type, ...params.filter((p) => p !== '' && !p.startsWith('charset=')).sort()].join(';');
}

/** Asserts the part's status, with its body in the failure message. */
export function expectPartStatus(part: HttpPart, status: number): void {
  if (part.status !== status) throw new Error(`expected part status ${status}, got ${part.statusLine}: ${part.body.slice(0, 600)}`);
}

/** Asserts an OData error inside a part (status, JSON Content-Type, code) and returns `error`. */
export function expectPartError(part: HttpPart, status: number, code?: string): ErrorBody {
  expectPartStatus(part, status);
  expect(part.headers['content-type']).toMatch(/^application\/json/);
  const error = part.json().error as ErrorBody;
  expect(error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  if (code !== undefined) expect(error.code).toBe(code);
  return error;
}

/** The part MIME headers every application/http part carries. */
export function expectHttpPartHeaders(part: HttpPart, contentId?: string): void {
  expect(part.mime['content-type']).toMatch(/^application\/http/i);
  expect(part.mime['content-transfer-encoding']).toMatch(/^binary$/i);
  if (contentId === undefined) expect(part.mime['content-id']).toBeUndefined();
  else expect(part.mime['content-id']).toBe(contentId);
}

/** Asserts a whole-batch error (status, code) with a message that is not empty; returns `error`. */
export function expectBatchError(res: TestResponse, status: number, code: string, message?: RegExp): ErrorBody {
  const error = expectError(res, status, code);
  expect(error.message.trim().length).toBeGreaterThan(0);
  if (message) expect(error.message).toMatch(message);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A unique Note text, to find what one test wrote. */
export const marker = (what: string): string => `batch ${what} ${newId()}`;

/** A valid POST /Notes part with the given text. */
export const postNote = (textValue: string, extra: Partial<PartSpec> = {}): PartSpec => ({ method: 'POST', url: 'Notes', body: { Text: textValue }, ...extra });

export const notesWithText = (svc: TestService, textValue: string): Promise<number> => countRows(svc, 'Notes', { Text: textValue });

/** The Id in an entity URL such as `http://…/odata/Contacts(<id>)`. */
export function idFromLocation(location: string | undefined): string {
  const m = /\(([0-9a-f-]{36})\)$/.exec(location ?? '');
  if (!m) throw new Error(`no entity id in '${location}'`);
  return m[1];
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
