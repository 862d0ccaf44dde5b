/**
 * The negotiated JSON format options (OData JSON Format §3): metadata level and IEEE754 compatibility.
 */
export type MetadataLevel = 'minimal' | 'full' | 'none';

export interface JsonFormat {
  readonly metadata: MetadataLevel;
  /** Int64 and Decimal as strings */
  readonly ieee754: boolean;
}

export function contentType(f: JsonFormat): string {
  return `application/json;odata.metadata=${f.metadata};odata.streaming=true;IEEE754Compatible=${f.ieee754}`;
}
