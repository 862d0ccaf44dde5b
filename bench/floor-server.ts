/**
 * The raw floor: what the benchmark scenarios cost when written by hand. Express + better-sqlite3,
 * one prepared statement (or a few) per scenario, the same JSON as the OData service (property
 * names, @odata.context, nested complex values and expands, @odata.nextLink/$skiptoken format), and
 * no OData parsing: requests are routed on the path and a few fixed query parameters.
 *
 *   node -r tsx/cjs bench/floor-server.ts --database <file> --port <p> --model-version <v>
 */
import BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';

const PAGE_SIZE = 100;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false';
const CONTACT_TYPES = ['Client', 'PastClient', 'Prospect', 'Vendor', 'Other'];

type Sql = string | number | null;
type Row = Record<string, Sql>;
type Json = Record<string, unknown>;

function option(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`floor-server needs ${name}`);
  return v;
}

const db = new BetterSqlite3(option('--database'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const modelVersion = option('--model-version');

const CONTACT_COLUMNS = `"Id", "Created", "Edited", "CreatedById", "EditedById", "FirstName", "LastName", "FullName", "JobTitle", "EmailAddress", "BusinessPhone", "MobilePhone",
  "BusinessAddress_Line1", "BusinessAddress_Line2", "BusinessAddress_City", "BusinessAddress_State", "BusinessAddress_PostalCode", "BusinessAddress_Country",
  "HomeAddress_Line1", "HomeAddress_Line2", "HomeAddress_City", "HomeAddress_State", "HomeAddress_PostalCode", "HomeAddress_Country",
  "BirthDate", "ContactType", "IsPrivate", "CompanyId", "OwnerId"`;

/** A group's contacts: its static links plus the contacts its Criteria matches (kept in Contact_Group_Dynamic). */
const GROUP_MEMBERS = `SELECT cg."ContactId" FROM "Contact_Group" cg JOIN "Groups" g ON g."Id" = cg."GroupId" WHERE g."Name" = ?
  UNION SELECT d."ContactId" FROM "Contact_Group_Dynamic" d JOIN "Groups" g ON g."Id" = d."GroupId" WHERE g."Name" = ?`;

const q = {
  contactByKey: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" = ?`),
  contactsTop: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" ORDER BY "Id" LIMIT ?`),
  contactsAfterId: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" > ? ORDER BY "Id" LIMIT ?`),
  contactsByLastName: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" ORDER BY "LastName", "Id" LIMIT ?`),
  contactsByLastNameAfter: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "LastName" > ? OR ("LastName" = ? AND "Id" > ?)
    ORDER BY "LastName", "Id" LIMIT ?`),
  contactsByLastNameAfterNull: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "LastName" IS NOT NULL OR "Id" > ?
    ORDER BY "LastName", "Id" LIMIT ?`),
  filterOrder: db.prepare(`SELECT "Edited", "Id", "FullName", "EmailAddress" FROM "Contacts"
    WHERE "LastName" >= ? AND "LastName" < ? AND "BusinessAddress_State" = ? ORDER BY "LastName", "FirstName", "Id" LIMIT ?`),
  inGroup: db.prepare(`SELECT "Edited", "Id", "FullName" FROM "Contacts" WHERE "Id" IN (${GROUP_MEMBERS}) ORDER BY "Id" LIMIT ?`),
  inGroupAll: db.prepare(`SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" IN (${GROUP_MEMBERS}) ORDER BY "Id" LIMIT ?`),
  count: db.prepare('SELECT COUNT(*) AS n FROM "Contacts"').pluck(),
  opportunities: db.prepare(`SELECT o."Edited", o."Id", o."Name", o."Amount", s."Id" AS "StageId", s."Edited" AS "StageEdited", s."Name" AS "StageName",
    p."Id" AS "ProcessId", p."Edited" AS "ProcessEdited", p."Name" AS "ProcessName" FROM "Opportunities" o LEFT JOIN "Stages" s ON s."Id" = o."StageId" LEFT JOIN "Processes" p ON p."Id" = s."ProcessId"
    ORDER BY o."Id" LIMIT ?`),
  companies: db.prepare('SELECT "Edited", "Id", "Name" FROM "Companies" ORDER BY "Id" LIMIT ?'),
  companyContacts: db.prepare('SELECT "Edited", "FullName" FROM "Contacts" WHERE "CompanyId" = ? ORDER BY "Id" LIMIT ?'),
  insertNote: db.prepare('INSERT INTO "Notes" ("Id", "Created", "Edited", "Text", "IsPrivate", "OwnerId") VALUES (?, ?, ?, ?, ?, NULL)'),
};

interface BatchRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly body?: { Text?: string; IsPrivate?: boolean };
}

/**
 * A JSON batch of `POST Notes` requests in one atomicity group: one transaction, one prepared
 * INSERT per note, and a 201 answer per request with the created note, as the service answers.
 */
