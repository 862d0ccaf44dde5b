/**
 * TableDefinitions (issue 17, item 5) as a definition set: POST (with its Fields deep-inserted)
 * creates a custom table (the `add-table` schema change: src/edm/custom-tables.ts), PATCH and PUT
 * change its DisplayName only, DELETE drops it (`drop-table`): table, link table, set and
 * navigations, data included. The TableDefinition row and the FieldDefinition rows of its properties
 * are written in the change's own transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { checkCustomName } from '../edm/custom-names';
import { isMainEntity, isSystemMember, MAIN_ENTITIES, type MainEntity } from '../edm/custom-tables';
import type { EdmModel } from '../edm/model';
import type { CsdlPropertyDefinition } from '../edm/schema-change';
import { tableOf } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import { isJsonObject, type JsonObject } from '../json';
import { refuseIfCriteriaUse } from './criteria-users';
import { applyChange, requireAdministrator, type DefinitionOutcome, type DefinitionSet, type DefinitionWrite } from './definition-sets';
import { fieldShapeOf, readFieldInput, required, type FieldInput } from './field-input';
import { declaredFieldRow, fieldTable, fieldTypeNumber, type FieldRow } from './field-rows';
import { propertyDefinition, type FieldShape } from './field-types';

export const TABLE_DEFINITIONS_SET = 'TableDefinitions';

interface TableRow {
  readonly Id: string;
  readonly Created: string;
  readonly Edited: string;
  readonly CreatedById: string | null;
  readonly EditedById: string | null;
  readonly Name: string;
  readonly EntityTypeName: string;
  readonly DisplayName: string | null;
  /** Crm.MainEntity as stored (its member's value) */
  readonly MainEntity: number | null;
}

interface TableInput {
  readonly Name?: string;
  readonly EntityTypeName?: string;
  readonly DisplayName?: string | null;
  readonly MainEntity?: MainEntity | null;
  readonly Fields?: readonly JsonObject[];
}

const SERVER_MAINTAINED: ReadonlySet<string> = new Set(['Id', 'Created', 'Edited', 'CreatedById', 'EditedById']);
/** What identifies a table: a PATCH or PUT may repeat it unchanged, never change it. */
const IDENTITY = ['Name', 'EntityTypeName', 'MainEntity'] as const;

export const tableDefinitions: DefinitionSet = {
  setName: TABLE_DEFINITIONS_SET,
  async write(w: DefinitionWrite): Promise<DefinitionOutcome> {
    requireAdministrator(w.user, TABLE_DEFINITIONS_SET);
    switch (w.method) {
      case 'POST': return createTable(w);
      case 'PATCH': case 'PUT': return updateTable(w, w.method === 'PUT' ? 'replace' : 'merge');
      case 'DELETE': return deleteTable(w);
    }
  },
};

function invalid(message: string, target: string): ODataError {
  return new ODataError('VALIDATION_FAILED', message, { target });
}

function readName(value: unknown, member: string): string {
  if (typeof value !== 'string') throw invalid(`${member} must be a string`, member);
  return value;
}

function readTableInput(body: JsonObject): TableInput {
  const out: { -readonly [K in keyof TableInput]: TableInput[K] } = {};
  for (const [member, value] of Object.entries(body)) {
    if (member.startsWith('@') || SERVER_MAINTAINED.has(member)) continue;
    switch (member) {
      case 'Name': case 'EntityTypeName': out[member] = readName(value, member); break;
      case 'DisplayName':
        if (value !== null && (typeof value !== 'string' || value.length > 128)) throw invalid('DisplayName must be a string of at most 128 characters or null', member);
        out.DisplayName = value;
        break;
      case 'MainEntity':
        if (value !== null && !isMainEntity(value)) throw invalid(`MainEntity must be one of ${MAIN_ENTITIES.join(', ')} or null`, member);
        out.MainEntity = value;
        break;
      case 'Fields':
        if (!Array.isArray(value) || !value.every(isJsonObject)) throw invalid('Fields must be a list of field definitions', member);
        out.Fields = value;
        break;
      default: throw new ODataError('UNKNOWN_PROPERTY', `TableDefinition has no writable member ${member}`, { target: member });
    }
  }
  return out;
}

