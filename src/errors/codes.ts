/**
 * The one registry of error codes: each has its HTTP status and a message template.
 * README.md's error table is checked against this list by test/errors/codes.test.ts.
 */
export const ERROR_CODES = {
  // 400: the request cannot be understood
  SYNTAX_ERROR: { status: 400, message: 'Syntax error' },
  UNKNOWN_QUERY_OPTION: { status: 400, message: 'Unknown system query option' },
  DUPLICATE_QUERY_OPTION: { status: 400, message: 'Query option given more than once' },
  INVALID_QUERY_OPTION: { status: 400, message: 'Invalid query option value' },
  QUERY_OPTION_NOT_ALLOWED: { status: 400, message: 'Query option not allowed on this resource' },
  UNKNOWN_PROPERTY: { status: 400, message: 'Unknown property' },
  AMBIGUOUS_NAME: { status: 400, message: 'Ambiguous name' },
  TYPE_MISMATCH: { status: 400, message: 'Type mismatch' },
  UNKNOWN_FUNCTION: { status: 400, message: 'Unknown function' },
  INVALID_ARGUMENTS: { status: 400, message: 'Invalid function arguments' },
  INVALID_LITERAL: { status: 400, message: 'Invalid literal' },
  INVALID_KEY: { status: 400, message: 'Invalid key' },
  INVALID_SKIPTOKEN: { status: 400, message: 'Invalid $skiptoken' },
  INVALID_HEADER: { status: 400, message: 'Invalid header' },
  LIMIT_EXCEEDED: { status: 400, message: 'A query limit was exceeded' },
  INVALID_BATCH: { status: 400, message: 'Malformed $batch request' },
  INVALID_PAYLOAD: { status: 400, message: 'The request body cannot be read' },
  VALIDATION_FAILED: { status: 400, message: 'The request body does not fit the model' },
  READ_ONLY_PROPERTY: { status: 400, message: 'The property cannot be written' },
  PROPERTY_NOT_READABLE: { status: 400, message: 'The property is write-only' },
  // 401 / 403: who is asking, and whether they may
  UNAUTHENTICATED: { status: 401, message: 'Credentials are missing or not valid' },
  FORBIDDEN: { status: 403, message: 'The caller may not do this' },
  TOO_MANY_SIGN_IN_FAILURES: { status: 429, message: 'Too many failed sign-ins; wait before trying again' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Rate limit exceeded; wait before sending more requests' },
  // 404 / 405 / 406
  NOT_FOUND: { status: 404, message: 'Resource not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, message: 'The requested format is not available' },
  // 409 / 412 / 415
  ALREADY_EXISTS: { status: 409, message: 'An entity with this key already exists' },
  DELETE_RESTRICTED: { status: 409, message: 'Other records refer to this entity' },
  CONFLICT: { status: 409, message: 'The change conflicts with the current state' },
  PRECONDITION_FAILED: { status: 412, message: 'The entity has changed (ETag mismatch)' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, message: 'The request URL is too long' },
  FAILED_DEPENDENCY: { status: 424, message: 'A request this one depends on failed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported request body type' },
  UNSUPPORTED_VERSION: { status: 400, message: 'Unsupported OData version' },
  // refused before routing: Node's HTTP parser or the checks in http/app.ts and http/protocol-errors.ts
  MALFORMED_REQUEST: { status: 400, message: 'The HTTP request is malformed' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time' },
  EXPECTATION_FAILED: { status: 417, message: 'The Expect header cannot be met' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request line or headers are too large' },
  // 5xx
  NOT_IMPLEMENTED: { status: 501, message: 'Not implemented' },
  DATABASE_ERROR: { status: 500, message: 'Database error' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is busy' },
  // the database (the upstream of this service) did not finish within the statement time budget
  QUERY_TIMEOUT: { status: 504, message: 'The query ran longer than its time budget' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error' },
  ASYNC_REQUEST_ABANDONED: { status: 500, message: 'The process running an asynchronous request stopped before it finished' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