function batch(req: Request, res: Response): void {
  const requests = (req.body as { requests?: BatchRequest[] }).requests ?? [];
  if (requests.some((r) => r.method.toUpperCase() !== 'POST' || r.url !== 'Notes')) return fail(res, 400, 'the floor answers batches of POST Notes only');
  const insertAll = db.transaction((items: readonly BatchRequest[]) => items.map((r) => {
    const now = new Date().toISOString();
    const note = { Id: randomUUID(), Created: now, Edited: now, Text: r.body?.Text ?? '', IsPrivate: r.body?.IsPrivate === true, OwnerId: null };
    q.insertNote.run(note.Id, note.Created, note.Edited, note.Text, note.IsPrivate ? 1 : 0);
    const location = `${root(req)}/Notes(${note.Id})`;
    return {
      id: r.id, status: 201, atomicityGroup: 'g1',
      headers: { location, etag: `W/"${now}"`, 'content-type': JSON_TYPE, 'odata-version': '4.0' },
      body: { '@odata.context': `${root(req)}/$metadata#Notes/$entity`, '@odata.etag': `W/"${now}"`, ...note },
    };
  }));
  res.status(200).type('application/json').send(JSON.stringify({ responses: insertAll(requests) }));
}

function address(row: Row, prefix: string): Json | null {
  const out: Json = {
    Line1: row[`${prefix}_Line1`], Line2: row[`${prefix}_Line2`], City: row[`${prefix}_City`],
    State: row[`${prefix}_State`], PostalCode: row[`${prefix}_PostalCode`], Country: row[`${prefix}_Country`],
  };
  return Object.values(out).some((v) => v !== null) ? out : null;
}

/** The weak ETag the service derives from Edited (Core.OptimisticConcurrency). */
const etag = (edited: Sql): string => `W/"${String(edited)}"`;

function contact(row: Row): Json {
  return {
    '@odata.etag': etag(row.Edited), Id: row.Id, Created: row.Created, Edited: row.Edited, CreatedById: row.CreatedById, EditedById: row.EditedById, FirstName: row.FirstName, LastName: row.LastName, FullName: row.FullName,
    JobTitle: row.JobTitle, EmailAddress: row.EmailAddress, BusinessPhone: row.BusinessPhone, MobilePhone: row.MobilePhone,
    BusinessAddress: address(row, 'BusinessAddress'), HomeAddress: address(row, 'HomeAddress'), BirthDate: row.BirthDate,
    ContactType: row.ContactType === null ? null : CONTACT_TYPES[Number(row.ContactType)] ?? String(row.ContactType),
    IsPrivate: row.IsPrivate === null ? null : row.IsPrivate === 1, CompanyId: row.CompanyId, OwnerId: row.OwnerId,
  };
}

function root(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/odata`;
}

function send(res: Response, body: Json): void {
  res.status(200).type(JSON_TYPE).send(JSON.stringify(body));
}

function fail(res: Response, status: number, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error: { code: 'FLOOR', message } }));
}

function top(params: URLSearchParams): number {
  const n = Number(params.get('$top') ?? PAGE_SIZE);
  return Math.min(PAGE_SIZE, Number.isInteger(n) && n >= 0 ? n : PAGE_SIZE);
}

function skiptoken(values: readonly Sql[]): string {
  return Buffer.from(JSON.stringify({ m: modelVersion, v: values })).toString('base64url');
}

/** `Contacts` and `Contacts?$orderby=LastName`, with the service's keyset $skiptoken. */
function contactPages(req: Request, res: Response, params: URLSearchParams): void {
  const byLastName = params.get('$orderby') === 'LastName';
  const token = params.get('$skiptoken');
  let after: Sql[] | undefined;
  if (token !== null) {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: Sql[] };
    after = parsed.v;
  }
  const limit = PAGE_SIZE + 1;
  let rows: Row[];
  if (!after) rows = (byLastName ? q.contactsByLastName : q.contactsTop).all(limit) as Row[];
  else if (!byLastName) rows = q.contactsAfterId.all(after[0], limit) as Row[];
  else if (after[0] === null) rows = q.contactsByLastNameAfterNull.all(after[1], limit) as Row[];
  else rows = q.contactsByLastNameAfter.all(after[0], after[0], after[1], limit) as Row[];
  const more = rows.length > PAGE_SIZE;
  const page = more ? rows.slice(0, PAGE_SIZE) : rows;
  const body: Json = { '@odata.context': `${root(req)}/$metadata#Contacts`, value: page.map(contact) };
  if (more) {
    const last = page[page.length - 1];
    const values = byLastName ? [last.LastName, last.Id] : [last.Id];
    body['@odata.nextLink'] = `${root(req)}/Contacts?${byLastName ? '$orderby=LastName&' : ''}$skiptoken=${skiptoken(values)}`;
  }
  send(res, body);
}

