/**
 * Record visibility (issue 14, item 4): which rows of each table the caller may see. A record is
 * private when its type has `IsPrivate` and an owner property (OwnerId, ManagerId, OrganizerId: the
 * first the type has, as in write-rules.ts) and the flag is true; a private record is visible only to
 * its owner, Administrators and Managers; a record without an owner is public.
 *
 * The answer is a `RecordAccess` (table → predicate) that the request's Executor carries; the SQL
 * compiler adds the predicate wherever it opens a table (page query, $expand levels, any/all, counts,
 * navigation joins, path restrictions, parent checks) and the write session wherever it locates rows.
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { tableOf } from '../edm/storage';
import type { RequestUser, Role } from '../plan/request-context';
import { ownerPropertyOf, PERSONAL_TOKEN_SET } from './write-rules';

const TOKEN_OWNER = 'UserId';

export type AccessPredicate =
  | { readonly kind: 'none' }
  /** rows visible when `privateColumn` is not true, or `ownerColumn` is null or equals `userId` */
  | OwnerOrPublic
  /** rows visible only when `ownerColumn` equals `userId` (personal access tokens) */
  | OwnRowsOnly;

export interface OwnerOrPublic {
  readonly kind: 'owner-or-public';
  readonly ownerColumn: string;
  readonly privateColumn: string;
  readonly userId: string;
}

export interface OwnRowsOnly {
  readonly kind: 'own-rows';
  readonly ownerColumn: string;
  readonly userId: string;
}

export type RowRestriction = OwnerOrPublic | OwnRowsOnly;

/** Per table, the caller's restriction; a table not in it is visible whole. */
export type RecordAccess = ReadonlyMap<string, RowRestriction>;

export const UNRESTRICTED_ACCESS: RecordAccess = new Map();

const UNRESTRICTED: AccessPredicate = { kind: 'none' };
export const PRIVATE_PROPERTY = 'IsPrivate';

/** Roles that see every record. */
const SEE_ALL: ReadonlySet<Role> = new Set<Role>(['Administrator', 'Manager']);

export function accessPredicate(set: EdmEntitySet, user: RequestUser): AccessPredicate {
  // personal tokens are their owner's (and Administrators'): a Manager sees only their own too
  if (set.name === PERSONAL_TOKEN_SET) {
    return user.role === 'Administrator' ? UNRESTRICTED : { kind: 'own-rows', ownerColumn: TOKEN_OWNER, userId: (user.id ?? '').toLowerCase() };
  }
  if (user.role !== null && SEE_ALL.has(user.role)) return UNRESTRICTED;
  const columns = privacyColumnsOf(set);
  if (columns === undefined) return UNRESTRICTED;
  // an anonymous caller never reaches data (only the open documents answer one); no id matches no owner
  return { kind: 'owner-or-public', ...columns, userId: (user.id ?? '').toLowerCase() };
}

/** The columns that make a set's records private to their owner (owner-or-public), when its type has both. */
export function privacyColumnsOf(set: EdmEntitySet): Pick<OwnerOrPublic, 'ownerColumn' | 'privateColumn'> | undefined {
  const owner = ownerPropertyOf(set);
  const privacy = set.entityType.properties.find((p) => p.name === PRIVATE_PROPERTY);
  return owner === undefined || privacy === undefined ? undefined : { ownerColumn: owner, privateColumn: PRIVATE_PROPERTY };
}

/** Every table whose rows a Standard user may see only in part (owner-or-public), with the columns that decide. */
export function ownerOrPublicTables(model: EdmModel): { table: string; ownerColumn: string; privateColumn: string }[] {
  const out = [];
  for (const set of model.entitySets.values()) {
    const columns = set.name === PERSONAL_TOKEN_SET ? undefined : privacyColumnsOf(set);
    if (columns !== undefined) out.push({ table: tableOf(set), ...columns });
  }
  return out;
}

const byModel = new WeakMap<EdmModel, Map<string, RecordAccess>>();

/** The caller's access predicates for every table of the model (kept per model version and caller). */
export function recordAccess(model: EdmModel, user: RequestUser): RecordAccess {
  if (user.role === 'Administrator') return UNRESTRICTED_ACCESS;
  let perUser = byModel.get(model);
  if (perUser === undefined) byModel.set(model, (perUser = new Map()));
  const cacheKey = `${user.role ?? ''}/${user.id ?? ''}`;
  let access = perUser.get(cacheKey);
  if (access === undefined) {
    const restricted = new Map<string, RowRestriction>();
    for (const set of model.entitySets.values()) {
      const predicate = accessPredicate(set, user);
      if (predicate.kind !== 'none') restricted.set(tableOf(set), predicate);
    }
    access = restricted;
    if (perUser.size > 10_000) perUser.clear();
    perUser.set(cacheKey, access);
  }
  return access;
}
