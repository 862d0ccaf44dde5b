/**
 * Run-time additions to the model. The model served is the built-in CSDL (metadata/crm.csdl.json)
 * with the schema changes the database holds applied in order (src/db/model-store.ts keeps them as
 * definition rows). A change is CSDL-level data, so the storage it needs follows from the storage
 * conventions like any built-in element's (src/db/schema.ts), and the migrator (src/db/model-migrator.ts)
 * turns the difference into DDL.
 */
import { createHash } from 'node:crypto';
import { loadModel } from './load-csdl';
import type { EdmModel } from './model';
import { customColumnName, checkDeclaredColumns } from './custom-columns';
import { applyAddTable, applyDropTable, isMainEntity, type AddTableChange, type DropTableChange, type TableChangeTarget } from './custom-tables';

type Json = Record<string, unknown>;

/** A structural property as CSDL JSON writes it (`$Type`, facets, annotations). */
export type CsdlPropertyDefinition = {
  readonly $Type?: string;
  readonly $Collection?: boolean;
  readonly $Nullable?: boolean;
  readonly $MaxLength?: number;
  readonly $Precision?: number;
  readonly $Scale?: number;
  readonly $DefaultValue?: string | number | boolean;
} & { readonly [annotation: `@${string}`]: unknown };

/** `indexed`: the property's column gets an index of its own (storage mapping `entitySets.<Set>.indexes`). */
export type SchemaChange =
  | { readonly kind: 'add-property'; readonly entityType: string; readonly property: string; readonly definition: CsdlPropertyDefinition; readonly indexed?: boolean }
  /** a new definition (and index) for a property an earlier change added */
  | { readonly kind: 'alter-property'; readonly entityType: string; readonly property: string; readonly definition: CsdlPropertyDefinition; readonly indexed?: boolean }
  | { readonly kind: 'drop-property'; readonly entityType: string; readonly property: string }
  | AddTableChange
  | DropTableChange;

/** The change names something that does not exist, or clashes with what does. */
export class SchemaChangeError extends Error {
  constructor(message: string, readonly target: string) {
    super(message);
    this.name = 'SchemaChangeError';
  }
}

/** A schema change applied in order did not fit: `index` is its position in the list given to `applySchemaChanges`. */
export class SchemaChangeAtError extends SchemaChangeError {
  constructor(failure: SchemaChangeError, readonly index: number, readonly change: SchemaChange) {
    super(failure.message, failure.target);
    this.name = 'SchemaChangeError';
  }
}

/** Names a run-time addition may take (the rule; the same as most CRM products allow). */
const CUSTOM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SCHEMA_VERSION = '@Org.OData.Core.V1.SchemaVersion';

/**
 * The built-in model with `changes` applied, in order (CSDL and storage mapping: a custom table's
 * tables are named there); throws SchemaChangeError on the first that does not fit.
 */
export function applySchemaChanges(builtIn: BuiltInModel, changes: readonly SchemaChange[]): { csdl: Json; storage: Json } {
  const csdl = structuredClone(builtIn.csdl) as Json;
  const storage = structuredClone(builtIn.storage) as Json;
  const container = String(csdl.$EntityContainer ?? '');
  const namespace = container.slice(0, container.lastIndexOf('.'));
  const schema = schemaOf(csdl);
  const target: TableChangeTarget = {
    namespace, schema, container: schema[container.slice(namespace.length + 1)] as Json, storage,
    addedSets: new Set(), addedProperties: new Set(),
  };
  checkBuiltIn(builtIn);
  changes.forEach((change, i) => {
    try {
      applyOne(target, change);
    } catch (err) {
      throw err instanceof SchemaChangeError ? new SchemaChangeAtError(err, i, change) : err;
    }
  });
  return { csdl, storage };
}

const checkedBuiltIns = new WeakSet<BuiltInModel>();

/** A built-in model's declared columns stay clear of the custom prefix (checked once per model object). */
function checkBuiltIn(builtIn: BuiltInModel): void {
  if (checkedBuiltIns.has(builtIn)) return;
  checkDeclaredColumns(builtIn.csdl, builtIn.storage);
  checkedBuiltIns.add(builtIn);
}

