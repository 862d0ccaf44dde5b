/**
 * The `Prefer` header (OData Protocol §8.2.8): the preferences this service honours.
 */
export interface Preferences {
  readonly maxPageSize?: number;
  /** `return=minimal` (204 without a body) or `return=representation` (the entity in the body) */
  readonly return?: 'minimal' | 'representation';
}

export function parsePrefer(header: string | undefined): Preferences {
  if (!header) return {};
  let maxPageSize: number | undefined;
  let ret: Preferences['return'];
  for (const item of header.split(',')) {
    const [name, value] = item.split('=').map((s) => s.trim());
    const n = name.toLowerCase();
    if ((n === 'odata.maxpagesize' || n === 'maxpagesize') && /^\d+$/.test(value ?? '') && Number(value) > 0) maxPageSize = Number(value);
    if (n === 'return' && (value === 'minimal' || value === 'representation')) ret = value;
  }
  return { maxPageSize, return: ret };
}
