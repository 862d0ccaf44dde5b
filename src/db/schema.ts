/** Derives the relational schema (tables, columns, keys, foreign keys, indexes) from the EDM by the storage conventions and creates or drops it with Knex. */
import { createHash } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import type { EdmEntitySet, EdmEntityType, EdmModel, EdmProperty, OnDeleteAction, PrimitiveTypeName } from '../edm/model';
import { entitySetOfType } from '../edm/lookup';
import { columnsOf, linkTables, tableOf } from '../edm/storage';
import type { Engine } from './connect';

export type ColumnKind = PrimitiveTypeName | 'Enum' | 'JsonCollection';
export type DeleteRule = 'CASCADE' | 'SET NULL' | 'SET DEFAULT' | 'NO ACTION';

export interface ColumnSpec {
  readonly name: string;
  readonly nullable: boolean;
  readonly kind: ColumnKind;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** Database default, already converted (enum member names become their integer value). */
  readonly defaultValue?: string | number | boolean;
  /**
   * The name the column had when it was named as its property (a custom field's column before
   * `cf_<Name>`: src/edm/custom-columns.ts); the migrator renames such a column in place.
   */
  readonly renamedFrom?: string;
}

/** A foreign key of one or more columns (a composite key's parts, in the referenced key's order). */
export interface ForeignKeySpec {
  readonly columns: readonly string[];
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
  readonly onDelete: DeleteRule;
}

export interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
  /** those of `columns` that can hold null (see indexColumns) */
  readonly nullable?: readonly string[];
}

export interface TableSpec {
  readonly name: string;
  readonly kind: 'entity' | 'link';
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKeySpec[];
  readonly indexes: readonly IndexSpec[];
}

const DELETE_RULES: Record<OnDeleteAction, DeleteRule> = {
  Cascade: 'CASCADE', SetNull: 'SET NULL', SetDefault: 'SET DEFAULT', None: 'NO ACTION',
};

export function engineOfKnex(knex: Knex): Engine {
  return knex.client.dialect === 'postgresql' ? 'postgres' : 'sqlite';
}

function indexName(table: string, columns: readonly string[]): string {
  const name = `ix_${table}_${columns.join('_')}`;
  // PostgreSQL truncates identifiers at 63 bytes; keep names unique and stable instead.
  return name.length <= 63 ? name : `${name.slice(0, 54)}_${columns.length}_${name.length}`;
}

function columnKind(property: EdmProperty): ColumnKind {
  if (property.collection) return 'JsonCollection';
  switch (property.type.kind) {
    case 'primitive': return property.type.name;
    case 'enum': return 'Enum';
    case 'complex': throw new Error(`complex property ${property.name} must be flattened`);
  }
}

function columnDefault(property: EdmProperty): string | number | boolean | undefined {
  if (property.collection) return '[]';
  const value = property.defaultValue;
  if (value === undefined) return undefined;
  if (property.type.kind === 'enum' && typeof value === 'string') {
    const member = property.type.type.members.get(value);
    if (member === undefined) throw new Error(`${property.name}: default ${value} is not a member of ${property.type.type.qualifiedName}`);
    return member;
  }
  return value;
}

function entityTableSpec(model: EdmModel, set: EdmEntitySet): TableSpec {
  const type = set.entityType;
  const propertyByName = new Map(type.properties.map((p) => [p.name, p]));
  const columns: ColumnSpec[] = columnsOf(type).map(({ path, column, property }) => {
    // A column inside a nullable complex value must accept NULL (the whole value may be absent), and
    // carries no default: a default would make an absent complex value read back as present.
    const insideNullableComplex = path.slice(0, -1).some((_, i) => pathProperty(type, path.slice(0, i + 1)).nullable);
    const nullable = property.collection ? insideNullableComplex : property.nullable || insideNullableComplex;
    return {
      name: column, nullable, kind: columnKind(property), maxLength: property.maxLength,
      precision: property.precision, scale: property.scale,
      defaultValue: insideNullableComplex ? undefined : columnDefault(property),
      ...(property.column !== undefined && property.column !== property.name ? { renamedFrom: property.name } : {}),
    };
  });
  const foreignKeys: ForeignKeySpec[] = [];
  for (const nav of type.navigations) {
    if (nav.collection || !nav.foreignKeys) continue;
    const target = model.entityTypes.get(nav.targetTypeName);
    if (!target) throw new Error(`${type.name}/${nav.name}: unknown target ${nav.targetTypeName}`);
    const bound = set.navigationBindings.get(nav.name);
    const targetSet = bound ? model.entitySets.get(bound) : entitySetOfType(model, target);
    if (!targetSet) throw new Error(`${set.name}/${nav.name}: binding to unknown set ${String(bound)}`);
    for (const fk of nav.foreignKeys) if (!propertyByName.has(fk)) throw new Error(`${type.name}/${nav.name}: no property ${fk}`);
    foreignKeys.push({
      columns: nav.foreignKeys, referencedTable: tableOf(targetSet), referencedColumns: target.key,
      onDelete: DELETE_RULES[nav.onDelete ?? 'None'],
    });
  }
  const table = tableOf(set);
  const nullableColumns = new Set(columns.filter((c) => c.nullable).map((c) => c.name));
  const index = (on: readonly string[]): IndexSpec => ({ name: indexName(table, on), columns: on, nullable: on.filter((c) => nullableColumns.has(c)) });
  const indexes: IndexSpec[] = foreignKeys.map((fk) => index(fk.columns));
  const names = new Set(columns.map((c) => c.name));
  // indexes for common sorts and filters come from the storage mapping (metadata/crm.storage.json)
  for (const extra of set.indexes ?? []) {
    const missing = extra.find((c) => !names.has(c));
    if (missing) throw new Error(`storage mapping: index on ${set.name} names ${missing}, not a column of ${table}`);
    if (indexes.some((i) => i.columns.join() === extra.join())) continue;
    indexes.push(index(extra));
  }
  return { name: table, kind: 'entity', columns, primaryKey: type.key, foreignKeys, indexes };
}

