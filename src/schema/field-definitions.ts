/**
 * FieldDefinitions (issue 17, item 4) as a definition set: POST adds a property and its column, PATCH
 * and PUT change a custom field's facets (or any field's DisplayName), DELETE drops a custom field's
 * property, column and index. Built-in fields' rows (IsCustom false) change their DisplayName only.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { checkCustomName } from '../edm/custom-names';
import type { EdmEntityType, EdmModel } from '../edm/model';
import { entitySetOfType } from '../edm/lookup';
import { columnOfName, tableOf } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import { refuseIfCriteriaUse } from './criteria-users';
import { tableDefinitionIdOf } from './table-definitions';
import { applyChange, requireAdministrator, type DefinitionOutcome, type DefinitionSet, type DefinitionWrite } from './definition-sets';
import { fieldShapeOf, optional, readFieldInput, required, type FieldInput, type FieldMember } from './field-input';
import { FIELD_DEFINITIONS_SET, fieldTable, fieldTypeNumber, fieldTypeOfNumber, type FieldRow } from './field-rows';
import { propertyDefinition, withDefaults, type FieldShape } from './field-types';

export const fieldDefinitions: DefinitionSet = {
  setName: FIELD_DEFINITIONS_SET,
  async write(w: DefinitionWrite): Promise<DefinitionOutcome> {
    requireAdministrator(w.user, FIELD_DEFINITIONS_SET);
    switch (w.method) {
      case 'POST': return createField(w);
      case 'PATCH': case 'PUT': return updateField(w, w.method === 'PUT' ? 'replace' : 'merge');
      case 'DELETE': return deleteField(w);
    }
  },
};

function entityTypeNamed(model: EdmModel, name: string): EdmEntityType {
  const type = model.entityTypes.get(`${model.namespace}.${name}`);
  const hasSet = type !== undefined && [...model.entitySets.values()].some((s) => s.entityType === type);
  if (!type || !hasSet) throw new ODataError('VALIDATION_FAILED', `EntityType ${name} is not an entity type of an entity set (give the unqualified name, e.g. Contact)`, { target: 'EntityType' });
  return type;
}

function tableIn(model: EdmModel): string {
  const table = fieldTable(model);
  if (!table) throw new Error(`the model has no ${FIELD_DEFINITIONS_SET} set`);
  return table;
}

async function createField(w: DefinitionWrite): Promise<DefinitionOutcome> {
  const input = readFieldInput(w.body ?? {});
  const entityType = required(input, 'EntityType');
  const name = required(input, 'Name');
  const type = entityTypeNamed(w.model, entityType);
  checkCustomName(w.model, 'property', name, type);
  const shape = fieldShapeOf(input);
  const id = randomUUID();
  const now = new Date().toISOString();
  const row: FieldRow = {
    Id: id, Created: now, Edited: now, CreatedById: w.user.id, EditedById: w.user.id, EntityType: type.name, Name: name,
    DisplayName: input.DisplayName ?? null, FieldType: fieldTypeNumber(shape.fieldType), Length: shape.length ?? null,
    Precision: shape.precision ?? null, Scale: shape.scale ?? null, IsNullable: shape.isNullable, IsIndexed: input.IsIndexed === true,
    DefaultValue: shape.defaultValue ?? null, IsCustom: true, PicklistId: shape.picklistId ?? null, TableDefinitionId: null,
  };
  await applyChange(w.schema, { kind: 'add-property', entityType: type.name, property: name, definition: propertyDefinition(shape), ...(input.IsIndexed === true ? { indexed: true } : {}) }, {
    // a field of a custom table's type belongs to that table (TableDefinitionId, TableDefinition)
    inTransaction: async (trx, next) => { await trx(tableIn(next)).insert({ ...row, TableDefinitionId: await tableDefinitionIdOf(trx, next, type.name) }); },
  });
  return { kind: 'created', key: id };
}

async function storedRow(knex: Knex, model: EdmModel, key: string | undefined): Promise<FieldRow> {
  if (key === undefined) throw new ODataError('METHOD_NOT_ALLOWED', `Address one field: ${FIELD_DEFINITIONS_SET}(<Id>) or ${FIELD_DEFINITIONS_SET}(EntityType='…',Name='…')`);
  const [row] = await knex(tableIn(model)).where('Id', key) as FieldRow[];
  if (!row) throw new ODataError('NOT_FOUND', `No field definition has the Id ${key}`);
  return normalized(row);
}

/** Booleans and numbers as the drivers return them (SQLite: 0/1; PostgreSQL: numeric text for big integers). */
function normalized(row: FieldRow): FieldRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...row, Id: String(row.Id).toLowerCase(), IsNullable: Boolean(row.IsNullable), IsIndexed: Boolean(row.IsIndexed), IsCustom: Boolean(row.IsCustom),
    FieldType: num(row.FieldType), Length: num(row.Length), Precision: num(row.Precision), Scale: num(row.Scale),
  };
}

/** The members an update may name without changing them: what identifies the field. */
const IDENTITY: readonly FieldMember[] = ['EntityType', 'Name', 'FieldType'];

/** The row's value of a member, as a request would give it. */
function storedValue(row: FieldRow, member: FieldMember): unknown {
  return member === 'FieldType' ? fieldTypeOfNumber(row.FieldType) ?? null : row[member];
}

