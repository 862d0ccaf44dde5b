/**
 * The statements that keep dynamic groups' matches (DYNAMIC_MEMBERSHIP.matchTable) up to date: the
 * criteria is compiled by the read compiler, so it means exactly what the same `$filter` means.
 *
 *   INSERT INTO "Contact_Group_Dynamic" ("GroupId", "ContactId")
 *   SELECT ?, "s0"."Id" FROM "Contacts" AS "s0" … WHERE ("s0"."BusinessAddress_State" = ?) [AND "s0"."Id" IN (…)]
 */
import type { PrimitiveTypeName } from '../edm/model';
import { DYNAMIC_MEMBERSHIP } from '../edm/storage';
import type { PlanExpr } from '../plan/plan';
import { UNRESTRICTED_ACCESS } from '../auth/access';
import type { Dialect } from './dialect/dialect';
import { ExpressionCompiler, JoinRegistry, scopeAlias } from './compile-expression';
import { id, join, raw, sql, type Fragment } from './fragment';

export interface MembershipTarget {
  readonly contactsTable: string;
  readonly contactKey: string;
  readonly keyType: PrimitiveTypeName;
  readonly scope: number;
}

const { matchTable, groupColumn, contactColumn } = DYNAMIC_MEMBERSHIP;

function keyList(keys: readonly (string | number)[], type: PrimitiveTypeName, dialect: Dialect): Fragment {
  return join(keys.map((k) => dialect.bind(k, type)), ', ');
}

/** Adds the matches of one group's criteria, among all contacts or only the given ones. */
export function compileInsertMatches(
  t: MembershipTarget, dialect: Dialect, group: string | number, groupKeyType: PrimitiveTypeName, predicate: PlanExpr, onlyContacts?: readonly (string | number)[],
): Fragment {
  // server-maintained: a dynamic group's matches are every contact its criteria selects, whoever writes
  const unrestricted = { dialect, access: UNRESTRICTED_ACCESS };
  const joins = new JoinRegistry(unrestricted);
  const c = new ExpressionCompiler(unrestricted, joins);
  const alias = scopeAlias(t.scope);
  const key = id(`${alias}.${t.contactKey}`);
  const conditions = [c.condition(predicate)];
  if (onlyContacts) conditions.push(sql`${key} IN (${keyList(onlyContacts, t.keyType, dialect)})`);
  const from = sql`${id(t.contactsTable)} AS ${id(alias)} ${joins.for(t.scope)}`;
  return sql`INSERT INTO ${id(matchTable)} (${id(groupColumn)}, ${id(contactColumn)}) SELECT ${dialect.bind(group, groupKeyType)}, ${key} FROM ${from} WHERE ${join(conditions, ' AND ')}`;
}

/** Removes one group's matches (all, or those of the given contacts). */
export function compileDeleteGroupMatches(dialect: Dialect, group: string | number, groupKeyType: PrimitiveTypeName): Fragment {
  return sql`DELETE FROM ${id(matchTable)} WHERE ${id(groupColumn)} = ${dialect.bind(group, groupKeyType)}`;
}

/** Removes the matches of the given contacts in every group (they are then re-evaluated). */
export function compileDeleteContactMatches(dialect: Dialect, contacts: readonly (string | number)[], keyType: PrimitiveTypeName): Fragment {
  return sql`DELETE FROM ${id(matchTable)} WHERE ${id(contactColumn)} IN (${keyList(contacts, keyType, dialect)})`;
}

/** The groups whose criteria is set: their key, name and criteria text. */
export function compileDynamicGroups(groupsTable: string, groupKey: string, criteriaColumn: string, nameColumn: string | undefined): Fragment {
  const name = nameColumn ? sql`, ${id(nameColumn)} AS "name"` : raw('');
  return sql`SELECT ${id(groupKey)} AS "key", ${id(criteriaColumn)} AS "criteria"${name} FROM ${id(groupsTable)} WHERE ${id(criteriaColumn)} IS NOT NULL ORDER BY ${id(groupKey)}`;
}