function contacts(req: Request, res: Response, params: URLSearchParams): void {
  const filter = params.get('$filter');
  if (filter !== null) {
    const any = /^Groups\/any\(g:g\/Name eq '(.*)'\)$/.exec(filter);
    if (any) {
      const name = any[1].replace(/''/g, "'");
      if (!params.has('$select')) return send(res, { '@odata.context': `${root(req)}/$metadata#Contacts`, value: (q.inGroupAll.all(name, name, top(params)) as Row[]).map(contact) });
      const rows = q.inGroup.all(name, name, top(params)) as Row[];
      return send(res, { '@odata.context': `${root(req)}/$metadata#Contacts(Id,FullName)`, value: rows.map(({ Edited, ...r }) => ({ '@odata.etag': etag(Edited), ...r })) });
    }
    const sw = /^startswith\(LastName,'([^']+)'\) and BusinessAddress\/State eq '([^']*)'$/.exec(filter);
    if (sw) {
      const prefix = sw[1];
      const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      const rows = q.filterOrder.all(prefix, upper, sw[2], top(params)) as Row[];
      return send(res, { '@odata.context': `${root(req)}/$metadata#Contacts(Id,FullName,EmailAddress)`, value: rows.map(({ Edited, ...r }) => ({ '@odata.etag': etag(Edited), ...r })) });
    }
    return fail(res, 400, `the floor does not answer $filter=${filter}`);
  }
  if (params.has('$top') && !params.has('$orderby') && !params.has('$skiptoken')) {
    const rows = q.contactsTop.all(top(params)) as Row[];
    return send(res, { '@odata.context': `${root(req)}/$metadata#Contacts`, value: rows.map(contact) });
  }
  contactPages(req, res, params);
}

function opportunities(req: Request, res: Response, params: URLSearchParams): void {
  const rows = q.opportunities.all(top(params)) as Row[];
  send(res, {
    '@odata.context': `${root(req)}/$metadata#Opportunities(Id,Name,Amount,Stage(Name,Process(Name)))`,
    value: rows.map((r) => ({
      '@odata.etag': etag(r.Edited), Id: r.Id, Name: r.Name, Amount: r.Amount,
      Stage: r.StageId === null ? null : {
        '@odata.etag': etag(r.StageEdited), Name: r.StageName,
        Process: r.ProcessId === null ? null : { '@odata.etag': etag(r.ProcessEdited), Name: r.ProcessName },
      },
    })),
  });
}

function companies(req: Request, res: Response, params: URLSearchParams): void {
  const rows = q.companies.all(top(params)) as Row[];
  send(res, {
    '@odata.context': `${root(req)}/$metadata#Companies(Id,Name,Contacts(FullName))`,
    value: rows.map((r) => ({
      '@odata.etag': etag(r.Edited), Id: r.Id, Name: r.Name,
      Contacts: (q.companyContacts.all(r.Id, 5) as Row[]).map((c) => ({ '@odata.etag': etag(c.Edited), FullName: c.FullName })),
    })),
  });
}

const BY_KEY = /^\/odata\/Contacts\(([0-9a-fA-F-]{36})\)$/;

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/odata/$batch', express.json({ limit: '50mb' }), (req: Request, res: Response) => {
  try {
    batch(req, res);
  } catch (err) {
    fail(res, 500, err instanceof Error ? err.message : String(err));
  }
});
app.use((req: Request, res: Response) => {
  const url = req.originalUrl;
  const qm = url.indexOf('?');
  const path = qm < 0 ? url : url.slice(0, qm);
  const params = new URLSearchParams(qm < 0 ? '' : url.slice(qm + 1));
  try {
    switch (path) {
      case '/odata': case '/odata/':
        return send(res, { '@odata.context': `${root(req)}/$metadata`, value: [] });
      case '/odata/Contacts': return contacts(req, res, params);
      case '/odata/Contacts/$count':
        res.status(200).type('text/plain').send(String(q.count.get()));
        return;
      case '/odata/Opportunities': return opportunities(req, res, params);
      case '/odata/Companies': return companies(req, res, params);
    }
    const key = BY_KEY.exec(path);
    if (key) {
      const row = q.contactByKey.get(key[1].toLowerCase()) as Row | undefined;
      if (!row) return fail(res, 404, 'no such contact');
      return send(res, { '@odata.context': `${root(req)}/$metadata#Contacts/$entity`, ...contact(row) });
    }
    fail(res, 404, `the floor does not answer ${path}`);
  } catch (err) {
    fail(res, 500, err instanceof Error ? err.message : String(err));
  }
});

const server = app.listen(Number(option('--port')), '127.0.0.1');
const shutdown = () => server.close(() => { db.close(); process.exit(0); });
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
