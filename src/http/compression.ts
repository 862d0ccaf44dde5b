/**
 * Response compression (RFC 9110 §8.4, §12.5.3): gzip or deflate when the client's Accept-Encoding
 * allows it and the body is worth it. Power Query sends `Accept-Encoding: gzip, deflate` and reads
 * either; a page of entities shrinks to a fifth or less.
 *
 * A whole body is compressed in one step and still goes out with its head in one write: up to 16 KiB
 * on the event loop (a fraction of a millisecond, mostly zlib's set-up, less than the trip to libuv's
 * thread pool and back, which added ~0.5 ms to a 1 KB Group By answer), a larger one on the thread
 * pool; a body in pieces stays streamed, each piece passing through one compression stream as it is made.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ApiResponse } from './api-request';
import { BodyPieces } from './body-pieces';

export type ContentCoding = 'gzip' | 'deflate';

/**
 * Bodies below this many bytes go out as they are: with a typical head (~350 bytes) the answer fits one
 * TCP segment (MSS 1460 on Ethernet) either way, so compressing saves no packet and no round trip, and
 * costs both ends zlib's set-up (~0.2 ms of a Group By answer's latency, 1 027 bytes).
 */
export const COMPRESSION_MIN_BYTES = 1100;

/** Media types whose bodies are compressed (already-compressed or binary media are not). */
const COMPRESSIBLE = /^(?:application\/(?:json|xml|x-ndjson|[\w.+-]*\+(?:json|xml))|text\/[\w.+-]+|multipart\/mixed)\s*(?:;|$)/i;

const OPTIONS: zlib.ZlibOptions = { level: 6 };

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/**
 * The coding to answer with: gzip or deflate (zlib format, as RFC 9110 §8.4.1.2 defines "deflate"),
 * whichever the client weighs higher (gzip on a tie), or none. `*` stands for both; q=0 excludes.
 */
export function negotiateCoding(acceptEncoding: string | undefined): ContentCoding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const item of acceptEncoding.split(',')) {
    const [name, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (coding: ContentCoding): number => weights.get(coding) ?? (coding === 'gzip' ? weights.get('x-gzip') : undefined) ?? weights.get('*') ?? 0;
  const [g, d] = [weightOf('gzip'), weightOf('deflate')];
  if (g <= 0 && d <= 0) return undefined;
  return g >= d ? 'gzip' : 'deflate';
}

/** Whether an answer with these headers may be compressed at all (its media type, no coding yet). */
export function isCompressible(headers: Readonly<Record<string, string>>): boolean {
  const type = headerValue(headers, 'content-type');
  return type !== undefined && COMPRESSIBLE.test(type) && headerValue(headers, 'content-encoding') === undefined;
}

/** Whole bodies up to this many bytes are compressed on the event loop (see above). */
const COMPRESS_INLINE_MAX_BYTES = 16 * 1024;

export async function compressWhole(body: string | Buffer, coding: ContentCoding): Promise<Buffer> {
  if (Buffer.byteLength(body) <= COMPRESS_INLINE_MAX_BYTES) return coding === 'gzip' ? zlib.gzipSync(body, OPTIONS) : zlib.deflateSync(body, OPTIONS);
  return coding === 'gzip' ? gzip(body, OPTIONS) : deflate(body, OPTIONS);
}

export function compressionStream(coding: ContentCoding): zlib.Gzip | zlib.Deflate {
  return coding === 'gzip' ? zlib.createGzip(OPTIONS) : zlib.createDeflate(OPTIONS);
}

/**
 * The headers of a compressed answer: its coding, and `Vary` naming Accept-Encoding (kept with any
 * other field the answer already varies on).
 */
export function varyOnEncoding(headers: Record<string, string>): void {
  const existing = Object.keys(headers).find((name) => name.toLowerCase() === 'vary');
  if (existing === undefined) headers.Vary = 'Accept-Encoding';
  else if (!/(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i.test(headers[existing])) headers[existing] += ', Accept-Encoding';
}

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const key in headers) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

/**
 * The coding to compress this answer with, or undefined to send it as it is. An answer whose body
 * is compressible and may reach COMPRESSION_MIN_BYTES gets `Vary: Accept-Encoding` either way (its
 * coding depends on that header); it is compressed when the client accepts gzip or deflate.
 */
export function compressionFor(req: IncomingMessage | undefined, response: ApiResponse): ContentCoding | undefined {
  const { body } = response;
  if (body === undefined || response.status === 204 || response.status === 304) return undefined;
  if (req?.method === 'HEAD' || !isCompressible(response.headers)) return undefined;
  if ((typeof body === 'string' || Buffer.isBuffer(body)) && Buffer.byteLength(body) < COMPRESSION_MIN_BYTES) return undefined;
  varyOnEncoding(response.headers);
  const header = req?.headers['accept-encoding'];
  return negotiateCoding(Array.isArray(header) ? header.join(',') : header);
}

/**
 * Writes an answer compressed: a whole body in one write with its head (Content-Length of the
 * compressed bytes; a body in one small piece goes out as it is); a body in pieces (made or streamed)
 * through one compression stream, each piece as it comes, waiting for the socket between pieces. An error
 * before the head is thrown (the caller answers it); after the head it is thrown with
 * `res.headersSent` true (the caller cuts the answer off).
 */
export async function writeCompressed(res: ServerResponse, headers: Record<string, string>, response: ApiResponse, coding: ContentCoding): Promise<void> {
  const { body } = response;
  const head = Object.assign(headers, response.headers);
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return writeWholeCompressed(res, response.status, head, body, coding);
  const { pieces, first } = await BodyPieces.open(body);
  if (pieces.atLastPiece) return writeWholeCompressed(res, response.status, head, first.done ? undefined : first.value, coding);
  const stream = compressionStream(coding);
  head['Content-Encoding'] = coding;
  res.writeHead(response.status, head);
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    res.on('close', resolve);
    res.on('finish', resolve);
  });
  finished.catch(() => undefined); // awaited below; a failure before that is not unhandled
  stream.pipe(res);
  try {
    for (let piece = first; !piece.done; piece = await pieces.next()) {
      if (res.destroyed) {
        await pieces.stop();
        break;
      }
      if (!stream.write(piece.value)) await drained(stream, res);
    }
  } catch (err) {
    stream.unpipe(res);
    stream.destroy();
    throw err;
  }
  stream.end();
  await finished;
}

async function writeWholeCompressed(res: ServerResponse, status: number, head: Record<string, string>, body: string | Buffer | undefined, coding: ContentCoding): Promise<void> {
  const compress = body !== undefined && Buffer.byteLength(body) >= COMPRESSION_MIN_BYTES;
  const bytes = body === undefined ? undefined : compress ? await compressWhole(body, coding) : body;
  if (compress) head['Content-Encoding'] = coding;
  if (bytes !== undefined) head['Content-Length'] = String(Buffer.byteLength(bytes));
  res.writeHead(status, head);
  res.end(bytes);
}

/** Resolves when `stream` can take more, or when the answer's connection closed. */
export function drained(stream: NodeJS.WritableStream, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.removeListener('drain', done);
      res.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    res.on('close', done);
  });
}
