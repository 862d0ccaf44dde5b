/** Plan expressions over an entity's key: one equality per key part. */
import type { EdmEntitySet } from '../edm/model';
import { keyPartsOf, keyScalars, type KeyValue } from './keys';
import type { PlanExpr } from './plan';

/** `k1 = v1`, `k2 = v2`, … on a scope's row: the entity with this key (the conditions are and-ed). */
export function keyEquals(set: EdmEntitySet, scope: number, key: KeyValue): PlanExpr[] {
  const values = keyScalars(key);
  return keyPartsOf(set.entityType).map((part, i): PlanExpr => {
    const type = { kind: 'primitive' as const, name: part.type };
    return { kind: 'compare', op: 'eq', left: { kind: 'column', scope, joins: [], column: part.column, type, notNull: true }, right: { kind: 'literal', value: values[i], type } };
  });
}

/** The key-part columns of a scope's row, in key order. */
export function keyColumns(set: EdmEntitySet, scope: number): PlanExpr[] {
  return keyPartsOf(set.entityType).map((part): PlanExpr => ({ kind: 'column', scope, joins: [], column: part.column, type: { kind: 'primitive', name: part.type }, notNull: true }));
}

/** The entities with one of these keys: `k IN (…)`, or `(k1 = … AND k2 = …) OR …` for a composite key. */
export function keysRestriction(set: EdmEntitySet, scope: number, keys: readonly KeyValue[]): PlanExpr {
  const parts = keyPartsOf(set.entityType);
  if (parts.length === 1) {
    const type = { kind: 'primitive' as const, name: parts[0].type };
    const column: PlanExpr = { kind: 'column', scope, joins: [], column: parts[0].column, type };
    return { kind: 'in', left: column, list: keys.map((value): PlanExpr => ({ kind: 'literal', value: keyScalars(value)[0], type })) };
  }
  const each = keys.map((key) => keyEquals(set, scope, key).reduce((left, right): PlanExpr => ({ kind: 'and', left, right })));
  if (each.length === 0) return { kind: 'literal', value: false, type: { kind: 'primitive', name: 'Edm.Boolean' } };
  return each.reduce((left, right): PlanExpr => ({ kind: 'or', left, right }));
}
