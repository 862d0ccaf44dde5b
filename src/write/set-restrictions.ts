/**
 * Enforces the entity set's declared restrictions (edm/restrictions.ts) on one row write: an insert
 * into a set that is not Insertable, a delete from one that is not Deletable → 405; an update that
 * changes a NonUpdatable or Core.Immutable property → 400 naming it (sending its current value is fine).
 * Rows shipped with the service (their type's computed Boolean `IsSystem` is true, e.g. the system
 * picklists) are not deleted and keep their alternate keys (renaming) → 409.
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { restrictionsOf } from '../edm/restrictions';
import { alternateKeysOf } from '../edm/alternate-keys';
import { memoizedByObject } from '../memo';
import { ODataError } from '../errors/odata-error';
import type { RowStatement } from '../auth/write-rules';
import type { StoredValue } from './json-values';

type Row = ReadonlyMap<string, StoredValue>;

export function checkSetRestrictions(model: EdmModel, set: EdmEntitySet, statement: RowStatement, before: Row | undefined, after: Row | undefined): void {
  const r = restrictionsOf(model, set);
  if (before && isSystemRow(set, before)) checkSystemRow(set, statement, before, after);
  switch (statement) {
    case 'insert':
      if (!r.insertable) throw notAllowed(`${set.name}: entities cannot be created here (Capabilities.InsertRestrictions)`);
      return;
    case 'delete':
      if (!r.deletable) throw notAllowed(`${set.name}: entities cannot be deleted (Capabilities.DeleteRestrictions)`);
      return;
    case 'update': {
      if (!r.updatable) throw notAllowed(`${set.name}: entities cannot be changed (Capabilities.UpdateRestrictions)`);
      for (const name of r.fixedProperties) {
        if (!before || !after || !after.has(name) || sameValue(before.get(name), after.get(name))) continue;
        throw new ODataError('READ_ONLY_PROPERTY', `${set.name}: ${name} cannot be changed`, { target: name });
      }
    }
  }
}

const SYSTEM_FLAG = 'IsSystem';

/** The properties that name a system row (its alternate keys' parts), when the type marks system rows. */
const systemNamesOf = memoizedByObject((set: EdmEntitySet): readonly string[] | undefined => {
  const flag = set.entityType.properties.find((p) => p.name === SYSTEM_FLAG);
  if (!flag || !flag.computed || flag.type.kind !== 'primitive' || flag.type.name !== 'Edm.Boolean') return undefined;
  return alternateKeysOf(set.entityType).flatMap((k) => k.parts.map((part) => part.property.name));
});

function isSystemRow(set: EdmEntitySet, row: Row): boolean {
  return systemNamesOf(set) !== undefined && row.get(SYSTEM_FLAG) === true;
}

function checkSystemRow(set: EdmEntitySet, statement: RowStatement, before: Row, after: Row | undefined): void {
  const key = set.entityType.key[0];
  const which = `${set.name}(${String(before.get(key))})`;
  if (statement === 'delete') throw new ODataError('CONFLICT', `${which} is a system record (${SYSTEM_FLAG}) and cannot be deleted`, { target: set.name });
  for (const name of systemNamesOf(set) ?? []) {
    if (!after || !after.has(name) || sameValue(before.get(name), after.get(name))) continue;
    throw new ODataError('CONFLICT', `${which} is a system record (${SYSTEM_FLAG}): its ${name} cannot be changed`, { target: name });
  }
}

function sameValue(a: StoredValue | undefined, b: StoredValue | undefined): boolean {
  return a === b || (a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b));
}

function notAllowed(message: string): ODataError {
  return new ODataError('METHOD_NOT_ALLOWED', message);
}
