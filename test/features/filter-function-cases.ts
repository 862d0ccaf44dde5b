/**
 * One `$filter` case per function and operator a service may list in Capabilities.FilterFunctions:
 * a predicate that is true for a sample row read from the database (plain JS computes every expected
 * value), so `key and (predicate)` must find the row and `key and not (predicate)` must not.
 * Used by filter-functions.test.ts and the Power Query replay.
 */
import type { TestService } from '../helpers/service';
import { iso, type Row } from './support';

export interface FilterCase {
  readonly set: 'Contacts' | 'Companies' | 'Opportunities';
  /** the key of the row the predicate holds for */
  readonly id: string;
  readonly predicate: string;
}

export interface FilterSamples {
  readonly contact: Row;
  readonly opportunity: Row;
  readonly companyId: string;
}

/** OData names (URL Conventions 4.01 §5.1.1) this service does not accept in $filter. */
export const NOT_ACCEPTED: Readonly<Record<string, string>> = {
  matchesPattern: "matchesPattern(LastName,'^A')",
  cast: "cast(LastName,'Edm.String') eq 'A'",
  isof: "isof(LastName,'Edm.String')",
  totalseconds: 'totalseconds(duration\'PT1S\') eq 1',
  hassubset: 'hassubset([1,2],[1])',
  'geo.distance': "geo.distance(geography'POINT(0 0)',geography'POINT(0 0)') eq 0",
};

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** round/floor/ceiling of a decimal text with mid-points away from zero (as URL Conventions §5.1.1.7 and SQL round). */
function integerPart(text: string, mode: 'round' | 'floor' | 'ceiling'): string {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  let n = BigInt(whole);
  const hasFraction = /[1-9]/.test(fraction);
  if (mode === 'round' && fraction !== '' && Number(fraction[0]) >= 5) n += 1n;
  if (mode === 'floor' && negative && hasFraction) n += 1n;
  if (mode === 'ceiling' && !negative && hasFraction) n += 1n;
  return (negative && n !== 0n ? '-' : '') + n.toString();
}

/** Reads sample rows: a contact with a company, a birth date, a contact type and names; an opportunity. */
export async function loadSamples(svc: TestService): Promise<FilterSamples> {
  const contact = await svc.knex('Contacts').whereNotNull('BirthDate').whereNotNull('CompanyId').whereNotNull('ContactType')
    .whereNotNull('FirstName').whereNotNull('LastName').where('IsPrivate', false).orderBy('Id').first();
  const opportunity = await svc.knex('Opportunities').where('IsPrivate', false).orderBy('Id').first();
  if (!contact || !opportunity) throw new Error('the seed has no sample rows');
  return { contact, opportunity, companyId: String(contact.CompanyId) };
}

const CONTACT_TYPES = ['Client', 'PastClient', 'Prospect', 'Vendor', 'Other'];

