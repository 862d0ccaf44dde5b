/** Pure, deterministic generation of the CRM demo data set (each table from its own PRNG stream), as rows keyed by storage column name. */
import { Random } from './random';
import * as W from './words';
import {
  DEFAULT_SEED, isoDate, seedCounts, stamps, topLevelCount, type SeedContext, type SeedDataset, type SeedOptions, type SeedRow,
} from './dataset';
import { generateSales, generateWork } from './generate-sales';

function idList(seed: number, table: string, count: number): string[] {
  const r = Random.stream(seed, `ids:${table}`);
  return Array.from({ length: count }, () => r.uuid());
}

function phone(r: Random): string {
  return `(${r.int(201, 989)}) 555-${String(r.int(0, 9999)).padStart(4, '0')}`;
}

function address(r: Random, prefix: string): SeedRow {
  const [state, cities] = r.chance(0.3) ? W.STATES[0] : r.pick(W.STATES);
  return {
    [`${prefix}_Line1`]: `${r.int(1, 9999)} ${r.pick(W.STREETS)} ${r.pick(W.STREET_SUFFIXES)}`,
    [`${prefix}_Line2`]: r.chance(0.1) ? `Suite ${r.int(100, 999)}` : null,
    [`${prefix}_City`]: r.pick(cities),
    [`${prefix}_State`]: state,
    [`${prefix}_PostalCode`]: String(r.int(10000, 99999)),
    [`${prefix}_Country`]: 'USA',
  };
}

function noAddress(prefix: string): SeedRow {
  const row: SeedRow = {};
  for (const part of ['Line1', 'Line2', 'City', 'State', 'PostalCode', 'Country']) row[`${prefix}_${part}`] = null;
  return row;
}

function lastName(r: Random): string {
  return r.chance(0.35) ? r.pick(W.S_LAST_NAMES) : r.pick(W.LAST_NAMES);
}

function slug(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '');
}

/** User i is also contact i (Users.ContactId, set by an update) and carries that contact's name. */
function users(ctx: SeedContext, firstNames: readonly string[], lastNames: readonly string[]): SeedRow[] {
  const r = ctx.stream('Users');
  return ctx.ids.Users.map((Id, i) => {
    const first = i < firstNames.length ? firstNames[i] : r.pick(W.FIRST_NAMES);
    const last = i < lastNames.length ? lastNames[i] : lastName(r);
    const userName = `${slug(first).slice(0, 1)}${slug(last)}${i + 1}`;
    const role = i === 0 ? 0 : r.weighted([[1, 10], [2, 80], [3, 5], [4, 5]] as const);
    return {
      Id, ...stamps(r), UserName: userName, DisplayName: `${first} ${last}`, Email: `${userName}@example.com`,
      Role: role, IsActive: i === 0 || r.chance(0.95), ContactId: null,
    };
  });
}

function teams(ctx: SeedContext): { teams: SeedRow[]; members: SeedRow[] } {
  const r = ctx.stream('Teams');
  const teamIds = ctx.ids.Teams;
  const rows = teamIds.map((Id, i) => ({
    Id, ...stamps(r), Name: i < W.TEAM_NAMES.length ? W.TEAM_NAMES[i] : `${W.TEAM_NAMES[i % W.TEAM_NAMES.length]} ${Math.floor(i / W.TEAM_NAMES.length) + 1}`,
  }));
  const members: SeedRow[] = [];
  ctx.ids.Users.forEach((UserId, i) => {
    const home = i % teamIds.length;
    members.push({ TeamId: teamIds[home], UserId });
    if (teamIds.length > 1 && r.chance(0.3)) members.push({ TeamId: teamIds[(home + r.int(1, teamIds.length - 1)) % teamIds.length], UserId });
  });
  return { teams: rows, members };
}