async function updateField(w: DefinitionWrite, mode: 'merge' | 'replace'): Promise<DefinitionOutcome> {
  const row = await storedRow(w.knex, w.model, w.key);
  const input = readFieldInput(w.body ?? {});
  for (const member of IDENTITY) {
    if (input[member] !== undefined && input[member] !== storedValue(row, member)) {
      throw new ODataError('VALIDATION_FAILED', `${member} of a field cannot change (drop the field and add another)`, { target: member });
    }
  }
  const changed = (Object.keys(input) as FieldMember[]).filter((m) => !IDENTITY.includes(m) && m !== 'DisplayName' && input[m] !== storedValue(row, m));
  if (!row.IsCustom) {
    if (changed.length > 0) throw new ODataError('FORBIDDEN', `${row.EntityType}.${row.Name} is built in: only its DisplayName may change (not ${changed.join(', ')})`, { target: changed[0] });
    return renameOnly(w, row, mode === 'replace' ? input.DisplayName ?? null : input.DisplayName);
  }
  if (changed.length === 0) return renameOnly(w, row, mode === 'replace' ? input.DisplayName ?? null : input.DisplayName);
  return alterField(w, row, input, mode);
}

/** The row's shape, with what the request gives laid over it (merge) or instead of it (replace). */
function nextShape(row: FieldRow, input: FieldInput, mode: 'merge' | 'replace'): FieldShape {
  const fieldType = fieldTypeOfNumber(row.FieldType);
  if (!fieldType) throw new Error(`${row.EntityType}.${row.Name}: a custom field without a FieldType`);
  const pick = <K extends 'Length' | 'Precision' | 'Scale' | 'DefaultValue'>(member: K, stored: FieldRow[K]) =>
    input[member] !== undefined ? optional(input, member) : mode === 'merge' ? stored ?? undefined : undefined;
  return withDefaults({
    fieldType, length: pick('Length', row.Length) as number | undefined, precision: pick('Precision', row.Precision) as number | undefined,
    scale: pick('Scale', row.Scale) as number | undefined, defaultValue: pick('DefaultValue', row.DefaultValue) as string | undefined,
    isNullable: input.IsNullable ?? (mode === 'merge' ? row.IsNullable : true), picklistId: row.PicklistId ?? undefined,
  });
}

/**
 * A change of a custom field's facets: its property gets the new definition (and index) in a schema
 * change whose DDL the migrator derives (a new MaxLength the stored values fit, a higher Precision,
 * NOT NULL, an index), and its row the new values, in one transaction.
 */
async function alterField(w: DefinitionWrite, row: FieldRow, input: FieldInput, mode: 'merge' | 'replace'): Promise<DefinitionOutcome> {
  if (input.PicklistId !== undefined && input.PicklistId !== row.PicklistId) throw new ODataError('VALIDATION_FAILED', 'PicklistId of a field cannot change', { target: 'PicklistId' });
  const shape = nextShape(row, input, mode);
  const refuse = (member: FieldMember, message: string) => new ODataError('VALIDATION_FAILED', message, { target: member });
  if ((shape.scale ?? null) !== row.Scale) throw refuse('Scale', 'Scale of a field cannot change');
  if (shape.precision !== undefined && row.Precision !== null && shape.precision < row.Precision) throw refuse('Precision', `Precision may only be raised (from ${row.Precision})`);
  if (shape.fieldType === 'MultiSelect' && (shape.length ?? null) !== row.Length) throw refuse('Length', 'Length of a MultiSelect field cannot change');
  const indexed = input.IsIndexed ?? (mode === 'merge' ? row.IsIndexed : false);
  const type = entityTypeNamed(w.model, row.EntityType);
  const table = tableOf(entitySetOfType(w.model, type));
  const column = columnOfName(type, row.Name);
  const definition = propertyDefinition(shape);
  const updated: Partial<FieldRow> = {
    Edited: new Date().toISOString(), EditedById: w.user.id, Length: shape.length ?? null, Precision: shape.precision ?? null,
    IsNullable: shape.isNullable, IsIndexed: indexed, DefaultValue: shape.defaultValue ?? null,
    ...(input.DisplayName !== undefined || mode === 'replace' ? { DisplayName: input.DisplayName ?? null } : {}),
  };
  await applyChange(w.schema, { kind: 'alter-property', entityType: row.EntityType, property: row.Name, definition, ...(indexed ? { indexed } : {}) }, {
    beforeDdl: async (trx) => {
      // a field becoming required takes its default where it holds null; without one, the migrator refuses (409, counting the nulls)
      if (!shape.isNullable && row.IsNullable && definition.$DefaultValue !== undefined) await trx(table).whereNull(column).update({ [column]: definition.$DefaultValue });
    },
    inTransaction: async (trx, next) => { await trx(tableIn(next)).where('Id', row.Id).update(updated); },
  });
  return { kind: 'updated', key: row.Id };
}

async function renameOnly(w: DefinitionWrite, row: FieldRow, displayName: string | null | undefined): Promise<DefinitionOutcome> {
  const change: Partial<FieldRow> = { Edited: new Date().toISOString(), EditedById: w.user.id, ...(displayName === undefined ? {} : { DisplayName: displayName }) };
  await w.knex(tableIn(w.model)).where('Id', row.Id).update(change);
  return { kind: 'updated', key: row.Id };
}

async function deleteField(w: DefinitionWrite): Promise<DefinitionOutcome> {
  const row = await storedRow(w.knex, w.model, w.key);
  if (!row.IsCustom) throw new ODataError('FORBIDDEN', `${row.EntityType}.${row.Name} is built in and cannot be deleted`, { target: FIELD_DEFINITIONS_SET });
  await applyChange(w.schema, { kind: 'drop-property', entityType: row.EntityType, property: row.Name }, {
    inTransaction: async (trx, next) => {
      await refuseIfCriteriaUse(trx, w.model, next, `${row.EntityType}.${row.Name}`);
      await trx(tableIn(next)).where('Id', row.Id).delete();
    },
  });
  return { kind: 'deleted' };
}

