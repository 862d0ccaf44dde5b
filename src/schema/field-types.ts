/**
 * `Crm.FieldType` ↔ EDM (issue 17, item 4): the property a custom field's definition row asks for,
 * and, the other way round, the field type a declared property reads as in its FieldDefinitions row.
 */
import type { CsdlPropertyDefinition } from '../edm/schema-change';
import type { EdmProperty } from '../edm/model';
import { ODataError } from '../errors/odata-error';

export const FIELD_TYPES = [
  'Text', 'TextArea', 'Url', 'Email', 'Phone', 'SingleSelect', 'MultiSelect', 'Boolean', 'Date', 'DateTime', 'Integer', 'Decimal', 'Currency',
] as const;
export type FieldType = typeof FIELD_TYPES[number];

export const DEFAULT_LENGTH = 255;
export const MAX_LENGTH = 4000;
export const DEFAULT_PRECISION = 18;
export const DEFAULT_SCALE = 2;
const MAX_PRECISION = 38;

/** Vocabulary terms the write path checks values against (src/edm/text-formats.ts). */
export const IS_URL = '@Org.OData.Core.V1.IsURL';
export const IS_EMAIL_ADDRESS = '@Crm.IsEmailAddress';
export const IS_PHONE_NUMBER = '@Crm.IsPhoneNumber';
/** The picklist a SingleSelect or MultiSelect property takes its values from (term declared in the Crm schema). */
export const PICKLIST_ID = '@Crm.PicklistId';

/** What a definition row says about the property it defines. */
export interface FieldShape {
  readonly fieldType: FieldType;
  readonly length?: number;
  readonly precision?: number;
  readonly scale?: number;
  readonly isNullable: boolean;
  readonly defaultValue?: string;
  readonly picklistId?: string;
}

const TEXT_TYPES: ReadonlySet<FieldType> = new Set(['Text', 'TextArea', 'Url', 'Email', 'Phone', 'SingleSelect', 'MultiSelect']);
const ANNOTATION_OF: Partial<Record<FieldType, string>> = { Url: IS_URL, Email: IS_EMAIL_ADDRESS, Phone: IS_PHONE_NUMBER };

export function isTextField(type: FieldType): boolean {
  return TEXT_TYPES.has(type);
}

export function isDecimalField(type: FieldType): boolean {
  return type === 'Decimal' || type === 'Currency';
}

function invalid(message: string, target: string): ODataError {
  return new ODataError('VALIDATION_FAILED', message, { target });
}

/** The facets a shape gets when the row leaves them out; throws 400 on facets that do not fit the type. */
export function withDefaults(shape: FieldShape): FieldShape {
  const { fieldType } = shape;
  if (isTextField(fieldType)) {
    if (shape.precision !== undefined || shape.scale !== undefined) throw invalid(`${fieldType} fields have a Length, not Precision or Scale`, shape.precision !== undefined ? 'Precision' : 'Scale');
    const length = shape.length ?? DEFAULT_LENGTH;
    if (!Number.isInteger(length) || length < 1 || length > MAX_LENGTH) throw invalid(`Length must be an integer from 1 to ${MAX_LENGTH}`, 'Length');
    if ((fieldType === 'SingleSelect' || fieldType === 'MultiSelect') && shape.picklistId === undefined) throw invalid(`${fieldType} fields need a PicklistId`, 'PicklistId');
    if (fieldType !== 'SingleSelect' && fieldType !== 'MultiSelect' && shape.picklistId !== undefined) throw invalid('Only SingleSelect and MultiSelect fields take a PicklistId', 'PicklistId');
    return { ...shape, length };
  }
  if (shape.length !== undefined) throw invalid(`${fieldType} fields have no Length`, 'Length');
  if (shape.picklistId !== undefined) throw invalid('Only SingleSelect and MultiSelect fields take a PicklistId', 'PicklistId');
  if (isDecimalField(fieldType)) {
    const precision = shape.precision ?? DEFAULT_PRECISION;
    const scale = shape.scale ?? DEFAULT_SCALE;
    if (!Number.isInteger(precision) || precision < 1 || precision > MAX_PRECISION) throw invalid(`Precision must be an integer from 1 to ${MAX_PRECISION}`, 'Precision');
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) throw invalid('Scale must be an integer from 0 to Precision', 'Scale');
    return { ...shape, precision, scale };
  }
  if (shape.precision !== undefined || shape.scale !== undefined) throw invalid(`${fieldType} fields have no Precision or Scale`, shape.precision !== undefined ? 'Precision' : 'Scale');
  return shape;
}

