/**
 * Who may write what (issue 14, item 3), checked by the write session wherever it inserts, updates
 * or deletes a row (single writes, deep inserts, $batch parts, Crm.MassUpdate/MassDelete, Crm.Clear):
 * Administrator everything; Manager every record but no user administration; Standard public records
 * and their own; Restricted only records they own; Browse nothing. Users and Teams: Administrators
 * only; AccessTokens: their owner (and Administrators). Server-maintained changes (sums, dynamic
 * group matches) are not the caller's writes and are not checked.
 */
import type { EdmEntitySet, EdmEntityType, EdmProperty } from '../edm/model';
import { memoizedByObject } from '../memo';
import { propertyColumn } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import type { RequestUser } from '../plan/request-context';
import type { ColumnValue } from '../write/entity-input';
import type { StoredValue } from '../write/json-values';
import { hashPassword } from './passwords';
import { DEFINITION_SETS } from '../schema/registry';

export type RowStatement = 'insert' | 'update' | 'delete';
type Row = ReadonlyMap<string, StoredValue>;

/** Sets only Administrators write. */
export const ADMINISTRATION_SETS: ReadonlySet<string> = new Set(['Users', 'Teams', 'Countries', 'Picklists', 'PicklistItems']);
export const PERSONAL_TOKEN_SET = 'AccessTokens';
export const USERS_SET = 'Users';

/** The property naming a record's owner, by the names the model uses (first found). */
const OWNER_PROPERTIES = ['OwnerId', 'ManagerId', 'OrganizerId'] as const;
const PRIVATE_PROPERTY = 'IsPrivate';

export function ownerPropertyOf(set: EdmEntitySet): string | undefined {
  return OWNER_PROPERTIES.find((name) => set.entityType.properties.some((p) => p.name === name));
}

export function forbidden(message: string, target?: string): ODataError {
  return new ODataError('FORBIDDEN', message, { target });
}

/**
 * A change of the caller's own `Users` row that the role rules alone would refuse: `Crm.ChangePassword`
 * (Password) and `PATCH /Me` (DisplayName, Email). Only `columns` may change (and what the server stamps).
 */
export interface OwnUserGrant {
  readonly columns: ReadonlySet<string>;
}

/** What `PATCH /Me` may change. */
export const OWN_PROFILE: OwnUserGrant = { columns: new Set(['DisplayName', 'Email']) };

const STAMPED_COLUMNS: ReadonlySet<string> = new Set(['Edited', 'EditedById']);

function isOwnUserChange(user: RequestUser, before: Row | undefined, after: Row | undefined, grant: OwnUserGrant): boolean {
  if (!before || !after || user.id === null || String(before.get('Id')).toLowerCase() !== user.id.toLowerCase()) return false;
  for (const [column, value] of after) {
    if (value !== before.get(column) && !grant.columns.has(column) && !STAMPED_COLUMNS.has(column)) return false;
  }
  return true;
}

/** Whether the caller may write this row as it was (`before`, updates and deletes) and as it will be (`after`). */
export function checkRowWrite(user: RequestUser, set: EdmEntitySet, statement: RowStatement, before: Row | undefined, after: Row | undefined, grant?: OwnUserGrant): void {
  const role = user.role;
  if (role === null) throw forbidden('Signing in is needed to write');
  if (DEFINITION_SETS.has(set.name)) {
    // a definition row changes with its schema change only (src/schema/definition-sets.ts), never as a plain row
    throw new ODataError('METHOD_NOT_ALLOWED', `${set.name} change only through POST, PATCH, PUT or DELETE on ${set.name} or one of its entities`, { target: set.name });
  }
  if (grant && set.name === USERS_SET && statement === 'update' && isOwnUserChange(user, before, after, grant)) return;
  if (set.name === PERSONAL_TOKEN_SET) {
    const own = (row: Row | undefined) => row === undefined || row.get('UserId') === user.id;
    if (role !== 'Administrator' && !(own(before) && own(after))) throw forbidden('Personal access tokens are changed by their owner');
    return;
  }
  if (ADMINISTRATION_SETS.has(set.name)) {
    if (role !== 'Administrator') throw forbidden(`Only Administrators write ${set.name}`, set.name);
    return;
  }
  switch (role) {
    case 'Administrator': case 'Manager': return;
    case 'Browse': throw forbidden('The Browse role cannot write');
    case 'Standard': {
      for (const row of [before, after]) {
        if (row && row.get(PRIVATE_PROPERTY) === true && !ownedBy(set, row, user)) throw forbidden(`${set.name}: a private record of another user cannot be written`);
      }
      return;
    }
    case 'Restricted': {
      const owner = ownerPropertyOf(set);
      if (owner === undefined) throw forbidden(`The Restricted role cannot ${statement} ${set.name} (they have no owner)`, set.name);
      for (const row of [before, after]) {
        if (row && !ownedBy(set, row, user)) throw forbidden(`The Restricted role writes only records it owns (${set.name}.${owner})`, owner);
      }
      return;
    }
  }
}

function ownedBy(set: EdmEntitySet, row: Row, user: RequestUser): boolean {
  const owner = ownerPropertyOf(set);
  const value = owner === undefined ? null : row.get(owner);
  return value !== null && value !== undefined && user.id !== null && String(value).toLowerCase() === user.id.toLowerCase();
}

/**
 * Replaces the values of writable hidden properties (User.Password) by their one-way hash, after
 * checking the minimum length. A null stays null (no password: the user cannot sign in).
 */
export async function protectSecrets(set: EdmEntitySet, values: Map<string, ColumnValue>, minLength: number, row: Map<string, StoredValue>): Promise<void> {
  for (const p of secretPropertiesOf(set.entityType)) {
    const given = values.get(propertyColumn(p));
    if (given === undefined || given.value === null) continue;
    const text = String(given.value);
    if ([...text].length < minLength) {
      const message = `${p.name}: at least ${minLength} characters are needed`;
      throw new ODataError('VALIDATION_FAILED', message, { target: p.name, details: [{ code: 'TOO_SHORT', target: p.name, message }] });
    }
    const hashed = await hashPassword(text);
    values.set(p.name, { column: given.column, value: hashed, type: given.type });
    row.set(p.name, hashed);
  }
}

const secretPropertiesOf: (type: EdmEntityType) => readonly EdmProperty[] = memoizedByObject((type: EdmEntityType) => type.properties.filter((p) => p.hidden && !p.computed));

/** Whether the set has properties `protectSecrets` guards (most have none: no need to call it). */
export function hasSecrets(set: EdmEntitySet): boolean {
  return secretPropertiesOf(set.entityType).length > 0;
}
