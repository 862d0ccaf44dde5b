/**
 * The `Prefer` header (OData Protocol §8.2.8): the preferences this service honours.
 */
export interface Preferences {
  readonly maxPageSize?: number;
}

export function parsePrefer(header: string | undefined): Preferences {
  if (!header) return {};
  let maxPageSize: number | undefined;
  for (const item of header.split(',')) {
    const [name, value] = item.split('=').map((s) => s.trim());
    const n = name.toLowerCase();
    if ((n === 'odata.maxpagesize' || n === 'maxpagesize') && /^\d+$/.test(value ?? '') && Number(value) > 0) maxPageSize = Number(value);
  }
  return { maxPageSize };
}
