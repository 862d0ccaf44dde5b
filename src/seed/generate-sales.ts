/** Pure generation of the sales and work tables: processes, stages, products, opportunities and their lines; activities, histories, notes; their links. */
import type { Random } from './random';
import * as W from './words';
import { DAY, REFERENCE_TIME, isoDate, isoTime, stamps, type SeedContext, type SeedRow, type SeedTable } from './dataset';

/** OpportunityProduct.Total in units of 1/10000: Quantity × Price × (1 − Discount/100), exact in integers. */
export function lineTotalUnits(quantity: number, priceCents: number, discountPercent: number): number {
  return quantity * priceCents * (100 - discountPercent);
}

function stageProbability(sequence: number, stageCount: number): number {
  return Math.round((100 * sequence) / (stageCount + 1));
}

export function generateSales(ctx: SeedContext): SeedTable[] {
  const r = ctx.stream('Sales');
  const processes: SeedRow[] = [];
  const stages: SeedRow[] = [];
  ctx.ids.Processes.forEach((Id, p) => {
    const [name, stageNames] = W.PROCESSES[p % W.PROCESSES.length];
    processes.push({ Id, ...stamps(r), Name: name, Description: `${name} pipeline` });
    const count = r.int(4, 6);
    // Keep the first and last stage, drop middle ones to get 4–6 stages.
    const chosen = [...stageNames];
    while (chosen.length > count) chosen.splice(r.int(1, chosen.length - 2), 1);
    chosen.forEach((stage, i) => stages.push({
      Id: ctx.stream(`StageId:${p}:${i}`).uuid(), ...stamps(r), Name: stage, Description: r.chance(0.5) ? `${name}: ${stage}` : null,
      Probability: stageProbability(i + 1, count), Sequence: i + 1, ProcessId: Id,
    }));
  });

  const productPrices: number[] = [];
  const products = ctx.ids.Products.map((Id, i) => {
    const cents = r.int(10, 5000) * 100 + r.pick([0, 0, 50, 99]);
    productPrices.push(cents);
    return {
      Id, ...stamps(r), Name: `${W.PRODUCT_ADJECTIVES[i % W.PRODUCT_ADJECTIVES.length]} ${W.PRODUCT_NOUNS[i % W.PRODUCT_NOUNS.length]}`,
      ItemNumber: `PRD-${String(i + 1).padStart(4, '0')}`, Price: cents / 100,
      Cost: Math.round(cents * (0.4 + r.int(0, 30) / 100)) / 100, IsActive: r.chance(0.9),
    };
  });

  const opportunities: SeedRow[] = [];
  const lines: SeedRow[] = [];
  const contactLinks: SeedRow[] = [];
  const companyLinks: SeedRow[] = [];
  const contactCount = ctx.ids.Contacts.length;
  const lineIds = ctx.stream('OpportunityProductIds');
  ctx.ids.Opportunities.forEach((Id, i) => {
    const stage = r.pick(stages);
    const status = r.weighted([[0, 60], [1, 20], [2, 15], [3, 5]] as const);
    const closeEstimate = REFERENCE_TIME + r.int(-180, 180) * DAY;
    let amountUnits = 0;
    for (const p of r.distinctIndexes(products.length, r.int(1, 4))) {
      const quantity = r.int(1, 20);
      const discount = r.pick([0, 0, 0, 5, 10, 15, 20]);
      const units = lineTotalUnits(quantity, productPrices[p], discount);
      amountUnits += units;
      lines.push({
        Id: lineIds.uuid(), ...stamps(r), OpportunityId: Id, ProductId: ctx.ids.Products[p], Quantity: quantity,
        Price: productPrices[p] / 100, Discount: discount, Total: units / 10000,
      });
    }
    const contacts = contactCount > 0 ? r.distinctIndexes(contactCount, r.int(1, 2)) : [];
    for (const c of contacts) contactLinks.push({ ContactId: ctx.ids.Contacts[c], OpportunityId: Id });
    const ownCompany = contacts.length > 0 ? ctx.contactCompany[contacts[0]] : -1;
    const company = ownCompany >= 0 ? ownCompany : r.int(0, ctx.ids.Companies.length - 1);
    companyLinks.push({ CompanyId: ctx.ids.Companies[company], OpportunityId: Id });
    opportunities.push({
      Id, ...stamps(r), Name: `${ctx.companyNames[company]}: ${String(products[i % products.length].Name)}`,
      Description: r.chance(0.5) ? `Opportunity ${i + 1} discussed ${r.pick(W.TOPICS)}` : null,
      Status: status, Probability: status === 1 ? 100 : status === 2 ? 0 : Number(stage.Probability),
      Amount: amountUnits / 10000, EstimatedCloseDate: isoDate(closeEstimate),
      ActualCloseDate: status === 1 || status === 2 ? isoDate(closeEstimate - r.int(0, 60) * DAY) : null,
      StageId: String(stage.Id), ManagerId: r.chance(0.95) ? r.pick(ctx.ids.Users) : null,
    });
  });
  return [
    { table: 'Processes', rows: processes }, { table: 'Stages', rows: stages }, { table: 'Products', rows: products },
    { table: 'Opportunities', rows: opportunities }, { table: 'OpportunityProducts', rows: lines },
    { table: 'Contact_Opportunity', rows: contactLinks }, { table: 'Company_Opportunity', rows: companyLinks },
  ];
}

