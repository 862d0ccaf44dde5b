/**
 * The single error type every stage throws: an OData error with code, status, target and details.
 * Stage subclasses only name where the error came from; the mapping to HTTP is in ERROR_CODES.
 */
import { ERROR_CODES, type ErrorCode } from './codes';

export interface ErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

export interface ErrorOptions {
  readonly target?: string;
  readonly details?: readonly ErrorDetail[];
  /** Zero-based position in the offending text (a query option or the resource path). */
  readonly position?: number;
  /** What went wrong underneath (a driver error, an exception): for the log, never for the client. */
  readonly cause?: unknown;
  /** The SQL statement that failed: for the log, never for the client. */
  readonly statement?: string;
}

export class ODataError extends Error {
  readonly status: number;
  readonly target?: string;
  readonly details: readonly ErrorDetail[];
  readonly position?: number;
  readonly statement?: string;

  constructor(readonly code: ErrorCode, message?: string, options: ErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CODES[code].status;
    this.target = options.target;
    this.details = options.details ?? [];
    this.position = options.position;
    this.statement = options.statement;
  }

  toJSON(): { error: { code: string; message: string; target?: string; details: readonly ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, ...(this.target ? { target: this.target } : {}), details: this.details } };
  }
}

/** Raised while parsing the URL (syntax). */
export class UriError extends ODataError {}
/** Raised while resolving a parsed request against the model (names, types). */
export class PlanError extends ODataError {}
/** Raised when a configured limit is exceeded. */
export class LimitError extends ODataError {}
/** Raised for valid OData the service does not support yet. */
export class NotImplementedError extends ODataError {
  constructor(feature: string, options: ErrorOptions = {}) {
    super('NOT_IMPLEMENTED', `${feature} is not supported yet`, options);
  }
}
/** A database failure, translated in one place (sql/execute). */
export class DbError extends ODataError {}

export function toODataError(err: unknown): ODataError {
  if (err instanceof ODataError) return err;
  return new ODataError('INTERNAL_ERROR', 'An internal error occurred', { cause: err });
}
