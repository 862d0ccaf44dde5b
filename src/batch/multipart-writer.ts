/**
 * Writer for multipart/mixed `$batch` responses (OData 4.01 Protocol §11.7.4): one
 * application/http part per response, a nested multipart/mixed part per successful change set.
 * Lines end in CRLF; the CRLF before each delimiter belongs to the delimiter.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { BatchAnswers, PartResponse, ResponseItem } from './batch-types';
import { ByteChunks } from './byte-chunks';

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

/** `HTTP/1.1 <status> <reason>`, the headers, a blank line, then the body. */
function addHttpMessage(out: ByteChunks, status: number, headers: Readonly<Record<string, string>>, body?: string | Buffer): void {
  out.add(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}${CRLF}${headerLines(headers)}${CRLF}`);
  if (body !== undefined) out.add(body);
}

export function writeHttpMessage(status: number, headers: Record<string, string>, body?: string | Buffer): Buffer {
  const out = new ByteChunks();
  addHttpMessage(out, status, headers, body);
  return out.bytes();
}

function addResponsePart(out: ByteChunks, response: PartResponse): void {
  const id = response.id !== undefined ? `Content-ID: ${oneLine(response.id)}${CRLF}` : '';
  out.add(`Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}${id}${CRLF}`);
  addHttpMessage(out, response.status, response.headers, response.body);
}

/** Writes a multipart batch answer as the answers come; `finish` gives its bytes. */
export class MultipartBatchWriter implements BatchAnswers {
  readonly boundary = `batchresponse_${randomUUID()}`;
  private readonly out = new ByteChunks();
  private changeSet: { boundary: string; start: number } | undefined;

  get contentType(): string {
    return `multipart/mixed;boundary=${this.boundary}`;
  }

  response(response: PartResponse): void {
    this.out.add(`--${this.boundary}${CRLF}`);
    addResponsePart(this.out, response);
    this.out.add(CRLF);
  }

  openChangeSet(): void {
    const boundary = `changesetresponse_${randomUUID()}`;
    this.changeSet = { boundary, start: this.out.length };
    this.out.add(`--${this.boundary}${CRLF}Content-Type: multipart/mixed;boundary=${boundary}${CRLF}${CRLF}`);
  }

  // `--b CRLF part CRLF --b CRLF part CRLF --b--` (no line break after the close delimiter)
  member(response: PartResponse): void {
    this.out.add(`--${this.changeSet?.boundary}${CRLF}`);
    addResponsePart(this.out, response);
    this.out.add(CRLF);
  }

  closeChangeSet(): void {
    this.out.add(`--${this.changeSet?.boundary}--${CRLF}`);
    this.changeSet = undefined;
  }

  dropChangeSet(): void {
    if (this.changeSet) this.out.truncate(this.changeSet.start);
    this.changeSet = undefined;
  }

  finish(): Buffer {
    this.out.add(`--${this.boundary}--${CRLF}`);
    return this.out.bytes();
  }
}

/** The body of a multipart batch response and its Content-Type. */
export function writeMultipartBatch(items: readonly ResponseItem[]): { contentType: string; body: Buffer } {
  const writer = new MultipartBatchWriter();
  for (const item of items) {
    if (item.kind === 'response') {
      writer.response(item.response);
      continue;
    }
    writer.openChangeSet();
    for (const r of item.responses) writer.member(r);
    writer.closeChangeSet();
  }
  return { contentType: writer.contentType, body: writer.finish() };
}
