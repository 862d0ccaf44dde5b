/**
 * Writes an ApiResponse to Node's response. The headers every answer carries (request id, security
 * and CORS headers) and the answer's own go out in one `writeHead`, and a whole body with them in one
 * `end`: Node then sends the head and a text body in a single socket write.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toODataError, type ODataError } from '../errors/odata-error';
import { wholeBody, type ApiResponse } from './api-request';
import { errorResponse } from './handle';
import { compressionFor, drained, writeCompressed } from './compression';
import { BodyPieces } from './body-pieces';
import type { StageTiming } from '../observe/stage-timing';

export type Headers = Record<string, string>;

/**
 * Writes an answer. A body in pieces is sent as it is made (or, streamed, as it comes), waiting for
 * the socket to drain before the next piece is asked for; one that fits in a single piece goes out
 * whole, with a Content-Length like any other.
 */
export async function writeResponse(res: ServerResponse, common: Headers, response: ApiResponse, failed: (err: ODataError) => ODataError, timing?: StageTiming): Promise<void> {
  const { body } = response;
  const coding = compressionFor(res.req, response);
  if (coding === undefined && (body === undefined || typeof body === 'string' || Buffer.isBuffer(body))) return writeWhole(res, common, response, body, timing);
  try {
    if (coding !== undefined) {
      if (timing) common['Server-Timing'] = timing.header();
      return await writeCompressed(res, {}, { status: response.status, headers: answerHeaders(common, response.headers), body }, coding);
    }
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return writeWhole(res, common, response, body, timing);
    const { pieces, first } = await BodyPieces.open(body);
    if (pieces.atLastPiece) return writeWhole(res, common, response, first.done ? undefined : first.value, timing);
    // the first two pieces are made: Server-Timing's serialize covers them, the rest follows the head
    if (timing) common['Server-Timing'] = timing.header();
    res.writeHead(response.status, answerHeaders(common, response.headers));
    for (let piece = first; !piece.done; piece = await pieces.next()) {
      if (res.destroyed) return await pieces.stop();
      if (!res.write(piece.value)) await drained(res, res);
    }
    res.end();
  } catch (err) {
    // Before the status line: an OData error like any other. After it: the answer is cut off (the
    // client sees a broken response, never a complete-looking wrong one).
    if (res.headersSent) {
      failed(toODataError(err));
      res.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const failure = errorResponse(failed(toODataError(err)));
    writeWhole(res, common, failure, wholeBody(failure.body), timing);
  }
}

/** Status, headers and a whole body in one go (`common` is taken over: the answer's headers are added to it). */
export function writeWhole(res: ServerResponse, common: Headers, response: ApiResponse, body: string | Buffer | undefined, timing?: StageTiming): void {
  const headers = answerHeaders(common, response.headers);
  if (timing) headers['Server-Timing'] = timing.header();
  // a HEAD answer keeps the Content-Length (if any) the handler gave; every other whole body has its own
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(response.status, headers);
  res.end(body);
}

/** The answer's headers over `common` (which they are added to); Vary names what both vary on (CORS: Origin; compression: Accept-Encoding). */
function answerHeaders(common: Headers, own: Readonly<Headers>): Headers {
  const vary = common.Vary !== undefined && own.Vary !== undefined ? `${common.Vary}, ${own.Vary}` : undefined;
  const headers = Object.assign(common, own);
  if (vary !== undefined) headers.Vary = vary;
  return headers;
}

/** Reads and drops what is left of a body; false when more than `limit` bytes were still coming. */
export function discardRest(req: IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(false);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(true));
    req.on('error', () => resolve(false));
    req.on('close', () => resolve(req.readableEnded));
    req.resume();
  });
}
