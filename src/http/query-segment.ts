/**
 * `POST <resource>/$query` (OData 4.01 Protocol §11.2.5.x "Passing Query Options in the Request
 * Body", URL Conventions §4.x): the body holds query options in URL form, for queries longer than
 * a request line may be. The body's options and the URL's are processed together, so the request is
 * answered as the GET of the resource with both sets of options.
 */
import { ODataError } from '../errors/odata-error';
import type { ApiRequest } from './api-request';

const QUERY_SEGMENT = /\/(?:\$|%24)query\/?$/i;

/** Whether the path ends in a `$query` segment below some resource (not the service root itself). */
export function isQuerySegmentRequest(path: string): boolean {
  const match = QUERY_SEGMENT.exec(path);
  return match !== null && match.index > 0;
}

/** The same request as a GET of the resource, with the body's query options after the URL's. */
export function queryAsGet(req: ApiRequest): ApiRequest {
  if (req.method.toUpperCase() !== 'POST') {
    throw new ODataError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on a $query resource; send the query options with POST`);
  }
  const fromBody = queryOfBody(req);
  const headers = Object.assign({}, req.headers, { 'content-type': undefined, 'content-length': undefined });
  return {
    method: 'GET',
    path: req.path.replace(QUERY_SEGMENT, ''),
    query: [req.query, fromBody].filter((q) => q !== '').join('&'),
    headers,
    serviceRoot: req.serviceRoot,
    requestId: req.requestId,
  };
}

function queryOfBody(req: ApiRequest): string {
  const body = req.body ?? Buffer.alloc(0);
  const [type] = (req.headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  // Line ends around the text (an editor's final newline) are not part of it.
  const text = body.toString('utf8').trim();
  if (text === '' && req.json === undefined) return '';
  if (type === 'text/plain') return text;
  // In a form, '+' is a space; this service's URL parser reads '+' as a plus (RFC 3986).
  if (type === 'application/x-www-form-urlencoded') return text.replace(/\+/g, '%20');
  throw new ODataError('UNSUPPORTED_MEDIA_TYPE', `The body of a $query request is text/plain (or application/x-www-form-urlencoded), not '${type || '(none)'}'`, { target: 'Content-Type' });
}
