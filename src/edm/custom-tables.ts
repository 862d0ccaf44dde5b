/**
 * Custom tables (issue 17, item 5) as schema changes: `add-table` puts an entity type `Ns.<EntityType>`
 * (Id, Created, Edited and the audit fields, as built-in types have them, plus the given fields), its
 * entity set (ETag on Edited, like every set) and, with a main entity, a many-to-many navigation pair
 * (`Vehicle.Contacts` ↔ `Contact.Vehicles`) into the CSDL; `drop-table` takes them out again. Storage
 * is data too: the set's table and the link table get a `ct_` prefix in the storage mapping, so no
 * later built-in table can collide with them; their fields' columns are `cf_<Name>` like every custom
 * field's (src/edm/custom-columns.ts). The migrator (src/db/model-migrator.ts) creates and
 * drops the tables from the difference like for any other model change.
 */
import { createHash } from 'node:crypto';
import type { CsdlPropertyDefinition } from './schema-change';
import { customColumnName } from './custom-columns';

type Json = Record<string, unknown>;

/** The built-in types a custom table may hang off (Crm.MainEntity). */
export const MAIN_ENTITIES = ['Contact', 'Company', 'Group', 'Opportunity'] as const;
export type MainEntity = typeof MAIN_ENTITIES[number];

export function isMainEntity(name: unknown): name is MainEntity {
  return typeof name === 'string' && (MAIN_ENTITIES as readonly string[]).includes(name);
}

export interface AddTableChange {
  readonly kind: 'add-table';
  /** the entity set's name (`Vehicles`) */
  readonly entitySet: string;
  /** the entity type's unqualified name (`Vehicle`) */
  readonly entityType: string;
  readonly mainEntity?: MainEntity;
  /** the custom fields, by property name, in order */
  readonly properties: Readonly<Record<string, CsdlPropertyDefinition>>;
  /** the fields whose columns get an index of their own (storage mapping `entitySets.<Set>.indexes`) */
  readonly indexed?: readonly string[];
}

export interface DropTableChange {
  readonly kind: 'drop-table';
  readonly entitySet: string;
}

/** What a table change needs from the CSDL document it edits. */
export interface TableChangeTarget {
  readonly namespace: string;
  readonly schema: Json;
  readonly container: Json;
  readonly storage: Json;
  /** entity sets added by earlier changes (only those may be dropped) */
  readonly addedSets: Set<string>;
  /** `Type.Property` of the properties added by earlier changes (only those may be dropped) */
  readonly addedProperties: Set<string>;
}

/** The change does not fit the model: `target` names the request member at fault. */
export type TableChangeFailure = (message: string, target: string) => Error;