/** A start time on a working day hour, within a year either side of REFERENCE_TIME. */
function startTime(r: Random, pastOnly: boolean): number {
  const day = REFERENCE_TIME + (pastOnly ? r.int(-365, -1) : r.int(-365, 365)) * DAY;
  return day + r.int(8, 17) * 3_600_000 + r.pick([0, 15, 30, 45]) * 60_000;
}

function activities(ctx: SeedContext): SeedTable[] {
  const r = ctx.stream('Activities');
  const types = ctx.ids.ActivityTypes.map((Id, i) => ({ Id, ...stamps(r), Name: W.ACTIVITY_TYPES[i], IsActive: true }));
  const rows: SeedRow[] = [];
  const contactLinks: SeedRow[] = [];
  const companyLinks: SeedRow[] = [];
  const contactCount = ctx.ids.Contacts.length;
  ctx.ids.Activities.forEach((Id) => {
    const typeIndex = r.weighted([[0, 40], [1, 30], [2, 25], [3, 3], [4, 2]] as const);
    const typeName = W.ACTIVITY_TYPES[typeIndex];
    const contacts = contactCount > 0 ? r.distinctIndexes(contactCount, r.weighted([[1, 7], [2, 3]] as const)) : [];
    const who = contacts.length > 0 ? ctx.contactNames[contacts[0]] : 'the team';
    const start = startTime(r, false);
    const timeless = typeName === 'To-do' && r.chance(0.5);
    const cleared = start < REFERENCE_TIME && r.chance(0.7);
    const recurring = r.chance(0.1);
    rows.push({
      Id, ...stamps(r),
      Subject: typeName === 'Call' ? `Call ${who}` : typeName === 'Meeting' ? `Meeting with ${who}` : `${typeName}: ${r.pick(W.TOPICS)} (${who})`,
      ActivityTypeId: ctx.ids.ActivityTypes[typeIndex], Priority: r.weighted([[0, 25], [1, 55], [2, 20]] as const),
      StartTime: isoTime(start), EndTime: isoTime(start + r.pick([15, 30, 45, 60, 90, 120]) * 60_000), IsTimeless: timeless,
      Location: typeName === 'Meeting' ? r.pick(W.LOCATIONS) : null,
      Details: r.chance(0.5) ? `Discuss ${r.pick(W.TOPICS)} with ${who}.` : null,
      IsCleared: cleared, ClearedDate: cleared ? isoTime(start + r.int(1, 72) * 3_600_000) : null,
      Recurrence_Frequency: recurring ? r.weighted([[0, 2], [1, 5], [2, 3], [3, 1]] as const) : null,
      Recurrence_Interval: recurring ? r.int(1, 3) : null,
      Recurrence_Until: recurring && r.chance(0.5) ? isoDate(start + r.int(30, 365) * DAY) : null,
      Recurrence_ClearedDates: recurring ? '[]' : null, Recurrence_DeletedDates: recurring ? '[]' : null,
      OrganizerId: r.chance(0.95) ? r.pick(ctx.ids.Users) : null,
    });
    for (const c of contacts) contactLinks.push({ ActivityId: Id, ContactId: ctx.ids.Contacts[c] });
    const company = contacts.length > 0 ? ctx.contactCompany[contacts[0]] : -1;
    if (company >= 0 && r.chance(0.2)) companyLinks.push({ ActivityId: Id, CompanyId: ctx.ids.Companies[company] });
  });
  return [
    { table: 'ActivityTypes', rows: types }, { table: 'Activities', rows }, { table: 'Activity_Contact', rows: contactLinks },
    { table: 'Activity_Company', rows: companyLinks },
  ];
}