/** Companies past the top-level share are divisions of a top-level one, named after it. */
function companyFamily(seed: number, count: number): { names: string[]; parents: Int32Array } {
  const r = Random.stream(seed, 'CompanyNames');
  const topLevel = topLevelCount(count, 0.1, 1);
  const names: string[] = [];
  const parents = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    if (i < topLevel) {
      names.push(`${r.pick(W.COMPANY_PREFIXES)} ${r.pick(W.COMPANY_CORES)} ${r.pick(W.COMPANY_SUFFIXES)}`);
      continue;
    }
    parents[i] = r.int(0, topLevel - 1);
    names.push(`${names[parents[i]]} ${r.pick(W.REGIONS)} Division`);
  }
  return { names, parents };
}

function companies(ctx: SeedContext, parents: Int32Array): SeedRow[] {
  const r = ctx.stream('Companies');
  const ids = ctx.ids.Companies;
  return ids.map((Id, i) => {
    const name = ctx.companyNames[i];
    return {
      Id, ...stamps(r), Name: name, Phone: r.chance(0.9) ? phone(r) : null,
      Website: r.chance(0.8) ? `https://www.${slug(name)}.example.com` : null, Industry: r.chance(0.85) ? r.pick(W.INDUSTRIES) : null,
      ...(r.chance(0.95) ? address(r, 'Address') : noAddress('Address')),
      Revenue: r.chance(0.8) ? r.int(10_000, 500_000_000) + r.int(0, 99) / 100 : null,
      EmployeeCount: r.chance(0.8) ? r.int(1, 50_000) : null,
      ParentId: parents[i] >= 0 ? ids[parents[i]] : null, OwnerId: r.pick(ctx.ids.Users),
    };
  });
}

function contacts(ctx: SeedContext, firstNames: readonly string[], lastNames: readonly string[]): SeedRow[] {
  const r = ctx.stream('Contacts');
  const companyIds = ctx.ids.Companies;
  return ctx.ids.Contacts.map((Id, i) => {
    const first = firstNames[i];
    const last = lastNames[i];
    const company = ctx.contactCompany[i];
    const birth = r.chance(0.7) ? isoDate(Date.UTC(r.int(1950, 2004), r.int(0, 11), r.int(1, 28))) : null;
    return {
      Id, ...stamps(r), FirstName: first, LastName: last, FullName: `${first} ${last}`,
      JobTitle: r.chance(0.85) ? r.pick(W.JOB_TITLES) : null,
      EmailAddress: `${slug(first)}.${slug(last)}${i + 1}@${company >= 0 ? slug(ctx.companyNames[company]) : 'mail'}.example.com`,
      BusinessPhone: r.chance(0.9) ? phone(r) : null, MobilePhone: r.chance(0.6) ? phone(r) : null,
      ...(r.chance(0.9) ? address(r, 'BusinessAddress') : noAddress('BusinessAddress')),
      ...(r.chance(0.4) ? address(r, 'HomeAddress') : noAddress('HomeAddress')),
      BirthDate: birth,
      ContactType: r.chance(0.05) ? null : r.weighted([[0, 40], [1, 10], [2, 30], [3, 10], [4, 10]] as const),
      IsPrivate: r.chance(0.03), CompanyId: company >= 0 ? companyIds[company] : null,
      OwnerId: r.chance(0.97) ? r.pick(ctx.ids.Users) : null,
    };
  });
}

