/**
 * Alternate keys (Core.AlternateKeys) become canonical keys before planning, so every later stage
 * (plans, SQL, writes, `@odata.id`) sees only the canonical key: key predicates in the resource path
 * (`Tags(Name='VIP')/Contacts`), `$id`, and entity references in a JSON body (`@odata.bind`,
 * `@odata.id`). Each alternate key is looked up once (compile-alternate-key.ts). A PUT or PATCH to
 * `Set(<alternate key>)` that finds nothing creates the entity (upsert) with the alternate key's values,
 * when the set allows inserts (otherwise 404): its key parts come from the body, a GUID part the body
 * leaves out is generated, any other part left out is a 400 naming it.
 */
import { randomUUID } from 'node:crypto';
import { isJsonObject, type JsonObject } from '../json';
import { resolveEntitySet, resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel, PrimitiveTypeName } from '../edm/model';
import { restrictionsOf } from '../edm/restrictions';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import { matchKeyPredicate, type AlternateKeyValue } from '../plan/alternate-key-match';
import { formatEntityKey, keyOfRow, keyPartsOf, keyScalars, type KeyScalar, type KeyValue } from '../plan/keys';
import { compileAlternateKeyLookup } from '../sql/compile-alternate-key';
import { run, type Executor } from '../sql/execute';
import type { KeyPredicate, Literal, PathSegment, UriRequest } from '../uri/ast';
import { parseResourcePath } from '../uri/parse-uri';
import type { RequestBody } from '../write/write-plan';


export interface KeyedRequest {
  readonly uri: UriRequest;
  readonly body: () => RequestBody;
}

interface Found {
  readonly key: KeyValue;
  /** the alternate key's values as stored (for a PUT that leaves them out) */
  readonly stored: ReadonlyMap<string, unknown>;
}