function histories(ctx: SeedContext): SeedTable[] {
  const r = ctx.stream('Histories');
  const types = ctx.ids.HistoryTypes.map((Id, i) => ({ Id, ...stamps(r), Name: W.HISTORY_TYPES[i] }));
  const rows: SeedRow[] = [];
  const contactLinks: SeedRow[] = [];
  const companyLinks: SeedRow[] = [];
  const contactCount = ctx.ids.Contacts.length;
  ctx.ids.Histories.forEach((Id) => {
    const typeIndex = r.int(0, types.length - 1);
    const contact = contactCount > 0 ? r.int(0, contactCount - 1) : -1;
    const start = startTime(r, true);
    rows.push({
      Id, ...stamps(r), Regarding: `${W.HISTORY_TYPES[typeIndex]}: ${r.pick(W.TOPICS)}`,
      Details: r.chance(0.6) ? r.pick(W.NOTE_PHRASES) : null, StartTime: isoTime(start),
      EndTime: isoTime(start + r.pick([5, 15, 30, 60]) * 60_000), HistoryTypeId: ctx.ids.HistoryTypes[typeIndex],
      OwnerId: r.chance(0.95) ? r.pick(ctx.ids.Users) : null,
    });
    if (contact < 0) return;
    contactLinks.push({ ContactId: ctx.ids.Contacts[contact], HistoryId: Id });
    const company = ctx.contactCompany[contact];
    if (company >= 0 && r.chance(0.1)) companyLinks.push({ CompanyId: ctx.ids.Companies[company], HistoryId: Id });
  });
  return [
    { table: 'HistoryTypes', rows: types }, { table: 'Histories', rows }, { table: 'Contact_History', rows: contactLinks },
    { table: 'Company_History', rows: companyLinks },
  ];
}

function notes(ctx: SeedContext): SeedTable[] {
  const r = ctx.stream('Notes');
  const rows: SeedRow[] = [];
  const contactLinks: SeedRow[] = [];
  const contactCount = ctx.ids.Contacts.length;
  ctx.ids.Notes.forEach((Id) => {
    rows.push({
      Id, ...stamps(r), Text: `${r.pick(W.NOTE_PHRASES)} ${r.chance(0.5) ? r.pick(W.NOTE_PHRASES) : ''}`.trim(),
      IsPrivate: r.chance(0.05), OwnerId: r.chance(0.95) ? r.pick(ctx.ids.Users) : null,
    });
    if (contactCount > 0) contactLinks.push({ ContactId: ctx.ids.Contacts[r.int(0, contactCount - 1)], NoteId: Id });
  });
  return [{ table: 'Notes', rows }, { table: 'Contact_Note', rows: contactLinks }];
}

export function generateWork(ctx: SeedContext): SeedTable[] {
  return [...activities(ctx), ...histories(ctx), ...notes(ctx)];
}