function pathProperty(type: EdmEntityType, path: readonly string[]): EdmProperty {
  let props: readonly EdmProperty[] = type.properties;
  let found: EdmProperty | undefined;
  for (const name of path) {
    found = props.find((p) => p.name === name);
    if (!found) throw new Error(`${type.name}: no property ${path.join('/')}`);
    props = found.type.kind === 'complex' ? found.type.type.properties : [];
  }
  if (!found) throw new Error(`${type.name}: empty property path`);
  return found;
}

function keyProperties(type: EdmEntityType): EdmProperty[] {
  return type.key.map((name) => {
    const p = type.properties.find((x) => x.name === name);
    if (!p) throw new Error(`${type.name}: key ${name} is not a property`);
    return p;
  });
}

/** Every table the model implies (entity tables in container order, then link tables), by name. */
export function describeExpectedSchema(model: EdmModel): ReadonlyMap<string, TableSpec> {
  const tables = new Map<string, TableSpec>();
  for (const set of model.entitySets.values()) tables.set(tableOf(set), entityTableSpec(model, set));
  for (const link of linkTables(model)) {
    // one column per key part of each side (`<Type>Id`, or `<Type>_<KeyPart>` for a composite key: edm/storage.ts)
    const columns: ColumnSpec[] = link.types.flatMap((type, i) => keyProperties(type).map((key, j): ColumnSpec => (
      { name: link.columns[i][j], nullable: false, kind: columnKind(key), maxLength: key.maxLength, precision: key.precision, scale: key.scale })));
    const foreignKeys: ForeignKeySpec[] = link.types.map((type, i) => ({
      columns: link.columns[i], referencedTable: tableOf(entitySetOfType(model, type)), referencedColumns: type.key,
      onDelete: 'CASCADE',
    }));
    // The primary key (first side, then second) serves lookups by the first side; the second needs its own index.
    const indexes: IndexSpec[] = [{ name: indexName(link.table, link.columns[1]), columns: link.columns[1] }];
    tables.set(link.table, { name: link.table, kind: 'link', columns, primaryKey: [...link.columns[0], ...link.columns[1]], foreignKeys, indexes });
  }
  return tables;
}

export function addColumn(t: Knex.TableBuilder, c: ColumnSpec, engine: Engine): Knex.ColumnBuilder {
  const pg = engine === 'postgres';
  switch (c.kind) {
    case 'Edm.Guid': return pg ? t.uuid(c.name) : t.specificType(c.name, 'text(36)');
    case 'Edm.String': return c.maxLength !== undefined && pg ? t.string(c.name, c.maxLength) : t.text(c.name);
    case 'Edm.Boolean': return t.boolean(c.name);
    case 'Edm.Byte': case 'Edm.SByte': case 'Edm.Int16': return t.smallint(c.name);
    case 'Edm.Int32': case 'Enum': return t.integer(c.name);
    case 'Edm.Int64': return t.bigInteger(c.name);
    // SQLite: canonical decimal text (TEXT affinity: the declared name contains TEXT), exact where REAL is not.
    case 'Edm.Decimal': return pg ? t.decimal(c.name, c.precision ?? null, c.scale ?? 0) : t.specificType(c.name, sqliteDecimalType(c));
    case 'Edm.Double': return t.double(c.name);
    case 'Edm.Single': return pg ? t.specificType(c.name, 'real') : t.float(c.name);
    // SQLite keeps dates and times as fixed-width ISO 8601 text, so text order is time order.
    case 'Edm.Date': return pg ? t.date(c.name) : t.text(c.name);
    case 'Edm.DateTimeOffset': return pg ? t.timestamp(c.name, { useTz: true, precision: c.precision ?? 3 }) : t.text(c.name);
    case 'Edm.TimeOfDay': return pg ? t.specificType(c.name, `time(${c.precision ?? 3})`) : t.text(c.name);
    case 'Edm.Duration': return t.text(c.name);
    case 'Edm.Binary': return t.binary(c.name);
    case 'JsonCollection': return t.text(c.name);
  }
}