/** A named predicate somewhere in the text (`(Name='x')`); canonical `(<guid>)` predicates need no lookup. */
const NAMED_PREDICATE = /\([^()]*=/;

/**
 * The request with canonical keys. Without an alternate key in the path, in `$id` or in a body's
 * references (the common case: a change set's thousand creates), the answer is known at once, without
 * a promise or a lookup.
 */
export function withCanonicalKeys(model: EdmModel, uri: UriRequest, method: string, readBody: () => RequestBody, executor: () => Executor, serviceRoot: string): KeyedRequest | Promise<KeyedRequest> {
  const writes = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const pathNamed = uri.segments.some((s) => s.kind === 'name' && s.key?.kind === 'named');
  const idNamed = uri.options.id !== undefined && NAMED_PREDICATE.test(uri.options.id);
  if (!pathNamed && !idNamed) {
    if (!writes) {
      let body: RequestBody | undefined;
      return { uri, body: () => (body ??= readBody()) };
    }
    const body = readBody();
    if (body.kind !== 'json' || !isJsonObject(body.value) || !holdsNamedReference(body.value)) return { uri, body: () => body };
    return canonicalKeys(model, uri, method, () => body, executor, serviceRoot, writes, pathNamed, idNamed);
  }
  return canonicalKeys(model, uri, method, readBody, executor, serviceRoot, writes, pathNamed, idNamed);
}

async function canonicalKeys(model: EdmModel, uri: UriRequest, method: string, readBody: () => RequestBody, executor: () => Executor, serviceRoot: string,
  writes: boolean, pathNamed: boolean, idNamed: boolean): Promise<KeyedRequest> {
  let body: RequestBody | undefined;
  const bodyOnce = (): RequestBody => (body ??= readBody());
  const lookup = (set: EdmEntitySet, values: readonly AlternateKeyValue[]) => findByAlternateKey(executor(), set, values);

  let segments = uri.segments;
  let upsert: { set: EdmEntitySet; values: readonly AlternateKeyValue[] } | undefined;
  let stored: ReadonlyMap<string, unknown> | undefined;
  if (pathNamed) {
    const out: PathSegment[] = [];
    let set: EdmEntitySet | undefined;
    for (let i = 0; i < uri.segments.length; i++) {
      const seg = uri.segments[i];
      set = seg.kind === 'name' ? segmentSet(model, set, seg.name, i) : undefined;
      if (seg.kind !== 'name' || set === undefined) {
        out.push(...uri.segments.slice(i));
        break;
      }
      const match = seg.key ? matchKeyPredicate(set, seg.key) : undefined;
      if (match?.kind !== 'alternate') {
        out.push(seg);
        continue;
      }
      const found = await lookup(set, match.values);
      let key: KeyValue;
      if (found) {
        key = found.key;
        if (uri.segments.length === 1) stored = found.stored;
      } else if (uri.segments.length === 1 && (method === 'PUT' || method === 'PATCH') && restrictionsOf(model, set).insertable) {
        key = upsertKey(set, bodyOnce(), match.values);
        upsert = { set, values: match.values };
      } else {
        throw new ODataError('NOT_FOUND', `No entity of ${set.name} has ${describe(match.values)}`, { target: 'path' });
      }
      out.push(Object.assign({}, seg, { key: canonicalPredicate(set, key) }));
    }
    segments = out;
  }

  let options = uri.options;
  if (idNamed) options = Object.assign({}, options, { id: await canonicalReference(model, serviceRoot, options.id!, '$id', lookup) });

  let rewritten: RequestBody | undefined;
  if (writes) {
    const original = bodyOnce();
    if (original.kind === 'json' && isJsonObject(original.value)) {
      let value: JsonObject = original.value;
      const details: ErrorDetail[] = [];
      if (holdsNamedReference(value)) value = await rewriteReferences(model, serviceRoot, value, '', lookup, details) as JsonObject;
      if (upsert) value = withKeyValues(value, upsert.values, details);
      else if (stored && method === 'PUT') value = withStoredValues(value, stored);
      if (details.length > 0) throw new ODataError('VALIDATION_FAILED', details.length === 1 ? details[0].message : `${details.length} problems in the request`, { target: details[0].target, details });
      if (value !== original.value) rewritten = { kind: 'json', value };
    }
  }
  if (segments === uri.segments && options === uri.options && rewritten === undefined) return { uri, body: bodyOnce };
  return { uri: Object.assign({}, uri, { segments, options }), body: () => rewritten ?? bodyOnce() };
}

/** The entity set segment `i` addresses (a set, or a navigation of the previous one), or undefined past the entity path. */
function segmentSet(model: EdmModel, previous: EdmEntitySet | undefined, name: string, i: number): EdmEntitySet | undefined {
  if (i === 0) {
    const found = resolveEntitySet(model, name);
    return 'found' in found ? found.found : model.singletons.get(name)?.entitySet;
  }
  if (previous === undefined || name.includes('.')) return undefined;
  const member = resolveMember(previous.entityType, name);
  if (!('found' in member) || member.found.kind !== 'navigation') return undefined;
  return targetEntitySet(model, previous, member.found.navigation);
}

/**
 * The key of an entity an upsert through an alternate key creates: each part from the body (or from
 * the alternate key when it is one of its parts), a GUID part the body leaves out generated.
 */
function upsertKey(set: EdmEntitySet, body: RequestBody, values: readonly AlternateKeyValue[]): KeyValue {
  const given = body.kind === 'json' && isJsonObject(body.value) ? body.value : {};
  const missing: string[] = [];
  const parts = keyPartsOf(set.entityType).map((part): KeyScalar => {
    const name = part.property.name;
    const fromKey = values.find((v) => v.part.property === part.property);
    if (fromKey !== undefined) return fromKey.value;
    const value = given[name];
    if (value === undefined || value === null) {
      if (part.type === 'Edm.Guid') return randomUUID();
      missing.push(name);
      return '';
    }
    const integral = part.type === 'Edm.Int32' || part.type === 'Edm.Int64' || part.type === 'Edm.Int16' || part.type === 'Edm.Byte' || part.type === 'Edm.SByte';
    if (integral ? !Number.isSafeInteger(value) : typeof value !== 'string') {
      throw new ODataError('INVALID_KEY', `${set.name}: ${name} is part of the key and must be ${integral ? 'an integer' : 'a string'}`, { target: name });
    }
    return value as KeyScalar;
  });
  if (missing.length > 0) {
    throw new ODataError('VALIDATION_FAILED', `${set.name}: creating an entity through its alternate key needs its key ${set.entityType.key.join(',')} in the body; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`, {
      target: missing[0], details: missing.map((name) => ({ code: 'NULL_NOT_ALLOWED', target: name, message: `${name} is part of the key (${set.entityType.key.join(',')}); give it in the body` })),
    });
  }
  return parts.length === 1 ? parts[0] : parts;
}

async function findByAlternateKey(ex: Executor, set: EdmEntitySet, values: readonly AlternateKeyValue[]): Promise<Found | undefined> {
  const rows = await run(ex, compileAlternateKeyLookup(ex, set, values));
  if (rows.length > 1) throw new ODataError('CONFLICT', `${set.name}: ${describe(values)} matches more than one entity`, { target: 'path' });
  if (rows.length === 0) return undefined;
  const stored = new Map<string, unknown>();
  for (const { part } of values) stored.set(part.property.name, displayValue(part, storedValue(ex, part, rows[0][part.property.name])));
  return { key: set.entityType.key.length > 1 ? keyOfRow(set.entityType, rows[0]) : rows[0].key as KeyValue, stored };
}

function storedValue(ex: Executor, part: AlternateKeyValue['part'], value: unknown): unknown {
  const t = part.property.type;
  if (t.kind === 'enum') return Number(value);
  return t.kind === 'primitive' && value !== null ? ex.dialect.read(value, t.name) : value;
}

function canonicalPredicate(set: EdmEntitySet, key: KeyValue): KeyPredicate {
  const parts = keyPartsOf(set.entityType);
  if (parts.length === 1) return { kind: 'single', value: keyLiteral(parts[0].type, keyScalars(key)[0]), position: 0 };
  const values = keyScalars(key);
  return { kind: 'named', pairs: parts.map((part, i) => ({ name: part.property.name, value: keyLiteral(part.type, values[i]), position: 0 })) };
}

function keyLiteral(type: PrimitiveTypeName, key: KeyScalar): Literal {
  switch (type) {
    case 'Edm.Guid': return { type: 'Edm.Guid', value: String(key).toLowerCase() };
    case 'Edm.Int32': case 'Edm.Int64': return { type, value: String(key) };
    default: return { type: 'Edm.String', value: String(key) };
  }
}

function describe(values: readonly AlternateKeyValue[]): string {
  return values.map(({ part, value }) => `${part.alias} ${JSON.stringify(displayValue(part, value))}`).join(' and ');
}

/** The value as the client writes it in a body (an enum by its member name). */
function displayValue(part: AlternateKeyValue['part'], value: unknown): unknown {
  const t = part.property.type;
  if (t.kind === 'enum') return typeof value === 'number' ? t.type.memberByValue.get(value) ?? value : value;
  // integers keep their URL text (Int64 beyond 2^53); a body carries them as JSON numbers where they fit
  if (t.kind === 'primitive' && INTEGRAL.has(t.name) && typeof value === 'string' && Number.isSafeInteger(Number(value))) return Number(value);
  return value;
}

const INTEGRAL: ReadonlySet<string> = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64']);

type Lookup = (set: EdmEntitySet, values: readonly AlternateKeyValue[]) => Promise<Found | undefined>;

/** An entity URL with an alternate key → the canonical relative URL (`Tags(<guid>)`); other URLs unchanged. */
async function canonicalReference(model: EdmModel, serviceRoot: string, url: string, target: string, lookup: Lookup): Promise<string> {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    if (!url.startsWith(serviceRoot + '/')) return url;
    path = url.slice(serviceRoot.length + 1);
  }
  let segments: PathSegment[];
  try {
    segments = parseResourcePath(path.replace(/^\//, ''));
  } catch {
    return url; // the reference's own reader reports a malformed URL
  }
  const [first] = segments;
  if (segments.length !== 1 || first.kind !== 'name' || first.key?.kind !== 'named') return url;
  const found = resolveEntitySet(model, first.name);
  if (!('found' in found)) return url;
  const set = found.found;
  let match;
  try {
    match = matchKeyPredicate(set, first.key);
  } catch (err) {
    throw new ODataError('VALIDATION_FAILED', `${target}: ${(err as Error).message}`, { target, details: [{ code: 'INVALID_KEY', target, message: `${target}: ${(err as Error).message}` }] });
  }
  if (match.kind !== 'alternate') return url;
  const entity = await lookup(set, match.values);
  if (!entity) {
    const message = `${target}: no entity of ${set.name} has ${describe(match.values)}`;
    throw new ODataError('VALIDATION_FAILED', message, { target, details: [{ code: 'BIND_NOT_FOUND', target, message }] });
  }
  return `${set.name}(${formatEntityKey(set.entityType, entity.key)})`;
}

/** Whether a reference in the body (nested entities included) names an alternate key: most bodies have none. */
function holdsNamedReference(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsNamedReference);
  if (!isJsonObject(value)) return false;
  for (const name in value) {
    const member = value[name];
    if (name === '@odata.id' || name === '@id' || name.endsWith('@odata.bind')) {
      if (Array.isArray(member) ? member.some(isNamedReference) : isNamedReference(member)) return true;
    } else if (typeof member === 'object' && member !== null && holdsNamedReference(member)) return true;
  }
  return false;
}

const isNamedReference = (ref: unknown): boolean => typeof ref === 'string' && NAMED_PREDICATE.test(ref);

/** The body with every `…@odata.bind`, `@odata.id` and `@id` (delta entries) reference made canonical (nested entities included). */
async function rewriteReferences(model: EdmModel, serviceRoot: string, value: unknown, where: string, lookup: Lookup, details: ErrorDetail[]): Promise<unknown> {
  if (Array.isArray(value)) {
    let changed = false;
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = await rewriteReferences(model, serviceRoot, value[i], `${where}/${i}`, lookup, details);
      changed ||= item !== value[i];
      out.push(item);
    }
    return changed ? out : value;
  }
  if (!isJsonObject(value)) return value;
  let out: JsonObject | undefined;
  for (const [name, member] of Object.entries(value)) {
    const at = where === '' ? name : `${where}/${name}`;
    let next: unknown = member;
    if (name === '@odata.id' || name === '@id' || name.endsWith('@odata.bind')) {
      const refs = Array.isArray(member) ? member : [member];
      const canonical: unknown[] = [];
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i];
        canonical.push(typeof ref === 'string' && NAMED_PREDICATE.test(ref) ? await referenceOrDetail(model, serviceRoot, ref, Array.isArray(member) ? `${at}/${i}` : at, lookup, details) : ref);
      }
      next = Array.isArray(member) ? canonical : canonical[0];
      if (canonical.every((c, i) => c === refs[i])) next = member;
    } else if (typeof member === 'object' && member !== null) {
      next = await rewriteReferences(model, serviceRoot, member, at, lookup, details);
    }
    if (next !== member) (out ??= Object.assign({}, value))[name] = next;
  }
  return out ?? value;
}

