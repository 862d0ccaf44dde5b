/**
 * The rows of FieldDefinitions: one per declared property (IsCustom false, written when a model is
 * migrated, Id stable across restarts and databases) and one per custom field (written in the
 * transaction of the schema change that adds it).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { entitySetOfType } from '../edm/lookup';
import type { EdmEntityType, EdmModel } from '../edm/model';
import type { SchemaChange } from '../edm/schema-change';
import { tableOf } from '../edm/storage';
import { FIELD_TYPES, fieldTypeOfProperty, type FieldType } from './field-types';

export const FIELD_DEFINITIONS_SET = 'FieldDefinitions';
const INSERT_CHUNK = 100;

export interface FieldRow {
  readonly Id: string;
  readonly Created: string;
  readonly Edited: string;
  readonly CreatedById: string | null;
  readonly EditedById: string | null;
  readonly EntityType: string;
  readonly Name: string;
  readonly DisplayName: string | null;
  readonly FieldType: number | null;
  readonly Length: number | null;
  readonly Precision: number | null;
  readonly Scale: number | null;
  readonly IsNullable: boolean;
  readonly IsIndexed: boolean;
  readonly DefaultValue: string | null;
  readonly IsCustom: boolean;
  readonly PicklistId: string | null;
  readonly TableDefinitionId: string | null;
}

/** The table holding FieldDefinitions in this model (undefined: the model has no such set). */
export function fieldTable(model: EdmModel): string | undefined {
  const set = model.entitySets.get(FIELD_DEFINITIONS_SET);
  return set ? tableOf(set) : undefined;
}

/** The same Id for a declared property in every database (hash bits laid out as a version-4 UUID, like the service's keys). */
export function declaredFieldId(entityType: string, property: string): string {
  const h = createHash('sha256').update(`FieldDefinition/${entityType}/${property}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function fieldTypeNumber(type: FieldType): number {
  return FIELD_TYPES.indexOf(type);
}

export function fieldTypeOfNumber(value: number | null): FieldType | undefined {
  return value === null ? undefined : FIELD_TYPES[value];
}

/** When the declared rows were first written: their Created and Edited (stable, like other reference rows). */
const DECLARED_AS_OF = '2026-12-04T00:00:00.000Z';

/** The row a declared property reads as. */
export function declaredFieldRow(model: EdmModel, type: EdmEntityType, propertyName: string): FieldRow {
  const property = type.properties.find((p) => p.name === propertyName);
  if (!property) throw new Error(`${type.name} has no property ${propertyName}`);
  const annotations = ((model.csdl[model.namespace] as Record<string, Record<string, Record<string, unknown>>> | undefined)?.[type.name]?.[propertyName] ?? {});
  const fieldType = fieldTypeOfProperty(property, annotations);
  const text = fieldType !== undefined && property.type.kind === 'primitive' && property.type.name === 'Edm.String';
  const decimal = fieldType === 'Decimal';
  return {
    Id: declaredFieldId(type.name, property.name), Created: DECLARED_AS_OF, Edited: DECLARED_AS_OF, CreatedById: null, EditedById: null,
    EntityType: type.name, Name: property.name, DisplayName: null, FieldType: fieldType === undefined ? null : fieldTypeNumber(fieldType),
    Length: text ? property.maxLength ?? null : null, Precision: decimal ? property.precision ?? null : null, Scale: decimal ? property.scale ?? null : null,
    IsNullable: property.nullable, IsIndexed: false,
    DefaultValue: property.defaultValue === undefined || property.collection ? null : String(property.defaultValue),
    IsCustom: false, PicklistId: null, TableDefinitionId: null,
  };
}

/** `Type.Property` of the properties the schema changes added (their rows are written with the change). */
function customProperties(changes: readonly SchemaChange[]): ReadonlySet<string> {
  const added = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'add-property') added.add(`${change.entityType}.${change.property}`.toLowerCase());
    if (change.kind === 'drop-property') added.delete(`${change.entityType}.${change.property}`.toLowerCase());
    // a custom table's fields: their rows are written with the table (src/schema/table-definitions.ts)
    if (change.kind === 'add-table') for (const p of Object.keys(change.properties)) added.add(`${change.entityType}.${p}`.toLowerCase());
  }
  return added;
}

/**
 * Brings the declared rows to the model: inserts a row for each declared property that has none,
 * deletes declared rows whose property the model no longer has. Runs after every model migration.
 */
export async function syncDeclaredFields(knex: Knex | Knex.Transaction, model: EdmModel, changes: readonly SchemaChange[]): Promise<void> {
  const table = fieldTable(model);
  if (!table || !(await knex.schema.hasTable(table))) return;
  const custom = customProperties(changes);
  const wanted = new Map<string, FieldRow>();
  for (const type of model.entityTypes.values()) {
    if (!hasEntitySet(model, type)) continue;
    for (const p of type.properties) {
      if (p.hidden || custom.has(`${type.name}.${p.name}`.toLowerCase())) continue;
      wanted.set(declaredFieldId(type.name, p.name), declaredFieldRow(model, type, p.name));
    }
  }
  const present = await knex(table).where('IsCustom', false).select('Id') as { Id: string }[];
  const presentIds = new Set(present.map((r) => r.Id.toLowerCase()));
  const gone = present.filter((r) => !wanted.has(r.Id.toLowerCase())).map((r) => r.Id);
  for (let i = 0; i < gone.length; i += INSERT_CHUNK) await knex(table).whereIn('Id', gone.slice(i, i + INSERT_CHUNK)).delete();
  const rows = [...wanted.values()].filter((r) => !presentIds.has(r.Id));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await knex(table).insert(rows.slice(i, i + INSERT_CHUNK));
}

function hasEntitySet(model: EdmModel, type: EdmEntityType): boolean {
  try {
    entitySetOfType(model, type);
    return true;
  } catch {
    return false;
  }
}