function schemaOf(csdl: Json): Json {
  const container = String(csdl.$EntityContainer ?? '');
  const schema = csdl[container.slice(0, container.lastIndexOf('.'))];
  if (!schema || typeof schema !== 'object') throw new Error(`CSDL has no schema for ${container}`);
  return schema as Json;
}

const failure = (message: string, target: string) => new SchemaChangeError(message, target);

function applyOne(target: TableChangeTarget, change: SchemaChange): void {
  switch (change.kind) {
    case 'add-property': case 'alter-property': case 'drop-property': {
      const name = applyPropertyChange(target.schema, change, target.addedProperties);
      const column = mapCustomColumn(target, change.entityType, name, change.kind !== 'drop-property');
      return indexProperty(target, change.entityType, column, change.kind !== 'drop-property' && change.indexed === true);
    }
    case 'add-table': return applyAddTable(target, change, failure);
    case 'drop-table': return applyDropTable(target, change, failure);
  }
}

type PropertyChange = Extract<SchemaChange, { kind: 'add-property' | 'alter-property' | 'drop-property' }>;

/**
 * `added`: `Type.Property` of the properties added by earlier changes (only those may be dropped).
 * Answers the property's name as the model spells it.
 */
function applyPropertyChange(schema: Json, change: PropertyChange, added: Set<string>): string {
  const type = schema[change.entityType] as Json | undefined;
  if (!type || type.$Kind !== 'EntityType') throw new SchemaChangeError(`no entity type ${change.entityType}`, 'EntityType');
  const existing = Object.keys(type).find((k) => !k.startsWith('$') && !k.startsWith('@') && k.toLowerCase() === change.property.toLowerCase());
  switch (change.kind) {
    case 'add-property': {
      if (!CUSTOM_NAME.test(change.property)) throw new SchemaChangeError(`${change.property} is not a valid name ([A-Za-z][A-Za-z0-9_]{0,63})`, 'Name');
      if (existing) throw new SchemaChangeError(`${change.entityType} already has a member ${existing}`, 'Name');
      type[change.property] = { ...change.definition };
      added.add(`${change.entityType}.${change.property}`);
      return change.property;
    }
    case 'alter-property': {
      if (!existing) throw new SchemaChangeError(`${change.entityType} has no property ${change.property}`, 'Name');
      if (!added.has(`${change.entityType}.${existing}`)) throw new SchemaChangeError(`${change.entityType}.${existing} is built in and cannot be changed`, 'Name');
      type[existing] = { ...change.definition };
      return existing;
    }
    case 'drop-property': {
      if (!existing) throw new SchemaChangeError(`${change.entityType} has no property ${change.property}`, 'Name');
      if (!added.delete(`${change.entityType}.${existing}`)) throw new SchemaChangeError(`${change.entityType}.${existing} is built in and cannot be dropped`, 'Name');
      delete type[existing];
      return existing;
    }
  }
}

/**
 * Maps a custom field to its column `cf_<Name>` in the storage mapping (`entityTypes.<Type>.columns`:
 * src/edm/custom-columns.ts), or takes the mapping away with the field; answers the column.
 */
function mapCustomColumn(target: TableChangeTarget, entityType: string, property: string, present: boolean): string {
  const column = customColumnName(property);
  const types = (target.storage.entityTypes ??= {}) as Json;
  const qualified = `${target.namespace}.${entityType}`;
  const entry = (types[qualified] ??= {}) as Json;
  const columns = (entry.columns ??= {}) as Json;
  if (present) columns[property] = column;
  else delete columns[property];
  return column;
}

/**
 * Gives a custom field's column an index of its own, or takes it away. The index is storage mapping,
 * so `$metadata` does not change with it.
 */
