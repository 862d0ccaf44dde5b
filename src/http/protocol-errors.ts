/**
 * Requests refused before routing get an OData error body like any other, with a request id:
 * what Node's HTTP parser rejects (`clientError`: an unknown or lower-case method, folded headers,
 * a request line or headers beyond the limit), `Expect` values other than 100-continue, `CONNECT`,
 * and the checks made before a request reaches the handler (methods, a missing Host).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ODataError } from '../errors/odata-error';
import { REQUEST_ID_HEADER, requestIdOf } from './failures';
import { SECURITY_HEADERS } from './browser-headers';

export const ALLOWED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** How long the rest of a refused request is read before the connection is closed regardless. */
const DRAIN_MS = 5000;

const ERROR_TYPE = 'application/json;odata.metadata=minimal';

/** The refusal of a parsed request that must not reach the handler, if any. */
export function refusalBeforeRouting(req: IncomingMessage): { error: ODataError; headers: Record<string, string> } | undefined {
  if (!ALLOWED_METHODS.includes(req.method ?? '')) {
    return { error: new ODataError('METHOD_NOT_ALLOWED', `The method ${req.method ?? ''} is not supported by this service`, { target: 'method' }), headers: { Allow: ALLOWED_METHODS.join(', ') } };
  }
  // RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without Host (Node's own check is
  // switched off in server.ts so that this answer has a body).
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    return { error: new ODataError('MALFORMED_REQUEST', 'An HTTP/1.1 request needs a Host header', { target: 'Host' }), headers: {} };
  }
  return undefined;
}

export function attachProtocolErrorHandlers(server: Server, logger: Logger | undefined): void {
  // Node's parser reports every later chunk of a refused request again: those are part of the drain.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex & { bytesWritten?: number }) => {
    if (answered.has(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const error = parserRefusal(err);
    const requestId = requestIdOf(undefined);
    logger?.info({ requestId, status: error.status, code: error.code, parser: err.code }, 'request refused by the HTTP parser');
    // What the client is still sending is read and dropped, so that closing does not reset the
    // connection before the client has read the answer; a client that never stops is cut off.
    answered.add(socket);
    socket.on('data', () => undefined);
    socket.resume();
    socket.end(rawResponse(error, requestId));
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(headerOf(req, 'x-request-id'));
    const error = new ODataError('EXPECTATION_FAILED', `Expect: ${headerOf(req, 'expect') ?? ''} cannot be met; only 100-continue is understood`, { target: 'Expect' });
    logger?.info({ requestId, method: req.method, url: req.url, status: error.status }, 'request');
    const body = JSON.stringify(error.toJSON());
    res.writeHead(error.status, Object.assign({ 'Content-Type': ERROR_TYPE, 'OData-Version': '4.0', [REQUEST_ID_HEADER]: requestId, 'Content-Length': Buffer.byteLength(body), Connection: 'close' }, SECURITY_HEADERS));
    res.end(body);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const requestId = requestIdOf(headerOf(req, 'x-request-id'));
    const error = new ODataError('METHOD_NOT_ALLOWED', 'CONNECT is not supported: this is not a proxy', { target: 'method' });
    logger?.info({ requestId, method: req.method, url: req.url, status: error.status }, 'request');
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(error, requestId, { Allow: ALLOWED_METHODS.join(', ') }));
  });
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Node's llhttp error codes, answered as Node itself would (status) but with an OData body. */
function parserRefusal(err: Error & { code?: string }): ODataError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': return new ODataError('HEADERS_TOO_LARGE', 'The request line or the headers are larger than the server accepts');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return new ODataError('PAYLOAD_TOO_LARGE', 'The chunk extensions of the body are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT': return new ODataError('REQUEST_TIMEOUT', 'The request did not arrive completely in time');
    case 'HPE_INVALID_METHOD': return new ODataError('MALFORMED_REQUEST', 'The request method is not one HTTP defines (methods are case-sensitive upper-case tokens)', { target: 'method' });
    default: return new ODataError('MALFORMED_REQUEST', `The HTTP request cannot be parsed (${err.code ?? 'malformed'}): ${parserReason(err)}`);
  }
}

/** llhttp's reason ("Invalid header value char"), without the raw bytes it may quote. */
function parserReason(err: Error & { reason?: string }): string {
  return (err.reason ?? err.message).replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function rawResponse(error: ODataError, requestId: string, extra: Record<string, string> = {}): string {
  const body = JSON.stringify(error.toJSON());
  const headers: Record<string, string | number> = Object.assign({
    'Content-Type': ERROR_TYPE, 'OData-Version': '4.0', [REQUEST_ID_HEADER]: requestId, 'Content-Length': Buffer.byteLength(body), Connection: 'close',
  }, SECURITY_HEADERS, extra);
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large',
};
