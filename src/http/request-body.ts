/**
 * The request body by its Content-Type: JSON (parsed), plain text (for `/$value`), or none. Anything
 * else is refused with 415 here, before any planning.
 */
import { ODataError } from '../errors/odata-error';
import type { RequestBody } from '../write/write-plan';
import type { ApiRequest } from './api-request';
import { checkJsonText, checkPlainText } from './body-guard';

/** `maxDepth`: the deepest nesting a JSON body may have (a JSON $batch part was checked with its batch). */
export function readRequestBody(req: Pick<ApiRequest, 'headers' | 'body' | 'json'>, maxDepth: number): RequestBody {
  if (req.json !== undefined) return { kind: 'json', value: req.json.value };
  const contentType = req.headers['content-type'];
  const body = req.body;
  // Some clients end a bodiless request (a DELETE in a batch part) with blank lines: that is no body.
  if (!body || body.length === 0 || (!contentType && /^\s*$/.test(body.toString('latin1')))) return { kind: 'none' };
  const [type, ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new ODataError('UNSUPPORTED_MEDIA_TYPE', `charset=${charset} is not supported; send UTF-8`, { target: 'Content-Type' });
  const text = body.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    checkJsonText(text, maxDepth, 'body');
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (err) {
      throw new ODataError('INVALID_PAYLOAD', `The body is not valid JSON: ${(err as Error).message}`, { target: 'body' });
    }
  }
  if (type === 'text/plain') {
    checkPlainText(text, 'body');
    return { kind: 'text', text };
  }
  throw new ODataError('UNSUPPORTED_MEDIA_TYPE', `Content-Type '${type || '(none)'}' is not supported here; send application/json`, { target: 'Content-Type' });
}
