/**
 * Rows → the service's OData JSON (minimal metadata): the same members in the same order, nested complex
 * values (null when all their columns are), enum names, booleans, weak ETags over Edited, the service's
 * keyset $skiptoken. Written by hand for exactly the columns each scenario reads.
 */
import type { Row } from './store';

export const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false';
const CONTACT_TYPES = ['Client', 'PastClient', 'Prospect', 'Vendor', 'Other'];

type Json = Record<string, unknown>;

/** timestamptz arrive as Date from pg, as ISO text from SQLite. */
export const timestamp = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);
export const boolean = (v: unknown): boolean | null => (v === null || v === undefined ? null : v === true || v === 1);
/** The weak ETag the service derives from Edited (Core.OptimisticConcurrency). */
export const etag = (edited: unknown): string => `W/"${String(timestamp(edited))}"`;

function address(row: Row, prefix: 'BusinessAddress' | 'HomeAddress'): Json | null {
  const line1 = row[`${prefix}_Line1`];
  const line2 = row[`${prefix}_Line2`];
  const city = row[`${prefix}_City`];
  const state = row[`${prefix}_State`];
  const postalCode = row[`${prefix}_PostalCode`];
  const country = row[`${prefix}_Country`];
  if (line1 === null && line2 === null && city === null && state === null && postalCode === null && country === null) return null;
  return { Line1: line1, Line2: line2, City: city, State: state, PostalCode: postalCode, Country: country };
}

/** A whole contact; `into` holds the members that come first (an entity answer's @odata.context). */
export function contact(row: Row, into: Json = {}, categories = false): Json {
  into['@odata.etag'] = etag(row.Edited);
  into.Id = row.Id;
  into.Created = timestamp(row.Created);
  into.Edited = timestamp(row.Edited);
  into.CreatedById = row.CreatedById;
  into.EditedById = row.EditedById;
  into.FirstName = row.FirstName;
  into.LastName = row.LastName;
  into.FullName = row.FullName;
  into.JobTitle = row.JobTitle;
  into.EmailAddress = row.EmailAddress;
  into.BusinessPhone = row.BusinessPhone;
  into.MobilePhone = row.MobilePhone;
  into.BusinessAddress = address(row, 'BusinessAddress');
  into.HomeAddress = address(row, 'HomeAddress');
  into.BirthDate = row.BirthDate;
  into.ContactType = row.ContactType === null ? null : CONTACT_TYPES[Number(row.ContactType)] ?? String(row.ContactType);
  into.IsPrivate = boolean(row.IsPrivate);
  if (categories) into.Categories = collectionOfStrings(row.Categories);
  into.CompanyId = row.CompanyId;
  into.OwnerId = row.OwnerId;
  return into;
}

/** A collection of strings stored as JSON text (SQLite) or json (PostgreSQL). */
function collectionOfStrings(v: unknown): unknown {
  if (v === null || v === undefined || v === '[]') return [];
  return typeof v === 'string' ? JSON.parse(v) : v;
}

/** `{"@odata.context":…,"value":[…]}` (+ next link), as one string. */
export function collection(context: string, value: readonly unknown[], nextLink?: string): string {
  const body: Json = { '@odata.context': context, value };
  if (nextLink !== undefined) body['@odata.nextLink'] = nextLink;
  return JSON.stringify(body);
}

/** The service's $skiptoken: base64url of {m: model version, v: the last row's sort values and key}. */
export function skiptoken(modelVersion: string, values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ m: modelVersion, v: values })).toString('base64url');
}

/** An Edm.Decimal as the service writes it: a JSON number digit for digit (canonical: no trailing zeros). */
export function decimalText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  const text = String(v);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** An exact sum in integer units of 10^-scale (number, bigint or digit text) as canonical decimal text. */
export function unitsText(units: unknown, scale: number): string {
  const digits = BigInt(String(units)).toString();
  const negative = digits.startsWith('-');
  const abs = (negative ? digits.slice(1) : digits).padStart(scale + 1, '0');
  const text = `${abs.slice(0, -scale)}.${abs.slice(-scale)}`.replace(/\.?0+$/, '');
  return negative && text !== '0' ? `-${text}` : text;
}
