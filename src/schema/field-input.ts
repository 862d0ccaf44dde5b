/**
 * A FieldDefinitions request body, read and typed: the writable members with their JSON types.
 * Server-maintained members (Id, Created, Edited, …, IsCustom, TableDefinitionId) are ignored, as
 * the write engine ignores Core.Computed values; anything else unknown is a 400 naming it.
 */
import { ODataError } from '../errors/odata-error';
import type { JsonObject } from '../json';
import { FIELD_TYPES, withDefaults, type FieldShape, type FieldType } from './field-types';

export interface FieldInput {
  readonly EntityType?: string;
  readonly Name?: string;
  readonly DisplayName?: string | null;
  readonly FieldType?: FieldType;
  readonly Length?: number | null;
  readonly Precision?: number | null;
  readonly Scale?: number | null;
  readonly IsNullable?: boolean;
  readonly IsIndexed?: boolean;
  readonly DefaultValue?: string | null;
  readonly PicklistId?: string | null;
}

export type FieldMember = keyof FieldInput;

const SERVER_MAINTAINED: ReadonlySet<string> = new Set(['Id', 'Created', 'Edited', 'CreatedById', 'EditedById', 'IsCustom', 'TableDefinitionId']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Reader = (value: unknown, member: string) => unknown;

const text = (max: number, nullable: boolean): Reader => (value, member) => {
  if (value === null && nullable) return null;
  if (typeof value !== 'string' || value.length > max) throw invalid(`${member} must be a string of at most ${max} characters${nullable ? ' or null' : ''}`, member);
  return value;
};
const integer: Reader = (value, member) => {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(`${member} must be an integer or null`, member);
  return value;
};
const boolean: Reader = (value, member) => {
  if (typeof value !== 'boolean') throw invalid(`${member} must be true or false`, member);
  return value;
};
const fieldType: Reader = (value, member) => {
  if (typeof value !== 'string' || !(FIELD_TYPES as readonly string[]).includes(value)) throw invalid(`${member} must be one of ${FIELD_TYPES.join(', ')}`, member);
  return value;
};
const guid: Reader = (value, member) => {
  if (value === null) return null;
  if (typeof value !== 'string' || !GUID.test(value)) throw invalid(`${member} must be a GUID or null`, member);
  return value.toLowerCase();
};

const READERS: Readonly<Record<FieldMember, Reader>> = {
  EntityType: text(64, false), Name: text(64, false), DisplayName: text(128, true), FieldType: fieldType,
  Length: integer, Precision: integer, Scale: integer, IsNullable: boolean, IsIndexed: boolean,
  DefaultValue: text(4000, true), PicklistId: guid,
};

function invalid(message: string, target: string): ODataError {
  return new ODataError('VALIDATION_FAILED', message, { target });
}

export function readFieldInput(body: JsonObject): FieldInput {
  const out: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(body)) {
    if (member.startsWith('@') || SERVER_MAINTAINED.has(member)) continue;
    const read = (READERS as Readonly<Record<string, Reader>>)[member];
    if (!read) throw new ODataError('UNKNOWN_PROPERTY', `FieldDefinition has no writable member ${member}`, { target: member });
    out[member] = read(value, member);
  }
  return out as FieldInput;
}

/** The value of a member that must be given (400 naming it otherwise). */
export function required<K extends FieldMember>(input: FieldInput, member: K): NonNullable<FieldInput[K]> {
  const value = input[member];
  if (value === undefined || value === null) throw invalid(`${member} is required`, member);
  return value as NonNullable<FieldInput[K]>;
}

/** `undefined` for absent and null alike (a facet left to its default). */
export function optional<K extends FieldMember>(input: FieldInput, member: K): NonNullable<FieldInput[K]> | undefined {
  const value = input[member];
  return value === null || value === undefined ? undefined : value as NonNullable<FieldInput[K]>;
}

/** The field a POSTed definition describes, facets defaulted (a FieldDefinition, or one deep-inserted with a TableDefinition). */
export function fieldShapeOf(input: FieldInput): FieldShape {
  return withDefaults({
    fieldType: required(input, 'FieldType'), length: optional(input, 'Length'), precision: optional(input, 'Precision'), scale: optional(input, 'Scale'),
    isNullable: input.IsNullable ?? true, defaultValue: optional(input, 'DefaultValue'), picklistId: optional(input, 'PicklistId'),
  });
}