function tableIn(model: EdmModel): string {
  const set = model.entitySets.get(TABLE_DEFINITIONS_SET);
  if (!set) throw new Error(`the model has no ${TABLE_DEFINITIONS_SET} set`);
  return tableOf(set);
}

/** The Id of the TableDefinition whose entity type is `entityTypeName` (null: a built-in type). */
export async function tableDefinitionIdOf(q: Knex | Knex.Transaction, model: EdmModel, entityTypeName: string): Promise<string | null> {
  if (!model.entitySets.has(TABLE_DEFINITIONS_SET)) return null;
  const [row] = await q(tableIn(model)).where('EntityTypeName', entityTypeName).select('Id').limit(1) as { Id: string }[];
  return row ? String(row.Id).toLowerCase() : null;
}

function fieldsTableIn(model: EdmModel): string {
  const table = fieldTable(model);
  if (!table) throw new Error('the model has no FieldDefinitions set');
  return table;
}

const mainEntityNumber = (main: MainEntity | null | undefined): number | null => (main ? MAIN_ENTITIES.indexOf(main) : null);
const mainEntityOf = (value: number | null): MainEntity | null => (value === null ? null : MAIN_ENTITIES[value] ?? null);

interface NewField {
  readonly input: FieldInput;
  readonly name: string;
  readonly shape: FieldShape;
}

/** The deep-inserted Fields, checked one by one; a problem is a 400 whose target names the field (`Fields/2/Length`). */
function readFields(model: EdmModel, entityTypeName: string, fields: readonly JsonObject[]): NewField[] {
  const seen = new Set<string>();
  return fields.map((body, i) => {
    const where = `Fields/${i}`;
    try {
      const input = readFieldInput(body);
      if (input.EntityType !== undefined && input.EntityType !== entityTypeName) throw invalid(`EntityType of a field of ${entityTypeName} is ${entityTypeName} (or left out)`, 'EntityType');
      const name = required(input, 'Name');
      if (isSystemMember(name)) throw invalid(`${name} is a member every custom table has`, 'Name');
      checkCustomName(model, 'property', name);
      if (seen.has(name.toLowerCase())) throw invalid(`${name} is given twice`, 'Name');
      seen.add(name.toLowerCase());
      return { input, name, shape: fieldShapeOf(input) };
    } catch (err) {
      if (err instanceof ODataError) throw new ODataError(err.code, err.message, { target: `${where}/${err.target ?? ''}`.replace(/\/$/, '') });
      throw err;
    }
  });
}

async function createTable(w: DefinitionWrite): Promise<DefinitionOutcome> {
  const input = readTableInput(w.body ?? {});
  const name = input.Name;
  const entityTypeName = input.EntityTypeName;
  if (name === undefined) throw invalid('Name is required', 'Name');
  if (entityTypeName === undefined) throw invalid('EntityTypeName is required', 'EntityTypeName');
  checkCustomName(w.model, 'entity-set', name, undefined, 'Name');
  checkCustomName(w.model, 'entity-type', entityTypeName, undefined, 'EntityTypeName');
  if (name.toLowerCase() === entityTypeName.toLowerCase()) throw invalid('Name (the entity set) and EntityTypeName (its type) must differ', 'EntityTypeName');
  const fields = readFields(w.model, entityTypeName, input.Fields ?? []);
  const properties: Record<string, CsdlPropertyDefinition> = {};
  for (const f of fields) properties[f.name] = propertyDefinition(f.shape);
  const mainEntity = input.MainEntity ?? undefined;
  const indexed = fields.filter((f) => f.input.IsIndexed === true).map((f) => f.name);

  const id = randomUUID();
  const now = new Date().toISOString();
  const row: TableRow = {
    Id: id, Created: now, Edited: now, CreatedById: w.user.id, EditedById: w.user.id, Name: name, EntityTypeName: entityTypeName,
    DisplayName: input.DisplayName ?? null, MainEntity: mainEntityNumber(mainEntity),
  };
  await applyChange(w.schema, { kind: 'add-table', entitySet: name, entityType: entityTypeName, ...(mainEntity ? { mainEntity } : {}), properties, ...(indexed.length > 0 ? { indexed } : {}) }, {
    inTransaction: async (trx, next) => {
      await trx(tableIn(next)).insert(row);
      await insertFieldRows(trx, next, row, fields, now, w.user.id);
    },
  });
  return { kind: 'created', key: id };
}