/** The declared type of a decimal column on SQLite; keeps the facets visible to anyone reading the schema. */
export function sqliteDecimalType(c: Pick<ColumnSpec, 'precision' | 'scale'>): string {
  return c.precision === undefined ? 'decimal_text' : `decimal_text(${c.precision},${c.scale ?? 0})`;
}

export function defineTable(t: Knex.CreateTableBuilder, spec: TableSpec, engine: Engine, withForeignKeys: boolean): void {
  for (const c of spec.columns) {
    const col = addColumn(t, c, engine);
    if (c.nullable) col.nullable(); else col.notNullable();
    if (c.defaultValue !== undefined) col.defaultTo(c.defaultValue);
  }
  t.primary([...spec.primaryKey], constraintName(`pk_${spec.name}`));
  if (withForeignKeys) addForeignKeys(t, spec);
  for (const ix of spec.indexes) t.index(indexColumns(ix, engine), ix.name);
}

/** Builds PostgreSQL's column terms only (never connects). */
const postgresTerms = knexFactory({ client: 'pg' });

/**
 * An index's columns as the engine creates them. OData sorts null lowest, so the compiler orders a
 * nullable column `ASC NULLS FIRST` (`DESC NULLS LAST` descending: the same order read backwards,
 * sql/compile-read.ts). On PostgreSQL a nullable column is therefore indexed NULLS FIRST: with the
 * default (NULLS LAST) an ordered page sorts the whole table instead of walking the index. SQLite
 * puts nulls first in ascending order anyway (and has no NULLS FIRST in an index).
 */
export function indexColumns(ix: IndexSpec, engine: Engine): (string | Knex.Raw)[] {
  if (engine !== 'postgres' || !ix.nullable?.length) return [...ix.columns];
  return ix.columns.map((c) => (ix.nullable?.includes(c) ? postgresTerms.raw('?? NULLS FIRST', [c]) : c));
}

/**
 * A constraint name within PostgreSQL's 63 bytes: it would truncate a longer one silently, and two
 * truncated names of one table (custom tables' names may be 64 characters) would collide.
 */
function constraintName(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 52)}_${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

export function addForeignKeys(t: Knex.TableBuilder, spec: Pick<TableSpec, 'name' | 'foreignKeys'>): void {
  for (const fk of spec.foreignKeys) {
    t.foreign([...fk.columns], constraintName(`fk_${spec.name}_${fk.columns.join('_')}`)).references([...fk.referencedColumns]).inTable(fk.referencedTable).onDelete(fk.onDelete);
  }
}

/**
 * Creates every entity and link table of the model. SQLite takes foreign keys inline (it checks them
 * on writes, not at CREATE time); PostgreSQL gets them afterwards, since the references form cycles
 * (Contacts.OwnerId → Users, Users.ContactId → Contacts).
 */
export async function createSchemaForModel(knex: Knex, model: EdmModel): Promise<void> {
  const engine = engineOfKnex(knex);
  const tables = [...describeExpectedSchema(model).values()];
  for (const spec of tables) {
    await knex.schema.createTable(spec.name, (t) => defineTable(t, spec, engine, engine === 'sqlite'));
  }
  if (engine === 'postgres') {
    for (const spec of tables) {
      if (spec.foreignKeys.length > 0) await knex.schema.alterTable(spec.name, (t) => addForeignKeys(t, spec));
    }
  }
}

/** Creates one table of the model (a migration adding an entity set to a database that has the others). */
export async function createTableFromSpec(knex: Knex, spec: TableSpec): Promise<void> {
  const engine = engineOfKnex(knex);
  await knex.schema.createTable(spec.name, (t) => defineTable(t, spec, engine, true));
}

/** Drops every table of the model, referencing tables before the tables they reference. */
export async function dropSchemaForModel(knex: Knex, model: EdmModel): Promise<void> {
  const engine = engineOfKnex(knex);
  for (const table of dropOrder([...describeExpectedSchema(model).values()])) {
    if (engine === 'postgres') await knex.raw('drop table if exists ?? cascade', [table]);
    else await knex.schema.dropTableIfExists(table);
  }
}

/** Reverse topological order over foreign keys; cycles (all SET NULL in practice) are broken by declaration order. */
function dropOrder(tables: readonly TableSpec[]): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(tables.map((t) => [t.name, t]));
  const visit = (name: string): void => {
    if (state.has(name)) return;
    state.set(name, 'visiting');
    for (const other of tables) {
      if (other.name !== name && other.foreignKeys.some((fk) => fk.referencedTable === name)) visit(other.name);
    }
    state.set(name, 'done');
    if (byName.has(name)) out.push(name);
  };
  for (const t of tables) visit(t.name);
  return out;
}