/** The CSDL property a (defaulted) shape defines. */
export function propertyDefinition(shape: FieldShape): CsdlPropertyDefinition {
  const nullable = { $Nullable: shape.isNullable };
  const defaultValue = shape.defaultValue === undefined ? {} : { $DefaultValue: defaultLiteral(shape) };
  const { fieldType } = shape;
  switch (fieldType) {
    case 'Text': case 'TextArea': case 'Url': case 'Email': case 'Phone': {
      const annotation = ANNOTATION_OF[fieldType];
      return { $MaxLength: shape.length, ...nullable, ...defaultValue, ...(annotation ? { [annotation]: true } : {}) };
    }
    case 'SingleSelect': return { $MaxLength: shape.length, ...nullable, ...defaultValue, [PICKLIST_ID]: shape.picklistId };
    case 'MultiSelect': return { $Collection: true, $MaxLength: shape.length, ...nullable, [PICKLIST_ID]: shape.picklistId };
    case 'Boolean': return { $Type: 'Edm.Boolean', ...nullable, ...defaultValue };
    case 'Date': return { $Type: 'Edm.Date', ...nullable, ...defaultValue };
    case 'DateTime': return { $Type: 'Edm.DateTimeOffset', $Precision: 3, ...nullable, ...defaultValue };
    case 'Integer': return { $Type: 'Edm.Int32', ...nullable, ...defaultValue };
    case 'Decimal': case 'Currency': return { $Type: 'Edm.Decimal', $Precision: shape.precision, $Scale: shape.scale, ...nullable, ...defaultValue };
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** DefaultValue (literal text) as the CSDL default of the shape's type; 400 when it is not one. */
function defaultLiteral(shape: FieldShape): string | number | boolean {
  const text = shape.defaultValue ?? '';
  const bad = (what: string) => invalid(`DefaultValue ${JSON.stringify(text)} is not ${what}`, 'DefaultValue');
  switch (shape.fieldType) {
    case 'Text': case 'TextArea': case 'Url': case 'Email': case 'Phone': case 'SingleSelect': case 'MultiSelect':
      if (text.length > (shape.length ?? DEFAULT_LENGTH)) throw bad(`at most Length (${shape.length ?? DEFAULT_LENGTH}) characters long`);
      return text;
    case 'Boolean':
      if (text !== 'true' && text !== 'false') throw bad('true or false');
      return text === 'true';
    case 'Integer': {
      const n = Number(text);
      if (!/^-?\d+$/.test(text) || n < -2147483648 || n > 2147483647) throw bad('a 32-bit integer');
      return n;
    }
    case 'Decimal': case 'Currency': {
      if (!DECIMAL.test(text)) throw bad('a decimal number');
      const [whole, fraction = ''] = text.replace('-', '').split('.');
      if (fraction.length > (shape.scale ?? DEFAULT_SCALE) || whole.replace(/^0+/, '').length > (shape.precision ?? DEFAULT_PRECISION) - (shape.scale ?? DEFAULT_SCALE)) throw bad('within Precision and Scale');
      return text;
    }
    case 'Date':
      if (!DATE.test(text) || Number.isNaN(Date.parse(text))) throw bad('a date (YYYY-MM-DD)');
      return text;
    case 'DateTime':
      if (!DATE_TIME.test(text) || Number.isNaN(Date.parse(text))) throw bad('a date and time with offset');
      return new Date(text).toISOString();
  }
}

/** The field type a declared property reads as (undefined: a type custom fields do not have: key, enum, complex, …). */
export function fieldTypeOfProperty(property: EdmProperty, annotations: Readonly<Record<string, unknown>>): FieldType | undefined {
  if (property.type.kind !== 'primitive') return undefined;
  if (property.collection) return property.type.name === 'Edm.String' ? 'MultiSelect' : undefined;
  switch (property.type.name) {
    case 'Edm.String':
      if (annotations[IS_EMAIL_ADDRESS] === true) return 'Email';
      if (annotations[IS_PHONE_NUMBER] === true) return 'Phone';
      if (annotations[IS_URL] === true) return 'Url';
      if (annotations[PICKLIST_ID] !== undefined) return 'SingleSelect';
      return property.maxLength === undefined || property.maxLength > DEFAULT_LENGTH ? 'TextArea' : 'Text';
    case 'Edm.Boolean': return 'Boolean';
    case 'Edm.Date': return 'Date';
    case 'Edm.DateTimeOffset': return 'DateTime';
    case 'Edm.Byte': case 'Edm.SByte': case 'Edm.Int16': case 'Edm.Int32': case 'Edm.Int64': return 'Integer';
    case 'Edm.Decimal': return 'Decimal';
    default: return undefined;
  }
}
