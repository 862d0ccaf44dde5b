/**
 * The negotiated JSON format options (OData JSON Format §3): metadata level and IEEE754 compatibility.
 */
import { formatUtc } from '../uri/temporal';
import { exactNumber, type ExactNumber } from './json-text';

export type MetadataLevel = 'minimal' | 'full' | 'none';

export interface JsonFormat {
  readonly metadata: MetadataLevel;
  /** Int64 and Decimal as strings */
  readonly ieee754: boolean;
}

/**
 * An Edm.Decimal (canonical decimal text) or Edm.Int64 (integer text) in JSON: the exact digits as a
 * string with IEEE754Compatible, else a JSON number written digit for digit (`exactNumber`: never
 * through a JavaScript double; a client that reads numbers as doubles is what IEEE754Compatible is for).
 * The body must be made with `jsonText`/`unmarkNumbers` (src/serialize/json-text.ts).
 */
export function decimalJson(text: string, f: JsonFormat): string | ExactNumber {
  return f.ieee754 ? text : exactNumber(text);
}

export function contentType(f: JsonFormat): string {
  return `application/json;odata.metadata=${f.metadata};odata.streaming=true;IEEE754Compatible=${f.ieee754}`;
}

const FULL_DATE_TIME_OFFSET = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Edm.DateTimeOffset as JSON Format §7.1 and ODataLib require it: with seconds and with `Z` or an
 * offset. Stored text already has that form; anything else (`2026-01-02T10:00Z`, a space for the
 * `T`, no zone: UTC) is rewritten in UTC.
 */
export function canonicalDateTimeOffset(text: string): string {
  if (FULL_DATE_TIME_OFFSET.test(text)) return text;
  const iso = text.replace(' ', 'T');
  const date = new Date(/(?:Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? text : formatUtc(date);
}
