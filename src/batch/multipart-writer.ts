/**
 * Writer for multipart/mixed `$batch` responses (OData 4.01 Protocol §11.7.4): one
 * application/http part per response, a nested multipart/mixed part per successful change set.
 * Lines end in CRLF; the CRLF before each delimiter belongs to the delimiter.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { PartResponse, ResponseItem } from './batch-types';

const CRLF = '\r\n';

/** A header value on one line: line breaks would start a new header. */
function oneLine(value: string): string {
  return value.includes('\r') || value.includes('\n') ? value.replace(/[\r\n]+/g, ' ') : value;
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  let lines = '';
  for (const name in headers) lines += `${name}: ${oneLine(headers[name])}${CRLF}`;
  return lines;
}

/**
 * The bytes of an answer as they are made: text is gathered into one string and encoded once, a
 * Buffer body goes in as it is (a batch of ten reads was ~40 small Buffers concatenated level by level).
 */
class Pieces {
  private readonly done: Buffer[] = [];
  private text = '';
  add(piece: string | Buffer): void {
    if (typeof piece === 'string') {
      this.text += piece;
      return;
    }
    if (this.text !== '') this.done.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
    this.done.push(piece);
  }
  bytes(): Buffer {
    if (this.done.length === 0) return Buffer.from(this.text, 'utf8');
    if (this.text !== '') this.done.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
    return Buffer.concat(this.done);
  }
}

/** `HTTP/1.1 <status> <reason>`, the headers, a blank line, then the body. */
function addHttpMessage(out: Pieces, status: number, headers: Readonly<Record<string, string>>, body?: string | Buffer): void {
  out.add(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}${CRLF}${headerLines(headers)}${CRLF}`);
  if (body !== undefined) out.add(body);
}

export function writeHttpMessage(status: number, headers: Record<string, string>, body?: string | Buffer): Buffer {
  const out = new Pieces();
  addHttpMessage(out, status, headers, body);
  return out.bytes();
}

function addResponsePart(out: Pieces, response: PartResponse): void {
  const id = response.id !== undefined ? `Content-ID: ${oneLine(response.id)}${CRLF}` : '';
  out.add(`Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}${id}${CRLF}`);
  addHttpMessage(out, response.status, response.headers, response.body);
}

function addChangeSetPart(out: Pieces, responses: readonly PartResponse[]): void {
  const boundary = `changesetresponse_${randomUUID()}`;
  out.add(`Content-Type: multipart/mixed;boundary=${boundary}${CRLF}${CRLF}`);
  // `--b CRLF part CRLF --b CRLF part CRLF --b--` (no line break after the close delimiter)
  for (const r of responses) {
    out.add(`--${boundary}${CRLF}`);
    addResponsePart(out, r);
    out.add(CRLF);
  }
  out.add(`--${boundary}--`);
}

/** The body of a multipart batch response and its Content-Type. */
export function writeMultipartBatch(items: readonly ResponseItem[]): { contentType: string; body: Buffer } {
  const boundary = `batchresponse_${randomUUID()}`;
  const out = new Pieces();
  for (const item of items) {
    out.add(`--${boundary}${CRLF}`);
    if (item.kind === 'response') addResponsePart(out, item.response);
    else addChangeSetPart(out, item.responses);
    out.add(CRLF);
  }
  out.add(`--${boundary}--${CRLF}`);
  return { contentType: `multipart/mixed;boundary=${boundary}`, body: out.bytes() };
}