/** One FieldDefinition row per property of the new type: the system members as declared rows, the given fields as custom ones. */
async function insertFieldRows(trx: Knex.Transaction, next: EdmModel, table: TableRow, fields: readonly NewField[], now: string, userId: string | null): Promise<void> {
  const type = next.entityTypes.get(`${next.namespace}.${table.EntityTypeName}`);
  if (!type) throw new Error(`the change did not add ${table.EntityTypeName}`);
  const custom = new Map(fields.map((f) => [f.name, f]));
  const rows: FieldRow[] = type.properties.filter((p) => !p.hidden).map((p) => {
    const field = custom.get(p.name);
    if (!field) return { ...declaredFieldRow(next, type, p.name), TableDefinitionId: table.Id };
    const { shape, input } = field;
    return {
      Id: randomUUID(), Created: now, Edited: now, CreatedById: userId, EditedById: userId, EntityType: type.name, Name: p.name,
      DisplayName: input.DisplayName ?? null, FieldType: fieldTypeNumber(shape.fieldType), Length: shape.length ?? null,
      Precision: shape.precision ?? null, Scale: shape.scale ?? null, IsNullable: shape.isNullable, IsIndexed: input.IsIndexed === true,
      DefaultValue: shape.defaultValue ?? null, IsCustom: true, PicklistId: shape.picklistId ?? null, TableDefinitionId: table.Id,
    };
  });
  if (rows.length > 0) await trx(fieldsTableIn(next)).insert(rows);
}

async function storedRow(knex: Knex, model: EdmModel, key: string | undefined): Promise<TableRow> {
  if (key === undefined) throw new ODataError('METHOD_NOT_ALLOWED', `Address one table: ${TABLE_DEFINITIONS_SET}(<Id>)`);
  const [row] = await knex(tableIn(model)).where('Id', key) as TableRow[];
  if (!row) throw new ODataError('NOT_FOUND', `No table definition has the Id ${key}`);
  const main = row.MainEntity === null || row.MainEntity === undefined ? null : Number(row.MainEntity);
  return { ...row, Id: String(row.Id).toLowerCase(), MainEntity: main };
}

async function updateTable(w: DefinitionWrite, mode: 'merge' | 'replace'): Promise<DefinitionOutcome> {
  const row = await storedRow(w.knex, w.model, w.key);
  const input = readTableInput(w.body ?? {});
  if (input.Fields !== undefined) throw invalid('Fields of a table change through FieldDefinitions, not through its TableDefinition', 'Fields');
  const stored = { Name: row.Name, EntityTypeName: row.EntityTypeName, MainEntity: mainEntityOf(row.MainEntity) };
  for (const member of IDENTITY) {
    if (input[member] !== undefined && input[member] !== stored[member]) throw invalid(`${member} of a table cannot change: only DisplayName may`, member);
  }
  const displayName = mode === 'replace' ? input.DisplayName ?? null : input.DisplayName;
  const change: Partial<TableRow> = { Edited: new Date().toISOString(), EditedById: w.user.id, ...(displayName === undefined ? {} : { DisplayName: displayName }) };
  await w.knex(tableIn(w.model)).where('Id', row.Id).update(change);
  return { kind: 'updated', key: row.Id };
}

async function deleteTable(w: DefinitionWrite): Promise<DefinitionOutcome> {
  const row = await storedRow(w.knex, w.model, w.key);
  await applyChange(w.schema, { kind: 'drop-table', entitySet: row.Name }, {
    inTransaction: async (trx, next) => {
      await refuseIfCriteriaUse(trx, w.model, next, `The table ${row.Name}`);
      await trx(fieldsTableIn(next)).where('TableDefinitionId', row.Id).orWhere('EntityType', row.EntityTypeName).delete();
      await trx(tableIn(next)).where('Id', row.Id).delete();
    },
  });
  return { kind: 'deleted' };
}
