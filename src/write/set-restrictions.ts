/**
 * Enforces the entity set's declared restrictions (edm/restrictions.ts) on one row write: an insert
 * into a set that is not Insertable, a delete from one that is not Deletable → 405; an update that
 * changes a NonUpdatable or Core.Immutable property → 400 naming it (sending its current value is fine).
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { restrictionsOf } from '../edm/restrictions';
import { ODataError } from '../errors/odata-error';
import type { RowStatement } from '../auth/write-rules';
import type { StoredValue } from './json-values';

type Row = ReadonlyMap<string, StoredValue>;

export function checkSetRestrictions(model: EdmModel, set: EdmEntitySet, statement: RowStatement, before: Row | undefined, after: Row | undefined): void {
  const r = restrictionsOf(model, set);
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

function sameValue(a: StoredValue | undefined, b: StoredValue | undefined): boolean {
  return a === b || (a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b));
}

function notAllowed(message: string): ODataError {
  return new ODataError('METHOD_NOT_ALLOWED', message);
}