async function referenceOrDetail(model: EdmModel, serviceRoot: string, ref: string, at: string, lookup: Lookup, details: ErrorDetail[]): Promise<string> {
  try {
    return await canonicalReference(model, serviceRoot, ref, at, lookup);
  } catch (err) {
    if (!(err instanceof ODataError) || err.details.length === 0) throw err;
    details.push(...err.details);
    return ref;
  }
}

/** An upsert's body: the alternate key's values from the URL (a different value in the body → 400). */
function withKeyValues(body: JsonObject, values: readonly AlternateKeyValue[], details: ErrorDetail[]): JsonObject {
  const out = Object.assign({}, body);
  for (const { part, value } of values) {
    const name = part.property.name;
    const given = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
    const fromUrl = displayValue(part, value);
    if (given === undefined) out[name] = fromUrl;
    else if (String(body[given]).toLowerCase() !== String(fromUrl).toLowerCase()) {
      details.push({ code: 'KEY_MISMATCH', target: name, message: `${name}: the body says ${JSON.stringify(body[given])}, the URL ${JSON.stringify(fromUrl)}` });
    }
  }
  return out;
}

/** A PUT (replace) to `Set(<alternate key>)` that leaves the key's properties out keeps their stored values. */
function withStoredValues(body: JsonObject, stored: ReadonlyMap<string, unknown>): JsonObject {
  let out: JsonObject | undefined;
  for (const [name, value] of stored) {
    if (Object.keys(body).some((k) => k.toLowerCase() === name.toLowerCase())) continue;
    (out ??= Object.assign({}, body))[name] = value;
  }
  return out ?? body;
}