/** The case for one FilterFunctions entry, or undefined for a name this module does not know. */
export function filterCase(name: string, samples: FilterSamples): FilterCase | undefined {
  const c = samples.contact;
  const id = String(c.Id);
  const last = String(c.LastName);
  const first = String(c.FirstName);
  const n = last.length;
  const birth = String(c.BirthDate instanceof Date ? iso(c.BirthDate)!.slice(0, 10) : c.BirthDate).slice(0, 10);
  const created = iso(c.Created)!; // 2026-12-04T18:45:17.123Z
  const createdDate = new Date(created);
  const type = CONTACT_TYPES[Number(c.ContactType)];
  const middle = last.slice(1, 3);
  const contact = (predicate: string): FilterCase => ({ set: 'Contacts', id, predicate });
  const amount = String(samples.opportunity.Amount);
  const opportunity = (predicate: string): FilterCase => ({ set: 'Opportunities', id: String(samples.opportunity.Id), predicate });
  const company = (predicate: string): FilterCase => ({ set: 'Companies', id: samples.companyId, predicate });
  const cases: Record<string, () => FilterCase> = {
    eq: () => contact(`LastName eq ${quote(last)}`),
    ne: () => contact(`LastName ne ${quote(last + '~')}`),
    gt: () => contact(`BirthDate gt ${addDays(birth, -1)}`),
    ge: () => contact(`BirthDate ge ${birth}`),
    lt: () => contact(`BirthDate lt ${addDays(birth, 1)}`),
    le: () => contact(`BirthDate le ${birth}`),
    has: () => contact(`ContactType has Crm.ContactType'${type}'`),
    in: () => contact(`LastName in (${quote(last)},'~none~')`),
    and: () => contact(`LastName eq ${quote(last)} and FirstName eq ${quote(first)}`),
    or: () => contact(`LastName eq '~none~' or FirstName eq ${quote(first)}`),
    not: () => contact(`not (LastName eq ${quote(last + '~')})`),
    add: () => contact(`length(LastName) add 1 eq ${n + 1}`),
    sub: () => contact(`length(LastName) sub 1 eq ${n - 1}`),
    mul: () => contact(`length(LastName) mul 2 eq ${n * 2}`),
    div: () => contact(`length(LastName) div 2 eq ${Math.floor(n / 2)}`),
    divby: () => contact(`length(LastName) divby 2 eq ${n / 2}`),
    mod: () => contact(`length(LastName) mod 3 eq ${n % 3}`),
    any: () => company(`Contacts/any(x: x/Id eq ${id})`),
    all: () => company(`Contacts/all(x: x/CompanyId eq ${samples.companyId})`),
    contains: () => contact(`contains(LastName,${quote(middle)})`),
    startswith: () => contact(`startswith(LastName,${quote(last.slice(0, 2))})`),
    endswith: () => contact(`endswith(LastName,${quote(last.slice(-2))})`),
    length: () => contact(`length(LastName) eq ${n}`),
    indexof: () => contact(`indexof(LastName,${quote(middle)}) eq ${last.indexOf(middle)}`),
    substring: () => contact(`substring(LastName,1) eq ${quote(last.slice(1))} and substring(LastName,0,2) eq ${quote(last.slice(0, 2))}`),
    tolower: () => contact(`tolower(LastName) eq ${quote(last.toLowerCase())}`),
    toupper: () => contact(`toupper(LastName) eq ${quote(last.toUpperCase())}`),
    trim: () => contact(`trim(concat(concat('  ',LastName),' ')) eq ${quote(last)}`),
    concat: () => contact(`concat(FirstName,LastName) eq ${quote(first + last)}`),
    year: () => contact(`year(BirthDate) eq ${Number(birth.slice(0, 4))} and year(Created) eq ${createdDate.getUTCFullYear()}`),
    month: () => contact(`month(BirthDate) eq ${Number(birth.slice(5, 7))}`),
    day: () => contact(`day(BirthDate) eq ${Number(birth.slice(8, 10))}`),
    hour: () => contact(`hour(Created) eq ${createdDate.getUTCHours()}`),
    minute: () => contact(`minute(Created) eq ${createdDate.getUTCMinutes()}`),
    second: () => contact(`second(Created) eq ${createdDate.getUTCSeconds()}`),
    fractionalseconds: () => contact(`fractionalseconds(Created) eq ${createdDate.getUTCMilliseconds() / 1000}`),
    date: () => contact(`date(Created) eq ${created.slice(0, 10)}`),
    time: () => contact(`time(Created) eq ${created.slice(11, 23)}`),
    now: () => contact('Created le now()'),
    totaloffsetminutes: () => contact('totaloffsetminutes(Created) eq 0'),
    mindatetime: () => contact('Created gt mindatetime()'),
    maxdatetime: () => contact('Created lt maxdatetime()'),
    round: () => opportunity(`round(Amount) eq ${integerPart(amount, 'round')}`),
    floor: () => opportunity(`floor(Amount) eq ${integerPart(amount, 'floor')}`),
    ceiling: () => opportunity(`ceiling(Amount) eq ${integerPart(amount, 'ceiling')}`),
  };
  return Object.prototype.hasOwnProperty.call(cases, name) ? cases[name]() : undefined;
}

/** The names in a `$metadata` document's Capabilities.FilterFunctions (CSDL XML). */
export function advertisedFilterFunctions(metadataXml: string): string[] {
  const m = /<Annotation Term="Org\.OData\.Capabilities\.V1\.FilterFunctions">\s*<Collection>([\s\S]*?)<\/Collection>/.exec(metadataXml);
  if (!m) return [];
  return [...m[1].matchAll(/<String>([^<]*)<\/String>/g)].map((s) => s[1]);
}