function indexProperty(target: TableChangeTarget, entityType: string, column: string, indexed: boolean): void {
  const qualified = `${target.namespace}.${entityType}`;
  const set = Object.keys(target.container).find((k) => (target.container[k] as Json | undefined)?.$Type === qualified && (target.container[k] as Json).$Collection === true);
  if (!set) return;
  const existing = (target.storage.entitySets as Json | undefined)?.[set] as Json | undefined;
  if (!indexed && !existing?.indexes) return;
  const sets = (target.storage.entitySets ??= {}) as Json;
  const entry = (sets[set] ??= {}) as Json;
  const others = ((entry.indexes ?? []) as string[][]).filter((ix) => !ix.some((c) => c.toLowerCase() === column.toLowerCase()));
  entry.indexes = indexed ? [...others, [column]] : others;
}

/** The model a service is built with: its CSDL and its storage mapping (src/edm/storage-mapping.ts). */
export interface BuiltInModel {
  readonly csdl: Readonly<Json>;
  readonly storage: Readonly<Json>;
}

/**
 * The model to serve: built-in CSDL plus changes, its schema annotated with Core.SchemaVersion (a
 * digest of the CSDL it annotates and of the storage mapping, so every worker and node names the
 * same model alike).
 */
export function buildServedModel(builtIn: BuiltInModel, changes: readonly SchemaChange[]): EdmModel {
  const { csdl, storage } = applySchemaChanges(builtIn, changes);
  const digest = createHash('sha256').update(JSON.stringify(csdl)).update(JSON.stringify(storage)).digest('hex').slice(0, 16);
  schemaOf(csdl)[SCHEMA_VERSION] = digest;
  return loadModel(csdl, storage);
}

/** Core.SchemaVersion of a served model (undefined for a model built without it, e.g. in tests). */
export function schemaVersionOf(model: EdmModel): string | undefined {
  const schema = model.csdl[model.namespace] as Json | undefined;
  const version = schema?.[SCHEMA_VERSION];
  return typeof version === 'string' ? version : undefined;
}

/** Parses a stored change (definition row); throws on anything that is not one. */
export function parseSchemaChange(text: string): SchemaChange {
  const raw = JSON.parse(text) as Json;
  const invalid = () => new Error(`not a schema change: ${text}`);
  const str = (key: string): string => {
    const value = raw[key];
    if (typeof value !== 'string') throw invalid();
    return value;
  };
  switch (raw.kind) {
    case 'add-property': {
      const definition = raw.definition;
      if (!definition || typeof definition !== 'object') throw invalid();
      const indexed = raw.indexed === true ? { indexed: true } : {};
      return { kind: 'add-property', entityType: str('entityType'), property: str('property'), definition: definition as CsdlPropertyDefinition, ...indexed };
    }
    case 'alter-property': {
      const definition = raw.definition;
      if (!definition || typeof definition !== 'object') throw invalid();
      const indexed = raw.indexed === true ? { indexed: true } : {};
      return { kind: 'alter-property', entityType: str('entityType'), property: str('property'), definition: definition as CsdlPropertyDefinition, ...indexed };
    }
    case 'drop-property': return { kind: 'drop-property', entityType: str('entityType'), property: str('property') };
    case 'add-table': {
      const properties = raw.properties;
      if (!properties || typeof properties !== 'object' || Array.isArray(properties)) throw invalid();
      if (raw.mainEntity !== undefined && !isMainEntity(raw.mainEntity)) throw invalid();
      const mainEntity = isMainEntity(raw.mainEntity) ? { mainEntity: raw.mainEntity } : {};
      if (raw.indexed !== undefined && !(Array.isArray(raw.indexed) && raw.indexed.every((x) => typeof x === 'string'))) throw invalid();
      const indexed = Array.isArray(raw.indexed) && raw.indexed.length > 0 ? { indexed: raw.indexed as string[] } : {};
      return { kind: 'add-table', entitySet: str('entitySet'), entityType: str('entityType'), ...mainEntity, properties: properties as Record<string, CsdlPropertyDefinition>, ...indexed };
    }
    case 'drop-table': return { kind: 'drop-table', entitySet: str('entitySet') };
    default: throw invalid();
  }
}

/** The `$metadata` ETag (and `@odata.metadataEtag`) of a served model: changes with its Core.SchemaVersion. */
export function metadataEtagOf(model: EdmModel): string | undefined {
  const version = schemaVersionOf(model);
  return version === undefined ? undefined : `W/"${version}"`;
}
