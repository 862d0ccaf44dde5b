/**
 * Key values: from a URL literal to the value a query binds, and back to canonical URL text. A key is
 * a list of parts (property, column, type); one entity's key is the value of its single part, or the
 * values of all parts in key order when the key is composite (`Editions(Code='A',Year=2026)`).
 */
import { PlanError } from '../errors/odata-error';
import { propertyOf } from '../edm/lookup';
import type { EdmEntityType, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { memoizedByObject } from '../memo';
import type { KeyPredicate, Literal } from '../uri/ast';

export type KeyScalar = string | number | boolean;

/** One entity's key: its value for a single-property key, the values in key order for a composite key. */
export type KeyValue = KeyScalar | readonly KeyScalar[];

export interface KeyPart {
  readonly property: EdmProperty;
  /** key properties are primitive and top-level, so the column is the property's name */
  readonly column: string;
  readonly type: PrimitiveTypeName;
}

export const keyPartsOf: (type: EdmEntityType) => readonly KeyPart[] = memoizedByObject((type) => type.key.map((name) => {
  const property = propertyOf(type, name);
  return { property, column: name, type: property.type.kind === 'primitive' ? property.type.name : 'Edm.String' };
}));

export function isCompositeKey(type: EdmEntityType): boolean {
  return type.key.length > 1;
}

/** The key's values in key order (one for a single-property key). */
export function keyScalars(key: KeyValue): readonly KeyScalar[] {
  return typeof key === 'object' ? key : [key];
}

/** The key of a row (column → value) of the type. */
export function keyOfRow(type: EdmEntityType, row: Readonly<Record<string, unknown>>): KeyValue {
  const parts = keyPartsOf(type);
  if (parts.length === 1) return row[parts[0].column] as KeyScalar;
  return parts.map((p) => row[p.column] as KeyScalar);
}

/** A key as messages show it after the set's name: `42`, or `Code='A',Year=2026` for a composite key. */
export function keyLabel(type: EdmEntityType, key: KeyValue): string {
  return typeof key === 'object' ? formatEntityKey(type, key) : String(key);
}

/** The key of a single-property key type (foreign keys and link tables only refer to such types: edm/load-csdl.ts). */
export function singleKey(key: KeyValue): KeyScalar {
  if (typeof key === 'object') throw new Error('a composite key where a single-property key was expected');
  return key;
}

/** A key as a row (key column → value). */
export function keyRow(type: EdmEntityType, key: KeyValue): Record<string, KeyScalar> {
  const values = keyScalars(key);
  const row: Record<string, KeyScalar> = {};
  keyPartsOf(type).forEach((part, i) => {
    row[part.column] = values[i];
  });
  return row;
}

/** Text that names a key unambiguously within its set (map keys, messages). */
export function keyText(key: KeyValue): string {
  // parts as text: an Int32 part is a string when it comes from a URL, a number from a row
  return typeof key === 'object' ? JSON.stringify(key.map(String)) : String(key);
}

export function sameKey(a: KeyValue, b: KeyValue): boolean {
  const x = keyScalars(a);
  const y = keyScalars(b);
  return x.length === y.length && x.every((v, i) => String(v) === String(y[i]));
}

/** The key from a URL key predicate: `(<value>)` for a single-property key, every part named for a composite one. */
export function keyFromPredicate(setName: string, type: EdmEntityType, predicate: KeyPredicate): KeyValue {
  const parts = keyPartsOf(type);
  const expected = () => `${setName}: address the entity by its key (${type.key.join(',')})`;
  if (predicate.kind === 'single') {
    if (parts.length !== 1) throw new PlanError('INVALID_KEY', `${expected()}, naming every part: ${setName}(${type.key.map((k) => `${k}=…`).join(',')})`, { target: 'path' });
    return keyValue(parts[0].property, predicate.value);
  }
  const values = parts.map((part) => {
    const pair = predicate.pairs.find((p) => p.name === part.property.name) ?? predicate.pairs.find((p) => p.name.toLowerCase() === part.property.name.toLowerCase());
    if (!pair) throw new PlanError('INVALID_KEY', `${expected()}; ${part.property.name} is missing`, { target: 'path' });
    return keyValue(part.property, pair.value);
  });
  if (predicate.pairs.length !== parts.length) throw new PlanError('INVALID_KEY', `${expected()}`, { target: 'path' });
  return parts.length === 1 ? values[0] : values;
}

/** The canonical key predicate text: `'A'`, `42`, or `Code='A',Year=2026` for a composite key. */
export function formatEntityKey(type: EdmEntityType, key: KeyValue): string {
  const parts = keyPartsOf(type);
  if (parts.length === 1) return formatKey(parts[0].property, keyScalars(key)[0]);
  const values = keyScalars(key);
  return parts.map((p, i) => `${p.property.name}=${formatKey(p.property, values[i])}`).join(',');
}

export function keyValue(keyProp: EdmProperty, literal: Literal): string | number | boolean {
  const t = keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
  if (literal.type === t) return (literal as { value: string }).value;
  if (t === 'Edm.Int64' && literal.type === 'Edm.Int32') return Number(literal.value);
  if ((t === 'Edm.Int16' || t === 'Edm.Byte' || t === 'Edm.SByte') && literal.type === 'Edm.Int32') return Number(literal.value);
  // a decimal key part written as an integer (`Price=5`) or with a fraction the parser typed otherwise
  if ((t === 'Edm.Decimal' || t === 'Edm.Double') && (literal.type === 'Edm.Int32' || literal.type === 'Edm.Int64' || literal.type === 'Edm.Decimal' || literal.type === 'Edm.Double')) return literal.value;
  throw new PlanError('INVALID_KEY', `The key ${keyProp.name} is of type ${t}; got ${literal.type === 'null' ? 'null' : literal.type}`, { target: 'path' });
}

export function formatKey(keyProp: EdmProperty, value: string | number | boolean): string {
  const t = keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
  if (t === 'Edm.String') return `'${String(value).replace(/'/g, "''")}'`;
  return String(value);
}
