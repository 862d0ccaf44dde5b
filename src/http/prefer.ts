/**
 * The `Prefer` header (OData Protocol §8.2.8): the preferences this service honours.
 */
export interface Preferences {
  readonly maxPageSize?: number;
  /** `return=minimal` (204 without a body) or `return=representation` (the entity in the body) */
  readonly return?: 'minimal' | 'representation';
  /** `odata.continue-on-error` (4.0) or `continue-on-error` (4.01): a batch goes on after a failed request */
  readonly continueOnError: boolean;
  /** `respond-async`: answer 202 and let the client poll a status monitor */
  readonly respondAsync: boolean;
  /** `omit-values=nulls`: properties whose value is null are left out of the entities answered */
  readonly omitNulls: boolean;
}

export function parsePrefer(header: string | undefined): Preferences {
  if (!header) return { continueOnError: false, respondAsync: false, omitNulls: false };
  let maxPageSize: number | undefined;
  let ret: Preferences['return'];
  let continueOnError = false;
  let respondAsync = false;
  let omitNulls = false;
  for (const item of header.split(',')) {
    const [name, value] = item.split('=').map((s) => s.trim());
    const n = name.toLowerCase();
    if ((n === 'odata.maxpagesize' || n === 'maxpagesize') && /^\d+$/.test(value ?? '') && Number(value) > 0) maxPageSize = Number(value);
    if (n === 'return' && (value === 'minimal' || value === 'representation')) ret = value;
    if ((n === 'odata.continue-on-error' || n === 'continue-on-error') && (value === undefined || value.toLowerCase() === 'true')) continueOnError = true;
    if (n === 'respond-async') respondAsync = true;
    if (n === 'omit-values' && value?.toLowerCase() === 'nulls') omitNulls = true;
  }
  return { maxPageSize, return: ret, continueOnError, respondAsync, omitNulls };
}