/** Group 0 is dynamic (Criteria set, no static members); the last ~15% are subgroups of static top-level groups. */
function groups(ctx: SeedContext): { groups: SeedRow[]; contacts: SeedRow[]; companies: SeedRow[] } {
  const r = ctx.stream('Groups');
  const ids = ctx.ids.Groups;
  const topLevel = topLevelCount(ids.length, 0.15, 2);
  const rows: SeedRow[] = [];
  const contactLinks: SeedRow[] = [];
  const companyLinks: SeedRow[] = [];
  ids.forEach((Id, i) => {
    const parent = i >= topLevel ? r.int(1, topLevel - 1) : -1;
    const dynamic = i === 0;
    const base = W.GROUP_NAMES[i % W.GROUP_NAMES.length];
    const name = dynamic ? 'California Contacts' : i < W.GROUP_NAMES.length ? base : `${base} ${Math.floor(i / W.GROUP_NAMES.length) + 1}`;
    rows.push({
      Id, ...stamps(r), Name: parent >= 0 ? `${name} (${rows[parent].Name})` : name,
      Description: r.chance(0.5) ? `Contacts for ${name.toLowerCase()}` : null,
      Criteria: dynamic ? "BusinessAddress/State eq 'CA'" : null,
      ParentId: parent >= 0 ? ids[parent] : null, OwnerId: r.chance(0.9) ? r.pick(ctx.ids.Users) : null,
    });
    if (dynamic) return;
    for (const c of r.distinctIndexes(ctx.ids.Contacts.length, r.int(1, 9))) contactLinks.push({ ContactId: ctx.ids.Contacts[c], GroupId: Id });
    const companyCount = r.chance(0.5) ? r.int(1, 3) : 0;
    for (const c of r.distinctIndexes(ctx.ids.Companies.length, companyCount)) companyLinks.push({ CompanyId: ctx.ids.Companies[c], GroupId: Id });
  });
  return { groups: rows, contacts: contactLinks, companies: companyLinks };
}

export function generateDataset(options: SeedOptions): SeedDataset {
  const seed = options.seed ?? DEFAULT_SEED;
  const counts = seedCounts(options.contacts);
  const ids: Record<string, string[]> = {
    Users: idList(seed, 'Users', counts.users), Teams: idList(seed, 'Teams', counts.teams),
    Companies: idList(seed, 'Companies', counts.companies), Contacts: idList(seed, 'Contacts', counts.contacts),
    Groups: idList(seed, 'Groups', counts.groups), Processes: idList(seed, 'Processes', counts.processes),
    Products: idList(seed, 'Products', counts.products), Opportunities: idList(seed, 'Opportunities', counts.opportunities),
    ActivityTypes: idList(seed, 'ActivityTypes', counts.activityTypes), Activities: idList(seed, 'Activities', counts.activities),
    HistoryTypes: idList(seed, 'HistoryTypes', counts.historyTypes), Histories: idList(seed, 'Histories', counts.histories),
    Notes: idList(seed, 'Notes', counts.notes),
  };
  const names = Random.stream(seed, 'ContactNames');
  const firstNames = ids.Contacts.map(() => names.pick(W.FIRST_NAMES));
  const lastNames = ids.Contacts.map(() => lastName(names));
  const contactCompany = new Int32Array(counts.contacts);
  const companyPick = Random.stream(seed, 'ContactCompany');
  for (let i = 0; i < counts.contacts; i++) contactCompany[i] = companyPick.chance(0.8) ? companyPick.int(0, counts.companies - 1) : -1;
  const family = companyFamily(seed, counts.companies);
  const ctx: SeedContext = {
    seed, counts, ids, contactCompany, companyNames: family.names,
    contactNames: ids.Contacts.map((_, i) => `${firstNames[i]} ${lastNames[i]}`),
    stream: (purpose) => Random.stream(seed, purpose),
  };
  const team = teams(ctx);
  const userRows = users(ctx, firstNames, lastNames);
  const group = groups(ctx);
  const sales = generateSales(ctx);
  const work = generateWork(ctx);
  // Each user is also a contact (Users.ContactId); set after Contacts exist, since Contacts.OwnerId → Users.
  const userContacts = userRows.slice(0, Math.min(userRows.length, counts.contacts)).map((u, i) => ({ Id: u.Id, ContactId: ids.Contacts[i] }));
  return {
    tables: [
      { table: 'Users', rows: userRows }, { table: 'Teams', rows: team.teams }, { table: 'Team_User', rows: team.members },
      { table: 'Companies', rows: companies(ctx, family.parents) }, { table: 'Contacts', rows: contacts(ctx, firstNames, lastNames) },
      { table: 'Groups', rows: group.groups }, { table: 'Contact_Group', rows: group.contacts }, { table: 'Company_Group', rows: group.companies },
      ...sales, ...work,
    ],
    updates: [{ table: 'Users', key: 'Id', rows: userContacts }],
  };
}
