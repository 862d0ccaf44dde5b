/**
 * Signatures of the canonical functions ($filter/$orderby), checked while planning.
 * OData URL Conventions §5.1.1.5–5.1.1.7.
 */
import type { PrimitiveTypeName } from '../edm/model';
import type { CanonicalFunction } from './plan';

export type TypeFamily = 'string' | 'number' | 'integer' | 'date' | 'datetime' | 'time' | 'temporal-date' | 'temporal-time' | 'any';

export interface FunctionSignature {
  readonly args: readonly TypeFamily[][];
  readonly returns: PrimitiveTypeName | 'same';
}

const S: TypeFamily = 'string';
export const FUNCTIONS: Readonly<Record<CanonicalFunction, FunctionSignature>> = {
  contains: { args: [[S, S]], returns: 'Edm.Boolean' },
  startswith: { args: [[S, S]], returns: 'Edm.Boolean' },
  endswith: { args: [[S, S]], returns: 'Edm.Boolean' },
  length: { args: [[S]], returns: 'Edm.Int32' },
  indexof: { args: [[S, S]], returns: 'Edm.Int32' },
  substring: { args: [[S, 'integer'], [S, 'integer', 'integer']], returns: 'Edm.String' },
  tolower: { args: [[S]], returns: 'Edm.String' },
  toupper: { args: [[S]], returns: 'Edm.String' },
  trim: { args: [[S]], returns: 'Edm.String' },
  concat: { args: [[S, S]], returns: 'Edm.String' },
  year: { args: [['temporal-date']], returns: 'Edm.Int32' },
  month: { args: [['temporal-date']], returns: 'Edm.Int32' },
  day: { args: [['temporal-date']], returns: 'Edm.Int32' },
  hour: { args: [['temporal-time']], returns: 'Edm.Int32' },
  minute: { args: [['temporal-time']], returns: 'Edm.Int32' },
  second: { args: [['temporal-time']], returns: 'Edm.Int32' },
  fractionalseconds: { args: [['temporal-time']], returns: 'Edm.Decimal' },
  date: { args: [['datetime']], returns: 'Edm.Date' },
  time: { args: [['datetime']], returns: 'Edm.TimeOfDay' },
  totaloffsetminutes: { args: [['datetime']], returns: 'Edm.Int32' },
  now: { args: [[]], returns: 'Edm.DateTimeOffset' },
  mindatetime: { args: [[]], returns: 'Edm.DateTimeOffset' },
  maxdatetime: { args: [[]], returns: 'Edm.DateTimeOffset' },
  round: { args: [['number']], returns: 'same' },
  floor: { args: [['number']], returns: 'same' },
  ceiling: { args: [['number']], returns: 'same' },
};

const NUMERIC: readonly PrimitiveTypeName[] = ['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single'];
const INTEGER: readonly PrimitiveTypeName[] = ['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64'];

export function isNumeric(t: PrimitiveTypeName): boolean {
  return NUMERIC.includes(t);
}

export function isInteger(t: PrimitiveTypeName): boolean {
  return INTEGER.includes(t);
}

export function inFamily(t: PrimitiveTypeName, family: TypeFamily): boolean {
  switch (family) {
    case 'string': return t === 'Edm.String';
    case 'number': return isNumeric(t);
    case 'integer': return isInteger(t);
    case 'date': return t === 'Edm.Date';
    case 'datetime': return t === 'Edm.DateTimeOffset';
    case 'time': return t === 'Edm.TimeOfDay';
    case 'temporal-date': return t === 'Edm.Date' || t === 'Edm.DateTimeOffset';
    case 'temporal-time': return t === 'Edm.TimeOfDay' || t === 'Edm.DateTimeOffset';
    case 'any': return true;
  }
}

/** The wider of two numeric types, for arithmetic results. */
export function widerNumeric(a: PrimitiveTypeName, b: PrimitiveTypeName): PrimitiveTypeName {
  const order: PrimitiveTypeName[] = ['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Single', 'Edm.Double'];
  return order[Math.max(order.indexOf(a), order.indexOf(b))];
}
