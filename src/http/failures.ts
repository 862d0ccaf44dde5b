/**
 * What a failed request tells the client and what it tells the log. A 500 carries a generic message
 * naming the request id; its cause (the database's message, the SQL, the stack) is logged under
 * that id. Database refusals answered with a 4xx (a foreign key, a missing value) keep their cause
 * out of the answer too, and are logged at warn.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ODataError } from '../errors/odata-error';

/** The response header (and the request header honoured) carrying a request's id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** A client's own id when it is a plain token (it is echoed in headers and logs), else a new one. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && /^[A-Za-z0-9._:+/=-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

export interface FailedRequest {
  readonly requestId?: string;
  readonly method: string;
  readonly path: string;
}

export function publicError(err: ODataError, request: FailedRequest, logger: Logger | undefined): ODataError {
  if (err.status >= 500) logger?.error(logEntry(err, request), 'request failed');
  else if (err.cause !== undefined) logger?.warn(logEntry(err, request), 'request refused by the database');
  const id = request.requestId ?? 'unknown';
  switch (err.code) {
    case 'DATABASE_ERROR': return new ODataError(err.code, `The database could not run the request; the service log has the cause under request id ${id}`);
    case 'INTERNAL_ERROR': return new ODataError(err.code, `An internal error occurred; the service log has the cause under request id ${id}`);
    default: return err;
  }
}

function logEntry(err: ODataError, request: FailedRequest): Record<string, unknown> {
  const cause = err.cause;
  return {
    requestId: request.requestId, method: request.method, path: request.path, status: err.status, code: err.code, message: err.message,
    statement: err.statement,
    // duck-typed: a driver's error may come from another realm (a test runner's sandbox), where instanceof Error fails
    cause: isErrorLike(cause)
      ? { type: cause.name, message: cause.message, code: (cause as { code?: unknown }).code, stack: cause.stack }
      : cause === undefined ? undefined : String(cause),
  };
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string');
}
