/**
 * One JSON value of a request body → the canonical JS value of its EDM type (OData JSON Format §7),
 * or the reason it is not one. Pure: no model lookups beyond the type given, no database.
 */
import type { EdmEnumType, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { decimalOf, formatDecimal, integerDigits, parseDecimal, roundDecimal, type Decimal } from '../decimal';
import { parseDate, parseDateTimeOffset, parseDuration, parseTimeOfDay } from '../uri/temporal';

/** A value ready to bind: enums as their integer, date-times as UTC text, GUIDs lower-case. */
export type StoredValue = string | number | boolean | Buffer | null;

export type Conversion =
  | { readonly ok: true; readonly value: StoredValue }
  | { readonly ok: false; readonly code: 'TYPE_MISMATCH' | 'TOO_LONG' | 'UNKNOWN_ENUM_MEMBER'; readonly message: string };

const INT_RANGES: Partial<Record<PrimitiveTypeName, readonly [number, number]>> = {
  'Edm.Byte': [0, 255], 'Edm.SByte': [-128, 127], 'Edm.Int16': [-32768, 32767],
  'Edm.Int32': [-2147483648, 2147483647], 'Edm.Int64': [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ok = (value: StoredValue): Conversion => ({ ok: true, value });
const mismatch = (type: string, value: unknown): Conversion => ({ ok: false, code: 'TYPE_MISMATCH', message: `expected ${type}, got ${describe(value)}` });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A non-null JSON value of a single-valued primitive or enum property. */
export function convertValue(property: EdmProperty, value: unknown): Conversion {
  const t = property.type;
  switch (t.kind) {
    case 'enum': return convertEnum(t.type, value);
    case 'primitive': {
      const converted = convertPrimitive(t.name, value);
      if (converted.ok && typeof converted.value === 'string' && property.maxLength !== undefined && [...converted.value].length > property.maxLength) {
        return { ok: false, code: 'TOO_LONG', message: `longer than the maximum of ${property.maxLength} characters` };
      }
      if (converted.ok && typeof converted.value === 'string' && t.name === 'Edm.Decimal') return fitDecimal(property, converted.value);
      return converted;
    }
    case 'complex': return mismatch(t.type.qualifiedName, value);
  }
}

/**
 * A decimal rounded to the property's scale (half away from zero, as PostgreSQL's numeric(p,s) does),
 * refused when its integer part needs more digits than precision − scale: both engines then store the same value.
 */
function fitDecimal(property: EdmProperty, text: string): Conversion {
  const value = decimalOf(text) as Decimal;
  const rounded = property.scale === undefined ? value : roundDecimal(value, property.scale, 'half-away-from-zero');
  if (property.precision !== undefined && integerDigits(rounded) > property.precision - (property.scale ?? 0)) {
    return { ok: false, code: 'TYPE_MISMATCH', message: `${text} does not fit Edm.Decimal(${property.precision},${property.scale ?? 0})` };
  }
  return ok(formatDecimal(rounded));
}

export function convertEnum(type: EdmEnumType, value: unknown): Conversion {
  if (typeof value === 'string') {
    const member = type.members.get(value) ?? [...type.members].find(([name]) => name.toLowerCase() === value.toLowerCase())?.[1];
    if (member !== undefined) return ok(member);
    if (/^-?\d+$/.test(value) && type.memberByValue.has(Number(value))) return ok(Number(value));
    return { ok: false, code: 'UNKNOWN_ENUM_MEMBER', message: `'${value}' is not a member of ${type.qualifiedName} (${[...type.members.keys()].join(', ')})` };
  }
  if (typeof value === 'number' && type.memberByValue.has(value)) return ok(value);
  return mismatch(`a member name of ${type.qualifiedName}`, value);
}

export function convertPrimitive(type: PrimitiveTypeName, value: unknown): Conversion {
  switch (type) {
    case 'Edm.String': return typeof value === 'string' ? ok(value) : mismatch('a string', value);
    case 'Edm.Boolean': return typeof value === 'boolean' ? ok(value) : mismatch('true or false', value);
    case 'Edm.Guid': return typeof value === 'string' && GUID.test(value) ? ok(value.toLowerCase()) : mismatch('a GUID', value);
    case 'Edm.Byte': case 'Edm.SByte': case 'Edm.Int16': case 'Edm.Int32': case 'Edm.Int64': {
      // IEEE754Compatible clients send Int64 as a string.
      const n = typeof value === 'string' && type === 'Edm.Int64' && /^-?\d+$/.test(value) ? Number(value) : value;
      const [min, max] = INT_RANGES[type]!;
      return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? ok(n) : mismatch(`an integer of ${type}`, value);
    }
    case 'Edm.Decimal': {
      // exact digits from a string (IEEE754Compatible); a JSON number as the shortest text of its double
      const exact = typeof value === 'string' ? parseDecimal(value.trim()) : typeof value === 'number' && Number.isFinite(value) ? decimalOf(value) : undefined;
      return exact ? ok(formatDecimal(exact)) : mismatch('a decimal number (Edm.Decimal)', value);
    }
    case 'Edm.Double': case 'Edm.Single': {
      const n = typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? ok(n) : mismatch(`a number (${type})`, value);
    }
    case 'Edm.Date': return typeof value === 'string' && parseDate(value) ? ok(value) : mismatch('a date YYYY-MM-DD', value);
    case 'Edm.DateTimeOffset': {
      const utc = typeof value === 'string' ? parseDateTimeOffset(value) : undefined;
      return utc ? ok(utc) : mismatch('a date-time with offset (ISO 8601)', value);
    }
    case 'Edm.TimeOfDay': {
      const time = typeof value === 'string' ? parseTimeOfDay(value) : undefined;
      return time ? ok(time) : mismatch('a time of day HH:MM:SS', value);
    }
    case 'Edm.Duration': return typeof value === 'string' && parseDuration(value) !== undefined ? ok(value) : mismatch('an ISO 8601 duration', value);
    case 'Edm.Binary': {
      if (typeof value !== 'string' || !/^[A-Za-z0-9_\-+/]*=*$/.test(value)) return mismatch('base64url text', value);
      return ok(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    }
  }
}

/** The text of a `/$value` request body as a value of the property's type. */
export function convertRawText(property: EdmProperty, text: string): Conversion {
  const t = property.type;
  if (t.kind === 'enum') return convertEnum(t.type, text);
  if (t.kind !== 'primitive') return mismatch('a primitive value', text);
  switch (t.name) {
    case 'Edm.String': return convertValue(property, text);
    case 'Edm.Boolean': return text === 'true' || text === 'false' ? ok(text === 'true') : mismatch('true or false', text);
    case 'Edm.Byte': case 'Edm.SByte': case 'Edm.Int16': case 'Edm.Int32': case 'Edm.Int64':
    case 'Edm.Decimal': return convertValue(property, text.trim());
    case 'Edm.Double': case 'Edm.Single':
      return /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? convertPrimitive(t.name, Number(text.trim())) : mismatch(`a number (${t.name})`, text);
    default: return convertPrimitive(t.name, text.trim());
  }
}