const CORE = 'Org.OData.Core.V1';
const TABLE_PREFIX = 'ct_';
const MAX_IDENTIFIER = 63;
const CUSTOM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The members every custom type has before its fields (the shape of e.g. Crm.Tag's). */
const SYSTEM_MEMBERS = ['Id', 'Created', 'Edited', 'CreatedById', 'EditedById', 'CreatedBy', 'EditedBy'] as const;

function systemMembers(namespace: string): { readonly properties: Json; readonly navigations: Json } {
  const stamp = { $Type: 'Edm.DateTimeOffset', $Precision: 3, [`@${CORE}.Computed`]: true };
  const user = { $Type: 'Edm.Guid', $Nullable: true, [`@${CORE}.Computed`]: true };
  const userNavigation = (column: string) => ({
    $Kind: 'NavigationProperty', $Type: `${namespace}.User`, $Nullable: true, $ReferentialConstraint: { [column]: 'Id' }, $OnDelete: 'SetNull',
  });
  return {
    properties: {
      Id: { $Type: 'Edm.Guid' }, Created: { ...stamp }, Edited: { ...stamp },
      CreatedById: { ...user, [`@${CORE}.Description`]: 'The user whose request created the record' },
      EditedById: { ...user, [`@${CORE}.Description`]: 'The user whose request last changed the record' },
    },
    navigations: { CreatedBy: userNavigation('CreatedById'), EditedBy: userNavigation('EditedById') },
  };
}

/**
 * A table name no built-in table takes (`ct_<name>`), within PostgreSQL's identifier length: a long
 * name keeps its beginning and a digest of the whole, so it stays unique and the same on every start.
 */
export function customTableName(name: string): string {
  const full = `${TABLE_PREFIX}${name}`;
  if (full.length <= MAX_IDENTIFIER) return full;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_IDENTIFIER - digest.length - 1)}_${digest}`;
}

/** The conventional link table name of two types (src/edm/storage.ts `linkTableName`). */
function conventionalLinkTable(a: string, b: string): string {
  return [a, b].sort().join('_');
}

const memberNames = (object: Json): string[] => Object.keys(object).filter((k) => !k.startsWith('$') && !k.startsWith('@'));
const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function entitySetOf(target: TableChangeTarget, typeName: string): string | undefined {
  const qualified = `${target.namespace}.${typeName}`;
  return memberNames(target.container).find((k) => (target.container[k] as Json).$Type === qualified && (target.container[k] as Json).$Collection === true);
}

function objectIn(parent: Json, key: string): Json {
  const existing = parent[key];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Json;
  const created: Json = {};
  parent[key] = created;
  return created;
}

export function applyAddTable(target: TableChangeTarget, change: AddTableChange, fail: TableChangeFailure): void {
  const { namespace, schema, container } = target;
  if (!CUSTOM_NAME.test(change.entitySet)) throw fail(`${change.entitySet} is not a valid name ([A-Za-z][A-Za-z0-9_]{0,63})`, 'Name');
  if (!CUSTOM_NAME.test(change.entityType)) throw fail(`${change.entityType} is not a valid name ([A-Za-z][A-Za-z0-9_]{0,63})`, 'EntityTypeName');
  const clashingChild = memberNames(container).find((k) => sameName(k, change.entitySet));
  if (clashingChild) throw fail(`the service already has ${clashingChild}`, 'Name');
  const clashingElement = memberNames(schema).find((k) => sameName(k, change.entityType));
  if (clashingElement) throw fail(`the schema already has ${namespace}.${clashingElement}`, 'EntityTypeName');

  const system = systemMembers(namespace);
  const type: Json = { $Kind: 'EntityType', $Key: ['Id'], ...system.properties };
  for (const [name, definition] of Object.entries(change.properties)) {
    if (!CUSTOM_NAME.test(name)) throw fail(`${name} is not a valid name ([A-Za-z][A-Za-z0-9_]{0,63})`, `Fields/${name}`);
    const clash = [...memberNames(type), ...Object.keys(system.navigations)].find((k) => sameName(k, name));
    if (clash) throw fail(`${change.entityType} already has a member ${clash}`, `Fields/${name}`);
    type[name] = { ...definition };
  }
  Object.assign(type, system.navigations);
  const bindings: Json = { CreatedBy: entitySetOf(target, 'User') ?? 'Users', EditedBy: entitySetOf(target, 'User') ?? 'Users' };

  if (change.mainEntity !== undefined) {
    const main = schema[change.mainEntity] as Json | undefined;
    const mainSet = entitySetOf(target, change.mainEntity);
    if (!main || main.$Kind !== 'EntityType' || !mainSet) throw fail(`no entity type ${change.mainEntity} with an entity set`, 'MainEntity');
    const clash = memberNames(main).find((k) => sameName(k, change.entitySet));
    if (clash) throw fail(`${change.mainEntity} already has a member ${clash}`, 'Name');
    const clashHere = memberNames(type).find((k) => sameName(k, mainSet));
    if (clashHere) throw fail(`${change.entityType} already has a member ${clashHere}`, `Fields/${clashHere}`);
    // the navigation on each side is named after the entity set on the other side
    type[mainSet] = { $Kind: 'NavigationProperty', $Type: `${namespace}.${change.mainEntity}`, $Collection: true, $Partner: change.entitySet };
    main[change.entitySet] = { $Kind: 'NavigationProperty', $Type: `${namespace}.${change.entityType}`, $Collection: true, $Partner: mainSet };
    bindings[mainSet] = mainSet;
    const mainSetEntry = container[mainSet] as Json;
    objectIn(mainSetEntry, '$NavigationPropertyBinding')[change.entitySet] = change.entitySet;
    const link = conventionalLinkTable(change.mainEntity, change.entityType);
    objectIn(target.storage, 'linkTables')[link] = { table: customTableName(link) };
  }

  bindMainEntityOperations(target, `${namespace}.${change.entityType}`);
  schema[change.entityType] = type;
  container[change.entitySet] = {
    $Collection: true, $Type: `${namespace}.${change.entityType}`, $NavigationPropertyBinding: bindings,
    [`@${CORE}.OptimisticConcurrency`]: ['Edited'],
  };
  const indexed = change.indexed ?? [];
  for (const name of indexed) if (!Object.hasOwn(change.properties, name)) throw fail(`${name} is not a field of ${change.entityType}`, `Fields/${name}`);
  // the fields' columns are `cf_<Name>` as on any type (src/edm/custom-columns.ts); the system members' are their names
  const fields = Object.keys(change.properties);
  if (fields.length > 0) {
    const columns = objectIn(objectIn(objectIn(target.storage, 'entityTypes'), `${namespace}.${change.entityType}`), 'columns');
    for (const name of fields) columns[name] = customColumnName(name);
  }
  objectIn(target.storage, 'entitySets')[change.entitySet] = {
    table: customTableName(change.entitySet), ...(indexed.length > 0 ? { indexes: indexed.map((name) => [customColumnName(name)]) } : {}),
  };
  target.addedSets.add(change.entitySet);
  for (const name of Object.keys(change.properties)) target.addedProperties.add(`${change.entityType}.${name}`);
}

export function applyDropTable(target: TableChangeTarget, change: DropTableChange, fail: TableChangeFailure): void {
  const { namespace, schema, container } = target;
  const setName = memberNames(container).find((k) => sameName(k, change.entitySet));
  if (!setName) throw fail(`no entity set ${change.entitySet}`, 'Name');
  if (!target.addedSets.has(setName)) throw fail(`${setName} is built in and cannot be dropped`, 'Name');
  const set = container[setName] as Json;
  const typeName = String(set.$Type).slice(namespace.length + 1);
  const type = schema[typeName] as Json;
  for (const navName of memberNames(type)) {
    const nav = type[navName] as Json;
    if (nav.$Kind !== 'NavigationProperty' || nav.$Partner === undefined) continue;
    const mainName = String(nav.$Type).slice(namespace.length + 1);
    delete (schema[mainName] as Json)[String(nav.$Partner)];
    const mainSet = entitySetOf(target, mainName);
    if (mainSet) delete ((container[mainSet] as Json).$NavigationPropertyBinding as Json | undefined)?.[setName];
    delete (target.storage.linkTables as Json | undefined)?.[conventionalLinkTable(mainName, typeName)];
  }
  unbindOperations(target, `${namespace}.${typeName}`);
  delete schema[typeName];
  delete container[setName];
  delete (target.storage.entitySets as Json | undefined)?.[setName];
  delete (target.storage.entityTypes as Json | undefined)?.[`${namespace}.${typeName}`];
  target.addedSets.delete(setName);
  for (const key of [...target.addedProperties]) if (key.startsWith(`${typeName}.`)) target.addedProperties.delete(key);
}

type Overload = Json & { $Parameter?: Json[]; $ReturnType?: Json };

const bindingTypeOf = (overload: Overload): string | undefined =>
  overload.$IsBound === true && overload.$Parameter?.[0]?.$Collection === true ? String(overload.$Parameter[0].$Type) : undefined;

/**
 * An action or function bound to the collection of every main entity type (Crm.MassUpdate,
 * Crm.MassDelete: one overload per type) is bound to a custom table too: a copy of one overload
 * with its binding type, wherever it appears (parameters, return type), replaced.
 */
function bindMainEntityOperations(target: TableChangeTarget, qualifiedType: string): void {
  const mainTypes = MAIN_ENTITIES.map((name) => `${target.namespace}.${name}`);
  for (const name of memberNames(target.schema)) {
    const overloads = target.schema[name];
    if (!Array.isArray(overloads)) continue;
    const bound = new Map<string, Overload>();
    for (const o of overloads as Overload[]) {
      const binding = bindingTypeOf(o);
      if (binding !== undefined) bound.set(binding, o);
    }
    const template = bound.get(mainTypes[0]);
    if (template === undefined || !mainTypes.every((t) => bound.has(t))) continue;
    const retype = (x: Json): Json => (x.$Type === mainTypes[0] ? { ...x, $Type: qualifiedType } : { ...x });
    const copy: Overload = { ...structuredClone(template), $Parameter: template.$Parameter!.map(retype) };
    if (template.$ReturnType) copy.$ReturnType = retype(template.$ReturnType);
    (overloads as Overload[]).push(copy);
  }
}

function unbindOperations(target: TableChangeTarget, qualifiedType: string): void {
  for (const name of memberNames(target.schema)) {
    const overloads = target.schema[name];
    if (!Array.isArray(overloads)) continue;
    const kept = (overloads as Overload[]).filter((o) => bindingTypeOf(o) !== qualifiedType);
    if (kept.length !== overloads.length) target.schema[name] = kept;
  }
}

/** Whether a member name is one every custom type has (not a custom field). */
export function isSystemMember(name: string): boolean {
  return (SYSTEM_MEMBERS as readonly string[]).includes(name);
}
