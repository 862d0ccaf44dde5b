/**
 * The floor's $batch: a hand-written multipart/mixed reader and writer for batches of reads (all parts
 * answered in one transaction), and JSON change sets of `POST Notes` (one transaction, one prepared
 * INSERT per note), both answering the bytes the service answers (up to the random boundary, new keys
 * and the transaction's timestamp).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { etag, JSON_TYPE } from './odata-json';
import { failure, parseOptions, type Answer, type Router } from './routes';
import type { FloorStore } from './store';

const CRLF = '\r\n';

export interface ReadPart {
  readonly contentId?: string;
  readonly method: string;
  /** Below the service root, with its query. */
  readonly url: string;
}

/** The boundary parameter of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? m[1] ?? m[2] : undefined;
}

/** Splits a multipart/mixed body into its application/http request parts (no nested change sets: reads only). */
export function readMultipart(body: string, boundary: string): ReadPart[] {
  const delimiter = `--${boundary}`;
  const parts: ReadPart[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.startsWith('--', start)) break;
    const next = body.indexOf(`${CRLF}${delimiter}`, start);
    if (next < 0) throw new Error('multipart body without a closing delimiter');
    const part = body.slice(body.indexOf(CRLF, start) + 2, next);
    const headersEnd = part.indexOf(CRLF + CRLF);
    const mime = part.slice(0, headersEnd);
    const contentId = /^content-id:\s*(.*)$/im.exec(mime)?.[1]?.trim();
    const message = part.slice(headersEnd + 4);
    const requestLine = message.slice(0, message.indexOf(CRLF));
    const [method, url] = requestLine.split(' ');
    parts.push({ contentId, method, url });
    at = next + 2;
  }
  return parts;
}

function responsePart(answer: Answer, contentId: string | undefined): string {
  let mime = `Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}`;
  if (contentId !== undefined) mime += `Content-ID: ${contentId}${CRLF}`;
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}${CRLF}OData-Version: 4.0${CRLF}`;
  for (const name in answer.headers) head += `${name}: ${answer.headers[name]}${CRLF}`;
  return `${mime}${CRLF}${head}${CRLF}${answer.body}`;
}

/** Answers every read part in one transaction and writes one multipart/mixed body. */
export async function multipartReads(router: Router, store: FloorStore, root: string, parts: readonly ReadPart[]): Promise<Answer> {
  const rootPath = new URL(root).pathname;
  const answers = await store.transaction(async (q) => {
    const out: string[] = [];
    for (const p of parts) {
      if (p.method !== 'GET') {
        out.push(responsePart(failure(400, 'the floor answers batches of reads only'), p.contentId));
        continue;
      }
      const url = p.url.startsWith(`${rootPath}/`) ? p.url.slice(rootPath.length + 1) : p.url.startsWith(root) ? p.url.slice(root.length + 1) : p.url;
      const qm = url.indexOf('?');
      const answer = await router.route({ root, path: qm < 0 ? url : url.slice(0, qm), options: parseOptions(qm < 0 ? '' : url.slice(qm + 1)) }, q);
      out.push(responsePart(answer, p.contentId));
    }
    return out;
  });
  const boundary = `batchresponse_${randomUUID()}`;
  let body = '';
  for (const a of answers) body += `--${boundary}${CRLF}${a}${CRLF}`;
  body += `--${boundary}--${CRLF}`;
  return { status: 200, headers: { 'Content-Type': `multipart/mixed;boundary=${boundary}` }, body };
}

interface NoteRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly atomicityGroup?: string;
  readonly body?: { Text?: string; IsPrivate?: boolean };
}

/** A JSON batch of `POST Notes` in one atomicity group: one transaction, one INSERT per note, the service's answer. */
export async function jsonNotes(store: FloorStore, root: string, actingUser: string, text: string): Promise<Answer> {
  const requests = (JSON.parse(text) as { requests?: NoteRequest[] }).requests ?? [];
  if (requests.some((r) => r.method.toUpperCase() !== 'POST' || r.url !== 'Notes')) return failure(400, 'the floor answers JSON batches of POST Notes only');
  const now = new Date().toISOString();
  const tag = etag(now);
  const responses = await store.transaction(async (q) => {
    const out: unknown[] = [];
    for (const r of requests) {
      const id = randomUUID();
      const noteText = r.body?.Text ?? '';
      const isPrivate = r.body?.IsPrivate === true;
      await q('insertNote', [id, now, now, actingUser, actingUser, noteText, isPrivate, actingUser]);
      out.push({
        id: r.id, status: 201, atomicityGroup: r.atomicityGroup,
        headers: { 'odata-version': '4.0', etag: tag, location: `${root}/Notes(${id})`, 'content-type': JSON_TYPE },
        body: {
          '@odata.context': `${root}/$metadata#Notes/$entity`, '@odata.etag': tag, Id: id, Created: now, Edited: now,
          CreatedById: actingUser, EditedById: actingUser, Text: noteText, IsPrivate: isPrivate, OwnerId: actingUser,
        },
      });
    }
    return out;
  });
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ responses }) };
}
