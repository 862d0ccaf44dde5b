/**
 * How the EDM maps onto tables, by convention, so the model stays the one source of truth:
 * - an entity set is a table of the same name (unless the storage mapping names another:
 *   src/edm/storage-mapping.ts); a primitive property is a column of the same name unless the
 *   mapping gives it one (`EdmProperty.column`: custom fields' `cf_<Name>`);
 * - a complex property is flattened into columns `Property_Sub` (nested: `A_B_C`); collection-valued
 *   properties are one JSON text column;
 * - a single-valued navigation with a referential constraint is its foreign-key columns (one per key
 *   part of the target, in the target's key order); its collection partner reads them from the other side;
 * - two collection navigations that are each other's partner share a link table named after both
 *   types in alphabetical order (`Contact_Group`; the storage mapping may name another) with, per
 *   side, one `<Type>Id` column when the type's key has one part, else one `<Type>_<KeyPart>` column per
 *   key part (`Edition_Code`, `Edition_Year`);
 * - a group's contacts are its links plus the contacts its Criteria matches (DYNAMIC_MEMBERSHIP).
 */
import { memoizedByObject } from '../memo';
import type { EdmEntitySet, EdmEntityType, EdmModel, EdmNavigation, EdmProperty } from './model';

export type NavigationStorage =
  /** this row holds the foreign key: `this.columns[i] = target.key[i]` */
  | { readonly kind: 'foreign-key'; readonly columns: readonly string[] }
  /** the target row holds the foreign key pointing here: `target.targetColumns[i] = this.key[i]` */
  | { readonly kind: 'reverse-foreign-key'; readonly targetColumns: readonly string[] }
  /**
   * a link table: `link.sourceColumns[i] = this.key[i] and link.targetColumns[j] = target.key[j]`. Writes go
   * to `table`; reads go to `readTable`, which has the same columns and may hold more rows.
   */
  | { readonly kind: 'link-table'; readonly table: string; readonly readTable: string; readonly sourceColumns: readonly string[]; readonly targetColumns: readonly string[] };

export interface ColumnPath {
  /** property names from the entity type down to a primitive or collection property */
  readonly path: readonly string[];
  readonly column: string;
  readonly property: EdmProperty;
}

export function tableOf(set: EdmEntitySet): string {
  return set.table ?? set.name;
}

/**
 * The column of the property at `path` (names from the entity type down), `leaf` being the last
 * one: its mapped column (`EdmProperty.column`: custom fields' `cf_<Name>`) for a top-level property,
 * else the path joined by `_`. Every property → column translation goes through here.
 */
export function columnOf(path: readonly string[], leaf: EdmProperty): string {
  if (path.length === 1) return leaf.column ?? path[0];
  return path.join('_');
}

/** The column of a top-level property of an entity type. */
export function propertyColumn(property: EdmProperty): string {
  return property.column ?? property.name;
}

/** The column of the property `name` of `type` (its name when it has none of its own, e.g. a key or foreign key). */
export function columnOfName(type: StructuredType, name: string): string {
  return type.properties.find((p) => p.name === name)?.column ?? name;
}

/**
 * Every column a structured type occupies, complex properties flattened, in declaration order.
 * Memoised per type object: a model version's types never change, a new version brings new objects.
 */
export const columnsOf: (type: StructuredType) => readonly ColumnPath[] = memoizedByObject((type) => flattenColumns(type, []));

/** The column names of `columnsOf`, as one shared array per type. */
export const columnNamesOf: (type: StructuredType) => readonly string[] = memoizedByObject((type) => columnsOf(type).map((c) => c.column));

type StructuredType = { readonly properties: readonly EdmProperty[] };

function flattenColumns(type: StructuredType, prefix: readonly string[]): ColumnPath[] {
  const out: ColumnPath[] = [];
  for (const p of type.properties) {
    const path = [...prefix, p.name];
    if (p.type.kind === 'complex' && !p.collection) out.push(...flattenColumns(p.type.type, path));
    else out.push({ path, column: columnOf(path, p), property: p });
  }
  return out;
}

export function linkTableName(a: EdmEntityType, b: EdmEntityType): string {
  return [a.name, b.name].sort().join('_');
}

