/**
 * The negotiated JSON format options (OData JSON Format §3): metadata level and IEEE754 compatibility.
 */
export type MetadataLevel = 'minimal' | 'full' | 'none';

export interface JsonFormat {
  readonly metadata: MetadataLevel;
  /** Int64 and Decimal as strings */
  readonly ieee754: boolean;
}

/**
 * An Edm.Decimal (canonical decimal text) in JSON: the exact digits as a string with IEEE754Compatible,
 * else a JSON number (which a JSON reader takes as a double: the reason IEEE754Compatible exists).
 */
export function decimalJson(text: string, f: JsonFormat): string | number {
  return f.ieee754 ? text : Number(text);
}

export function contentType(f: JsonFormat): string {
  return `application/json;odata.metadata=${f.metadata};odata.streaming=true;IEEE754Compatible=${f.ieee754}`;
}
