/**
 * Reads a JSON entity from a request body against its entity type: every property converted to the
 * value its column stores, `@odata.bind` references, nested entities of a deep insert, and every
 * problem found collected as an error detail (target = property path) rather than thrown one by one.
 */
import { randomUUID } from 'node:crypto';
import { textFormatOf, textFormatProblem } from '../edm/text-formats';
import { isJsonObject, type JsonObject } from '../json';
import { resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmComplexType, EdmEntitySet, EdmModel, EdmNavigation, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { columnOf, navigationStorage } from '../edm/storage';
import { NotImplementedError, type ErrorDetail } from '../errors/odata-error';
import { parseEntityReference, type KeyValue } from './entity-reference';
import { keyPartsOf, type KeyScalar } from '../plan/keys';
import { convertEnum, convertValue, type StoredValue } from './json-values';

export interface ColumnValue {
  readonly column: string;
  readonly value: StoredValue;
  readonly type: PrimitiveTypeName | 'enum';
}

export interface EntityRefInput {
  readonly set: EdmEntitySet;
  readonly key: KeyValue;
  /** where in the body it was given, for error details */
  readonly target: string;
}

export interface BindInput {
  readonly navigation: EdmNavigation;
  readonly refs: readonly EntityRefInput[];
}

export interface NestedInput {
  readonly navigation: EdmNavigation;
  readonly entities: readonly EntityInput[];
  /** in a PATCH or PUT (deep update, src/write/deep-update.ts): the relation becomes the entities given ('set') or changes as listed ('delta') */
  readonly update?: NestedUpdate;
}

export interface NestedUpdate {
  readonly kind: 'set' | 'delta';
  /** where each of `entities` stood in the body's array (a delta array holds removals too) */
  readonly positions: readonly number[];
  /** `@removed` entries of a delta */
  readonly removed: readonly RemovedEntity[];
}

export interface RemovedEntity {
  readonly key: KeyValue;
  /** reason "deleted": the entity goes, not only the link */
  readonly deleted: boolean;
  readonly target: string;
}

export interface EntityInput {
  readonly set: EdmEntitySet;
  /** column → value for every column this write sets */
  readonly values: Map<string, ColumnValue>;
  /** the key as given in the body, if any (with `keyGenerated`: a composite key whose GUID parts the service chose) */
  readonly key?: KeyValue;
  readonly keyGenerated?: true;
  readonly binds: readonly BindInput[];
  readonly nested: readonly NestedInput[];
  /** the properties the body named (an owner the body leaves out defaults to the creator) */
  readonly given?: ReadonlySet<string>;
}

/** create: a new entity; replace: PUT (omitted → default or null); merge: PATCH (omitted → unchanged). */
export type InputMode = 'create' | 'replace' | 'merge';

export interface InputContext {
  readonly model: EdmModel;
  readonly serviceRoot: string;
  readonly errors: ErrorDetail[];
}

type Json = JsonObject;


export function detail(errors: ErrorDetail[], code: string, target: string, message: string): void {
  errors.push({ code, target, message: `${target}: ${message}` });
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Reads one entity. `supplied` names columns a parent fills in (the foreign key of a nested entity),
 * so they are not required from the client. `where` prefixes error targets inside a deep insert.
 */
export function readEntity(cx: InputContext, set: EdmEntitySet, body: Json, mode: InputMode, where = '', supplied: ReadonlySet<string> = NONE): EntityInput {
  const type = set.entityType;
  const values = new Map<string, ColumnValue>();
  const binds: BindInput[] = [];
  const nested: NestedInput[] = [];
  const given = new Set<string>();
  const keyParts = new Map<string, KeyScalar>();
  const childSupplied = new Set<string>();

  for (const name in body) {
    if (name.startsWith('@')) continue;
    const value = body[name];
    const at = `${where}${name}`;
    const annotation = name.indexOf('@');
    if (annotation > 0) {
      if (name.slice(annotation) === '@delta') {
        const delta = deltaNavigation(cx, set, name.slice(0, annotation), mode, at);
        if (delta) {
          const result = readNestedUpdate(cx, set, delta, value, `${where}${delta.name}@delta`, 'delta');
          if (result) nested.push(result);
        }
        continue;
      }
      if (name.slice(annotation) !== '@odata.bind') continue;
      const navName = name.slice(0, annotation);
      const member = resolveMember(type, navName);
      if (!('found' in member) || member.found.kind !== 'navigation') {
        detail(cx.errors, 'UNKNOWN_PROPERTY', at, `${type.qualifiedName} has no navigation property '${navName}'`);
        continue;
      }
      const bind = readBind(cx, set, member.found.navigation, value, `${where}${member.found.navigation.name}@odata.bind`);
      if (bind) {
        binds.push(bind);
        const storage = navigationStorage(cx.model, type, bind.navigation);
        if (storage.kind === 'foreign-key') for (const c of storage.columns) childSupplied.add(c);
      }
      continue;
    }
    const member = resolveMember(type, name);
    if (!('found' in member)) {
      detail(cx.errors, 'UNKNOWN_PROPERTY', at, `${type.qualifiedName} has no property '${name}'`);
      continue;
    }
    if (member.found.kind === 'navigation') {
      const nav = member.found.navigation;
      if (mode !== 'create') {
        if (!nav.collection) throw new NotImplementedError('deep update of a single-valued navigation (nested entity in PATCH or PUT)', { target: at });
        const result = readNestedUpdate(cx, set, nav, value, `${where}${nav.name}`, 'set');
        if (result) nested.push(result);
        continue;
      }
      const result = readNested(cx, set, nav, value, `${where}${nav.name}`);
      if (result) {
        nested.push(result);
        const storage = navigationStorage(cx.model, type, nav);
        if (storage.kind === 'foreign-key') for (const c of storage.columns) childSupplied.add(c);
      }
      continue;
    }
    const property = member.found.property;
    given.add(property.name);
    if (property.computed) continue;
    if (type.key.includes(property.name)) {
      const converted = value === null ? undefined : convertValue(property, value);
      if (!converted || !converted.ok) detail(cx.errors, 'TYPE_MISMATCH', `${where}${property.name}`, converted ? converted.message : 'a key cannot be null');
      else keyParts.set(property.name, converted.value as KeyScalar);
      continue;
    }
    readProperty(cx, property, value, [property.name], mode, values, where);
  }
  if (mode !== 'merge') {
    const filledElsewhere = childSupplied.size === 0 ? supplied : new Set([...supplied, ...childSupplied]);
    for (const property of type.properties) {
      if (given.has(property.name) || type.key.includes(property.name)) continue;
      fillOmitted(cx, property, [property.name], values, where, filledElsewhere, mode);
    }
  }
  // spelled out: `{ …, ...spread, more }` takes V8's slow path (see plan-write.ts withCommon)
  const { key, keyGenerated } = keyOfParts(cx, set, keyParts, where, mode);
  return { set, values, key, keyGenerated, binds, nested, given };
}

/**
 * The key a body gives: none, or every part of a composite key (a part alone is an error). A new entity
 * of a composite key may leave out its GUID parts, which the service generates; any other part left
 * out is named (400): the service cannot choose a number or a text that identifies an entity.
 */
function keyOfParts(cx: InputContext, set: EdmEntitySet, parts: ReadonlyMap<string, KeyScalar>, where: string, mode: InputMode): { key?: KeyValue; keyGenerated?: true } {
  const names = set.entityType.key;
  if (names.length === 1) return { key: parts.get(names[0]) };
  if (parts.size === 0 && mode !== 'create') return {};
  const isGuid = (name: string) => keyPartsOf(set.entityType).find((p) => p.property.name === name)?.type === 'Edm.Guid';
  const missing = names.filter((n) => !parts.has(n) && !(mode === 'create' && isGuid(n)));
  if (parts.size === 0 && missing.length === names.length) return {};
  for (const name of missing) detail(cx.errors, 'NULL_NOT_ALLOWED', `${where}${name}`, `${name} is part of the key (${names.join(',')}); give every part`);
  if (missing.length) return {};
  const generated = names.some((n) => !parts.has(n));
  const key = names.map((n) => parts.get(n) ?? randomUUID());
  return generated ? { key, keyGenerated: true } : { key };
}

/**
 * The columns one property (addressed by its path, e.g. BusinessAddress/City) takes from a value:
 * used by writes to a property's own URL. Complex values replace or merge member by member.
 */
export function readPropertyValue(cx: InputContext, path: readonly EdmProperty[], value: unknown, mode: 'replace' | 'merge'): Map<string, ColumnValue> {
  const out = new Map<string, ColumnValue>();
  readProperty(cx, path[path.length - 1], value, path.map((p) => p.name), mode, out, '');
  return out;
}

/** A structural property (primitive, enum, complex or collection) given in the body. */
function readProperty(cx: InputContext, property: EdmProperty, value: unknown, path: readonly string[], mode: InputMode, out: Map<string, ColumnValue>, where: string): void {
  // the error target is spelled out only when there is an error
  const target = () => `${where}${path.join('/')}`;
  const column = columnOf(path, property);
  if (property.type.kind === 'complex' && !property.collection) {
    const complex = property.type.type;
    if (value === null) {
      if (!property.nullable) detail(cx.errors, 'NULL_NOT_ALLOWED', target(), `${property.name} cannot be null`);
      else setComplexNull(complex, path, out);
      return;
    }
    if (!isJsonObject(value)) {
      detail(cx.errors, 'TYPE_MISMATCH', target(), `expected an object of ${complex.qualifiedName}`);
      return;
    }
    readComplex(cx, complex, value, path, mode, out, where);
    return;
  }
  if (value === null) {
    if (!property.nullable && !property.collection) detail(cx.errors, 'NULL_NOT_ALLOWED', target(), `${property.name} cannot be null`);
    else out.set(column, { column, value: property.collection ? '[]' : null, type: storedType(property) });
    return;
  }
  if (property.collection) {
    if (!Array.isArray(value)) {
      detail(cx.errors, 'TYPE_MISMATCH', target(), 'expected an array');
      return;
    }
    const items: unknown[] = [];
    value.forEach((item, i) => {
      const converted = item === null ? undefined : convertValue(property, item);
      if (!converted || !converted.ok) detail(cx.errors, converted?.ok === false ? converted.code : 'NULL_NOT_ALLOWED', `${target()}/${i}`, converted?.ok === false ? converted.message : 'null is not allowed in this collection');
      else items.push(converted.value);
    });
    out.set(column, { column, value: JSON.stringify(items), type: 'Edm.String' });
    return;
  }
  const converted = convertValue(property, value);
  if (!converted.ok) {
    detail(cx.errors, converted.code, target(), converted.message);
    return;
  }
  const problem = typeof converted.value === 'string' ? formatProblem(cx.model, property, converted.value) : undefined;
  if (problem !== undefined) detail(cx.errors, 'INVALID_FORMAT', target(), problem);
  else out.set(column, { column, value: converted.value, type: storedType(property) });
}

/** Why a text value does not have the form its property's annotation declares (src/edm/text-formats.ts). */
function formatProblem(model: EdmModel, property: EdmProperty, value: string): string | undefined {
  const format = textFormatOf(model, property);
  return format === undefined ? undefined : textFormatProblem(format, value);
}

/** A complex value: given members converted; in create/replace, omitted members take their default. */
function readComplex(cx: InputContext, complex: EdmComplexType, value: Json, path: readonly string[], mode: InputMode, out: Map<string, ColumnValue>, where: string): void {
  const given = new Set<string>();
  for (const [name, member] of Object.entries(value)) {
    if (name.includes('@')) continue;
    const found = resolveMember(complex, name);
    if (!('found' in found) || found.found.kind !== 'property') {
      detail(cx.errors, 'UNKNOWN_PROPERTY', `${where}${[...path, name].join('/')}`, `${complex.qualifiedName} has no property '${name}'`);
      continue;
    }
    const property = found.found.property;
    given.add(property.name);
    if (property.computed) continue;
    readProperty(cx, property, member, [...path, property.name], mode, out, where);
  }
  if (mode === 'merge') return;
  for (const property of complex.properties) {
    if (!given.has(property.name)) fillOmitted(cx, property, [...path, property.name], out, where, new Set(), mode);
  }
}

/** An omitted property on create or replace: its default, else null (an error when not nullable). */
function fillOmitted(cx: InputContext, property: EdmProperty, path: readonly string[], out: Map<string, ColumnValue>, where: string, supplied: ReadonlySet<string>, mode: InputMode): void {
  const column = columnOf(path, property);
  if (supplied.has(column)) return;
  if (property.type.kind === 'complex' && !property.collection) {
    if (property.nullable) setComplexNull(property.type.type, path, out);
    else readComplex(cx, property.type.type, {}, path, mode, out, where);
    return;
  }
  if (property.computed) {
    // Computed values start at their default on create (collections kept by the server: empty).
    const initial = property.collection ? '[]' : defaultOf(property);
    if (mode === 'create' && initial !== undefined) out.set(column, { column, value: initial, type: storedType(property) });
    return;
  }
  const fallback = defaultOf(property);
  if (fallback === undefined && !property.nullable && !property.collection) {
    detail(cx.errors, 'NULL_NOT_ALLOWED', `${where}${path.join('/')}`, `${property.name} is required`);
    return;
  }
  out.set(column, { column, value: fallback ?? (property.collection ? '[]' : null), type: storedType(property) });
}

function setComplexNull(complex: EdmComplexType, path: readonly string[], out: Map<string, ColumnValue>): void {
  for (const p of complex.properties) {
    const inner = [...path, p.name];
    if (p.type.kind === 'complex' && !p.collection) setComplexNull(p.type.type, inner, out);
    else out.set(columnOf(inner, p), { column: columnOf(inner, p), value: null, type: storedType(p) });
  }
}

export function defaultOf(property: EdmProperty): StoredValue | undefined {
  const value = property.defaultValue;
  if (value === undefined) return undefined;
  if (property.type.kind === 'enum') {
    const converted = convertEnum(property.type.type, value);
    return converted.ok ? converted.value : undefined;
  }
  return value;
}

export function storedType(property: EdmProperty): PrimitiveTypeName | 'enum' {
  if (property.collection) return 'Edm.String';
  return property.type.kind === 'primitive' ? property.type.name : 'enum';
}

function readBind(cx: InputContext, set: EdmEntitySet, nav: EdmNavigation, value: unknown, target: string): BindInput | undefined {
  const targetSet = targetEntitySet(cx.model, set, nav);
  const urls = nav.collection ? value : [value];
  if (!Array.isArray(urls) || (!nav.collection && value === null)) {
    detail(cx.errors, 'TYPE_MISMATCH', target, nav.collection ? 'expected an array of entity URLs' : 'expected one entity URL');
    return undefined;
  }
  const refs: EntityRefInput[] = [];
  urls.forEach((url, i) => {
    const at = nav.collection ? `${target}/${i}` : target;
    const ref = parseEntityReference(cx.model, cx.serviceRoot, url, targetSet);
    if (ref.ok) refs.push({ set: targetSet, key: ref.key, target: at });
    else detail(cx.errors, 'BIND_NOT_FOUND', at, ref.message);
  });
  return { navigation: nav, refs };
}

/** The collection navigation a `Nav@delta` names (in a PATCH or PUT only). */
function deltaNavigation(cx: InputContext, set: EdmEntitySet, navName: string, mode: InputMode, at: string): EdmNavigation | undefined {
  const member = resolveMember(set.entityType, navName);
  if (!('found' in member) || member.found.kind !== 'navigation' || !member.found.navigation.collection) {
    detail(cx.errors, 'UNKNOWN_PROPERTY', at, `${set.entityType.qualifiedName} has no collection navigation property '${navName}'`);
    return undefined;
  }
  if (mode === 'create') {
    detail(cx.errors, 'INVALID_PAYLOAD', at, 'a new entity takes its related entities as an array, not a delta');
    return undefined;
  }
  return member.found.navigation;
}

/**
 * The nested collection of a deep update: entities with their key are read as changes (merge), those
 * without as new entities, `{"@odata.id": …}` as a reference to relate; in a delta, `@removed` entries
 * (with their key or `@id`) as removals.
 */
function readNestedUpdate(cx: InputContext, set: EdmEntitySet, nav: EdmNavigation, value: unknown, target: string, kind: 'set' | 'delta'): NestedInput | undefined {
  const targetSet = targetEntitySet(cx.model, set, nav);
  const storage = navigationStorage(cx.model, set.entityType, nav);
  const supplied = new Set(storage.kind === 'reverse-foreign-key' ? storage.targetColumns : []);
  if (!Array.isArray(value) || value.some((item) => !isJsonObject(item))) {
    detail(cx.errors, 'TYPE_MISMATCH', target, 'expected an array of entities');
    return undefined;
  }
  const keyName = targetSet.entityType.key[0];
  const entities: EntityInput[] = [];
  const positions: number[] = [];
  const removed: RemovedEntity[] = [];
  (value as Json[]).forEach((item, i) => {
    const at = `${target}/${i}`;
    const reference = item['@odata.id'] ?? item['@id'];
    const keyOf = (): KeyValue | undefined => {
      if (reference !== undefined) {
        const ref = parseEntityReference(cx.model, cx.serviceRoot, reference, targetSet);
        if (ref.ok) return ref.key;
        detail(cx.errors, 'BIND_NOT_FOUND', at, ref.message);
        return undefined;
      }
      const keyed = readEntity(cx, targetSet, { [keyName]: item[keyName] }, 'merge', `${at}/`);
      if (keyed.key === undefined) detail(cx.errors, 'INVALID_KEY', at, `an entry of a delta needs its ${keyName} or @id`);
      return keyed.key;
    };
    if (kind === 'delta' && item['@removed'] !== undefined) {
      const key = keyOf();
      const reason = isJsonObject(item['@removed']) ? item['@removed'].reason : undefined;
      if (key !== undefined) removed.push({ key, deleted: reason === 'deleted', target: at });
      return;
    }
    positions.push(i);
    if (reference !== undefined && Object.keys(item).every((k) => k.startsWith('@'))) {
      const key = keyOf();
      entities.push({ set: targetSet, values: new Map(), key: key ?? '', binds: [], nested: [] });
      return;
    }
    entities.push(readEntity(cx, targetSet, item, item[keyName] === undefined ? 'create' : 'merge', `${at}/`, supplied));
  });
  return { navigation: nav, entities, update: { kind, positions, removed } };
}

/** Nested entities of a deep insert; an element that is only `{"@odata.id": …}` is a reference to bind. */
function readNested(cx: InputContext, set: EdmEntitySet, nav: EdmNavigation, value: unknown, target: string): NestedInput | undefined {
  const targetSet = targetEntitySet(cx.model, set, nav);
  const storage = navigationStorage(cx.model, set.entityType, nav);
  const supplied = new Set(storage.kind === 'reverse-foreign-key' ? storage.targetColumns : []);
  const items = nav.collection ? value : [value];
  if (!Array.isArray(items) || items.some((item) => !isJsonObject(item))) {
    detail(cx.errors, 'TYPE_MISMATCH', target, nav.collection ? 'expected an array of entities' : 'expected an entity object');
    return undefined;
  }
  const entities = (items as Json[]).map((item, i) => readEntity(cx, targetSet, item, 'create', nav.collection ? `${target}/${i}/` : `${target}/`, supplied));
  return { navigation: nav, entities };
}
