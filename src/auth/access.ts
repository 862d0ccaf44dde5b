/**
 * Record visibility: the one place the planner asks which rows of an entity set the caller may see.
 * Every scope the planner opens on a set (page query, $expand levels, any/all, navigation joins,
 * counts, $search, keyset pages, $ref reads, parent checks) and every row the write session locates
 * should carry `accessPredicate(set, user)`. For now it places no restriction (issue 14 items 4-6
 * build private records on it).
 */
import type { EdmEntitySet } from '../edm/model';
import type { RequestUser } from '../plan/request-context';

export type AccessPredicate =
  | { readonly kind: 'none' }
  /** rows visible when this column equals the caller's id, or `publicColumn` is false, or the owner is null */
  | { readonly kind: 'owner-or-public'; readonly ownerColumn: string; readonly publicColumn: string; readonly userId: string };

const UNRESTRICTED: AccessPredicate = { kind: 'none' };

export function accessPredicate(_set: EdmEntitySet, _user: RequestUser): AccessPredicate {
  return UNRESTRICTED;
}
