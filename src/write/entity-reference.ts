/**
 * An entity reference in a request body or query (`@odata.id`, `@odata.bind`, `$id`): a URL,
 * absolute or relative to the service root, of exactly one entity in an expected entity set.
 */
import { resolveEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { ODataError } from '../errors/odata-error';
import { keyFromPredicate, type KeyValue } from '../plan/keys';
import { parseResourcePath } from '../uri/parse-uri';

export type { KeyValue } from '../plan/keys';

export type ReferenceResult = { readonly ok: true; readonly key: KeyValue } | { readonly ok: false; readonly message: string };

export function parseEntityReference(model: EdmModel, serviceRoot: string, url: unknown, expected: EdmEntitySet): ReferenceResult {
  if (typeof url !== 'string' || url === '') return { ok: false, message: 'an entity reference is a URL string such as "Contacts(<key>)"' };
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    if (!url.startsWith(serviceRoot + '/')) return { ok: false, message: `'${url}' is not a URL of this service (${serviceRoot})` };
    path = url.slice(serviceRoot.length + 1);
  }
  path = path.replace(/^\//, '');
  let segments;
  try {
    segments = parseResourcePath(path);
  } catch (err) {
    return { ok: false, message: `'${url}' is not a valid entity URL: ${err instanceof ODataError ? err.message : String(err)}` };
  }
  const [first] = segments;
  if (segments.length !== 1 || first.kind !== 'name' || !first.key) return { ok: false, message: `'${url}' does not address one entity as ${expected.name}(<key>)` };
  const found = resolveEntitySet(model, first.name);
  if (!('found' in found) || found.found !== expected) return { ok: false, message: `'${url}' must be an entity of ${expected.name}` };
  const type = expected.entityType;
  if (first.key.kind === 'named' && first.key.pairs.length !== type.key.length) return { ok: false, message: `'${url}': the key of ${type.qualifiedName} is (${type.key.join(',')})` };
  try {
    return { ok: true, key: keyFromPredicate(expected.name, type, first.key) };
  } catch (err) {
    return { ok: false, message: `'${url}': ${err instanceof ODataError ? err.message : String(err)}` };
  }
}
