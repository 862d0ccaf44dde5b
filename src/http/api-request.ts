/**
 * The plain request and response objects the core handler works on. Express (or $batch, or a test)
 * only adapts to and from these.
 */
import type { RequestUser } from '../plan/request-context';
import type { StageTiming } from '../observe/stage-timing';

export interface ApiRequest {
  readonly method: string;
  /** path below the service root, e.g. `/Contacts(…)/Company`, still percent-encoded */
  readonly path: string;
  /** the raw query string without `?`, still percent-encoded */
  readonly query: string;
  /** lower-case header names */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** absolute service root URL, e.g. http://localhost:4000/odata */
  readonly serviceRoot: string;
  /** the client's address (failed sign-ins are counted per address) */
  readonly remoteAddress?: string;
  /**
   * The caller, once authenticated. Set only inside the service (the parts of a `$batch` run as the
   * batch's caller, an asynchronous job as the caller who sent it); never from the outside.
   */
  readonly caller?: RequestUser;
  /** the id the answer and the log lines carry (X-Request-Id); a $batch's parts share their batch's */
  readonly requestId?: string;
  /** the raw request body, when there is one */
  readonly body?: Buffer;
  /** the body already parsed, instead of `body`: a JSON `$batch` request's JSON body */
  readonly json?: { readonly value: unknown };
  /**
   * The body still arriving (a `$batch` is parsed as its bytes come in, so a malformed or oversized
   * batch is refused before the rest is read). Set instead of `body`.
   */
  readonly bodyStream?: AsyncIterable<Buffer>;
  /** where the stages record their times (Server-Timing); set by the HTTP adapter, absent inside a `$batch` */
  readonly timing?: StageTiming;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer | ChunkedBody | StreamedBody;
}

/**
 * A body made piece by piece as it is written (a collection: one piece per few dozen kilobytes of
 * entities), so the whole JSON text never sits in memory at once.
 */
export interface ChunkedBody {
  readonly chunks: Iterable<string>;
}

/**
 * A body whose pieces take time to come (an export reading page after page from the database): the
 * writer asks for the next piece only once the client has taken the last one, so a slow client
 * slows the reading down instead of the pieces piling up in memory.
 */
export interface StreamedBody {
  readonly stream: AsyncIterable<string>;
}

/**
 * The whole body of an answer made in memory (errors, and answers the caller built itself). A
 * streamed body can only be gathered asynchronously: `gatherBody`.
 */
export function wholeBody(body: ApiResponse['body']): string | Buffer | undefined {
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if ('stream' in body) throw new Error('a streamed body is gathered with gatherBody');
  let text = '';
  for (const chunk of body.chunks) text += chunk;
  return text;
}

/** The whole body of any answer, for answers that are kept or embedded ($batch parts, async results). */
export async function gatherBody(body: ApiResponse['body']): Promise<string | Buffer | undefined> {
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body) || !('stream' in body)) return wholeBody(body);
  let text = '';
  for await (const chunk of body.stream) text += chunk;
  return text;
}