export function navigationStorage(model: EdmModel, source: EdmEntityType, nav: EdmNavigation): NavigationStorage {
  if (!nav.collection) {
    if (nav.foreignKeys) return { kind: 'foreign-key', columns: nav.foreignKeys };
    const partner = partnerOf(model, source, nav);
    if (partner?.foreignKeys) return { kind: 'reverse-foreign-key', targetColumns: partner.foreignKeys };
    throw new Error(`${source.name}/${nav.name}: single navigation without a foreign key on either side`);
  }
  const partner = partnerOf(model, source, nav);
  if (partner && !partner.collection) {
    if (!partner.foreignKeys) throw new Error(`${source.name}/${nav.name}: partner ${partner.name} has no foreign key`);
    return { kind: 'reverse-foreign-key', targetColumns: partner.foreignKeys };
  }
  const target = model.entityTypes.get(nav.targetTypeName)!;
  if (target === source) throw new Error(`${source.name}/${nav.name}: self many-to-many needs explicit storage`);
  const conventional = linkTableName(source, target);
  const table = model.linkTableNames?.get(conventional) ?? conventional;
  const readTable = table === DYNAMIC_MEMBERSHIP.linkTable && hasDynamicMembership(model) ? DYNAMIC_MEMBERSHIP.readView : table;
  return { kind: 'link-table', table, readTable, sourceColumns: linkColumnsOf(source), targetColumns: linkColumnsOf(target) };
}

/** A type's columns in a link table: `<Type>Id` for a one-part key, else `<Type>_<KeyPart>` per key part. */
export const linkColumnsOf: (type: EdmEntityType) => readonly string[] = memoizedByObject((type: EdmEntityType) => (
  type.key.length === 1 ? [`${type.name}Id`] : type.key.map((k) => `${type.name}_${k}`)
));

/**
 * Dynamic groups: a Group whose `Criteria` (a `$filter` over Contacts) is set has as contacts its
 * static links (`linkTable`, what `$ref` writes) plus the contacts the criteria matches, kept in
 * `matchTable` by the writes that change them (src/write/dynamic-groups.ts). Reads of the
 * navigation go to `readView`, the union of both (migrations/20261204000003_dynamic_groups.ts).
 */
export const DYNAMIC_MEMBERSHIP = {
  groupType: 'Group',
  contactType: 'Contact',
  criteria: 'Criteria',
  linkTable: 'Contact_Group',
  matchTable: 'Contact_Group_Dynamic',
  readView: 'Contact_Group_Members',
  groupColumn: 'GroupId',
  contactColumn: 'ContactId',
} as const;

/** Whether the model has groups with criteria over contacts (the shipped CRM model does). */
export function hasDynamicMembership(model: EdmModel): boolean {
  return dynamicMembershipSets(model) !== undefined;
}

/** The Groups and Contacts entity sets when the model has dynamic groups. */
export const dynamicMembershipSets: (model: EdmModel) => { readonly groups: EdmEntitySet; readonly contacts: EdmEntitySet } | undefined = memoizedByObject((model) => {
  let groups: EdmEntitySet | undefined;
  let contacts: EdmEntitySet | undefined;
  for (const set of model.entitySets.values()) {
    if (set.entityType.name === DYNAMIC_MEMBERSHIP.groupType && set.entityType.properties.some((p) => p.name === DYNAMIC_MEMBERSHIP.criteria)) groups = set;
    if (set.entityType.name === DYNAMIC_MEMBERSHIP.contactType) contacts = set;
  }
  return groups && contacts ? { groups, contacts } : undefined;
});

export function partnerOf(model: EdmModel, source: EdmEntityType, nav: EdmNavigation): EdmNavigation | undefined {
  const target = model.entityTypes.get(nav.targetTypeName);
  if (!target) return undefined;
  if (nav.partner) return target.navigations.find((n) => n.name === nav.partner);
  // A partner may be declared only on the other side.
  return target.navigations.find((n) => n.partner === nav.name && n.targetTypeName === source.qualifiedName);
}

export interface LinkTable {
  readonly table: string;
  /** the link columns of each side (`linkColumnsOf`), in the order of `types` */
  readonly columns: readonly [readonly string[], readonly string[]];
  readonly types: readonly [EdmEntityType, EdmEntityType];
}

/** All link tables the model implies, each once. */
export function linkTables(model: EdmModel): LinkTable[] {
  const seen = new Map<string, LinkTable>();
  for (const type of model.entityTypes.values()) {
    for (const nav of type.navigations) {
      if (!nav.collection) continue;
      const storage = navigationStorage(model, type, nav);
      if (storage.kind !== 'link-table' || seen.has(storage.table)) continue;
      const target = model.entityTypes.get(nav.targetTypeName)!;
      const pair = [type, target].sort((x, y) => x.name.localeCompare(y.name)) as [EdmEntityType, EdmEntityType];
      seen.set(storage.table, { table: storage.table, types: pair, columns: [linkColumnsOf(pair[0]), linkColumnsOf(pair[1])] });
    }
  }
  return [...seen.values()];
}
