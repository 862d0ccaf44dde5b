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
  return value.replace(/[\r\n]+/g, ' ');
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${oneLine(value)}${CRLF}`)
    .join('');
}

/** `HTTP/1.1 <status> <reason>`, the headers, a blank line, then the body. */
export function writeHttpMessage(status: number, headers: Record<string, string>, body?: string | Buffer): Buffer {
  const head = Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}${CRLF}${headerLines(headers)}${CRLF}`, 'utf8');
  if (body === undefined) return head;
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** A part: its MIME headers, a blank line, its content. */
function part(mime: Record<string, string>, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${headerLines(mime)}${CRLF}`, 'utf8'), content]);
}

function responsePart(response: PartResponse): Buffer {
  const mime: Record<string, string> = { 'Content-Type': 'application/http', 'Content-Transfer-Encoding': 'binary' };
  if (response.id !== undefined) mime['Content-ID'] = response.id;
  return part(mime, writeHttpMessage(response.status, { ...response.headers }, response.body));
}

/** `--b CRLF part CRLF --b CRLF part CRLF --b--` (no line break after the close delimiter). */
function multipart(boundary: string, parts: readonly Buffer[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}${CRLF}`), p, Buffer.from(CRLF));
  chunks.push(Buffer.from(`--${boundary}--`));
  return Buffer.concat(chunks);
}

function changeSetPart(responses: readonly PartResponse[]): Buffer {
  const boundary = `changesetresponse_${randomUUID()}`;
  return part({ 'Content-Type': `multipart/mixed;boundary=${boundary}` }, multipart(boundary, responses.map(responsePart)));
}

function itemPart(item: ResponseItem): Buffer {
  return item.kind === 'response' ? responsePart(item.response) : changeSetPart(item.responses);
}

/** The body of a multipart batch response and its Content-Type. */
export function writeMultipartBatch(items: readonly ResponseItem[]): { contentType: string; body: Buffer } {
  const boundary = `batchresponse_${randomUUID()}`;
  const body = Buffer.concat([multipart(boundary, items.map(itemPart)), Buffer.from(CRLF)]);
  return { contentType: `multipart/mixed;boundary=${boundary}`, body };
}
