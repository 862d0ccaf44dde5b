/**
 * The floor's answers: each bench request routed on its path and a few fixed query options (no OData
 * parsing), one statement, rows written as the service writes them. A handler returns an `Answer`; the
 * server (or the $batch handler, for a part) writes it.
 */
import { collection, contact, decimalText, etag, JSON_TYPE, skiptoken, unitsText } from './odata-json';
import { after, type Pending, type Query, type Row } from './store';

export const PAGE_SIZE = 100;
/** Opportunity.Amount's $Scale in the model. */
const AMOUNT_SCALE = 4;

export interface Answer {
  readonly status: number;
  /** Headers in the order the service writes them inside a $batch part (besides OData-Version). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Request {
  /** e.g. http://127.0.0.1:4000/odata */
  readonly root: string;
  /** Below the service root, without the leading slash and the query: `Contacts`, `Contacts(…)`, `Contacts/$count`. */
  readonly path: string;
  readonly options: ReadonlyMap<string, string>;
}

export interface FloorSettings {
  readonly modelVersion: string;
  /** Whether Contacts has the Categories column (a collection of strings, JSON text). */
  readonly contactCategories: boolean;
}

const json = (body: string, headers: Record<string, string> = {}): Answer => ({ status: 200, headers: { ...headers, 'Content-Type': JSON_TYPE }, body });
export const failure = (status: number, message: string): Answer => ({
  status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: { code: 'FLOOR', message } }),
});

/** `a=1&b=2` → options, percent-decoded ('+' is not a space in OData URLs). */
export function parseOptions(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) out.set(decodeURIComponent(pair), '');
    else out.set(decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1)));
  }
  return out;
}

function top(options: ReadonlyMap<string, string>): number {
  const n = Number(options.get('$top') ?? PAGE_SIZE);
  return Math.min(PAGE_SIZE, Number.isInteger(n) && n >= 0 ? n : PAGE_SIZE);
}

export class Router {
  private readonly writeContact: (row: Row, into?: Record<string, unknown>) => Record<string, unknown>;

  constructor(private readonly settings: FloorSettings) {
    const categories = settings.contactCategories;
    this.writeContact = (row, into) => contact(row, into, categories);
  }

  route(req: Request, q: Query): Pending<Answer> {
    const { path } = req;
    if (path === '') return json(JSON.stringify({ '@odata.context': `${req.root}/$metadata`, value: [] }));
    if (path === 'Contacts') return this.contacts(req, q);
    if (path === 'Contacts/$count') return after(q('count', []), (rows) => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: String(rows[0]?.n) }));
    if (path === 'Opportunities') return req.options.has('$apply') ? this.stageTotals(req, q) : this.opportunities(req, q);
    if (path === 'Companies') return this.companies(req, q);
    if (path.startsWith('Contacts(') && path.endsWith(')')) {
      const key = path.slice('Contacts('.length, -1).toLowerCase();
      return after(q('contactByKey', [key]), (rows) => {
        const row = rows[0];
        if (!row) return failure(404, 'no such contact');
        const entity = this.writeContact(row, { '@odata.context': `${req.root}/$metadata#Contacts/$entity` });
        return json(JSON.stringify(entity), { ETag: etag(row.Edited) });
      });
    }
    return failure(404, `the floor does not answer ${path}`);
  }

  private contacts(req: Request, q: Query): Pending<Answer> {
    const { options, root } = req;
    const filter = options.get('$filter');
    if (options.has('$apply')) return this.groupCounts(req, q, options.get('$apply') ?? '');
    if (filter !== undefined) {
      const any = /^Groups\/any\(g:g\/Name eq '(.*)'\)$/.exec(filter);
      if (any) {
        const name = any[1].replace(/''/g, "'");
        if (!options.has('$select')) {
          return after(q('inGroupAll', [name, name], [top(options)]), (rows) => json(collection(`${root}/$metadata#Contacts`, rows.map((r) => this.writeContact(r)))));
        }
        return after(q('inGroup', [name, name], [top(options)]), (rows) => json(collection(`${root}/$metadata#Contacts(Id,FullName)`,
          rows.map((r) => ({ '@odata.etag': etag(r.Edited), Id: r.Id, FullName: r.FullName })))));
      }
      const sw = /^startswith\(LastName,'([^']+)'\) and BusinessAddress\/State eq '([^']*)'$/.exec(filter);
      if (sw) {
        const prefix = sw[1];
        const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
        return after(q('filterOrder', [prefix, upper, sw[2]], [top(options)]), (rows) => json(collection(`${root}/$metadata#Contacts(Id,FullName,EmailAddress)`,
          rows.map((r) => ({ '@odata.etag': etag(r.Edited), Id: r.Id, FullName: r.FullName, EmailAddress: r.EmailAddress })))));
      }
      return failure(400, `the floor does not answer $filter=${filter}`);
    }
    if (options.has('$skip')) {
      const skip = Number(options.get('$skip'));
      return after(q('contactsByLastNameOffset', [], [top(options), skip]), (rows) => json(collection(`${root}/$metadata#Contacts`, rows.map((r) => this.writeContact(r)))));
    }
    if (options.has('$top') && !options.has('$orderby') && !options.has('$skiptoken')) {
      if (options.get('$select') === 'Id,FullName') {
        return after(q('contactsTopSelect', [], [top(options)]), (rows) => json(collection(`${root}/$metadata#Contacts(Id,FullName)`,
          rows.map((r) => ({ '@odata.etag': etag(r.Edited), Id: r.Id, FullName: r.FullName })))));
      }
      return after(q('contactsTop', [], [top(options)]), (rows) => json(collection(`${root}/$metadata#Contacts`, rows.map((r) => this.writeContact(r)))));
    }
    return this.contactPages(req, q);
  }

  /** `Contacts` and `Contacts?$orderby=LastName`, with the service's keyset $skiptoken. */
  private contactPages(req: Request, q: Query): Pending<Answer> {
    const { options, root } = req;
    const byLastName = options.get('$orderby') === 'LastName';
    const token = options.get('$skiptoken');
    const lastValues = token === undefined ? undefined : (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v: (string | null)[] }).v;
    const limit = [PAGE_SIZE + 1];
    let rows: Pending<Row[]>;
    if (!lastValues) rows = q(byLastName ? 'contactsByLastName' : 'contactsTop', [], limit);
    else if (!byLastName) rows = q('contactsAfterId', [lastValues[0]], limit);
    else if (lastValues[0] === null) rows = q('contactsByLastNameAfterNull', [lastValues[1]], limit);
    else rows = q('contactsByLastNameAfter', [lastValues[0], lastValues[0], lastValues[0], lastValues[1]], limit);
    return after(rows, (all) => {
      const more = all.length > PAGE_SIZE;
      const page = more ? all.slice(0, PAGE_SIZE) : all;
      let next: string | undefined;
      if (more) {
        const last = page[page.length - 1];
        const token = skiptoken(this.settings.modelVersion, byLastName ? [last.LastName, last.Id] : [last.Id]);
        next = `${root}/Contacts?${byLastName ? '$orderby=LastName&' : ''}$skiptoken=${token}`;
      }
      return json(collection(`${root}/$metadata#Contacts`, page.map((r) => this.writeContact(r)), next));
    });
  }

  private opportunities(req: Request, q: Query): Pending<Answer> {
    return after(q('opportunities', [], [top(req.options)]), (rows) => json(collection(`${req.root}/$metadata#Opportunities(Id,Name,Amount,Stage(Name,Process(Name)))`,
      rows.map((r) => ({
        '@odata.etag': etag(r.Edited), Id: r.Id, Name: r.Name, Amount: r.Amount === null ? null : Number(decimalText(r.Amount)),
        Stage: r.StageId === null ? null : {
          '@odata.etag': etag(r.StageEdited), Name: r.StageName,
          Process: r.ProcessId === null ? null : { '@odata.etag': etag(r.ProcessEdited), Name: r.ProcessName },
        },
      })))));
  }

  /** Companies with their first 5 contacts: one window-function statement, rows grouped by company here. */
  private companies(req: Request, q: Query): Pending<Answer> {
    const n = top(req.options);
    return after(q('companiesWithContacts', [], [n, n, 5]), (rows) => {
      const out: Record<string, unknown>[] = [];
      let current: { Id: unknown; Contacts: unknown[] } | undefined;
      for (const r of rows) {
        if (!current || current.Id !== r.Id) {
          current = { Id: r.Id, Contacts: [] };
          out.push(Object.assign({ '@odata.etag': etag(r.Edited) }, { Id: r.Id, Name: r.Name, Contacts: current.Contacts }));
        }
        if (r.rn !== null) current.Contacts.push({ '@odata.etag': etag(r.ContactEdited), FullName: r.ContactFullName });
      }
      return json(collection(`${req.root}/$metadata#Companies(Id,Name,Contacts(FullName))`, out));
    });
  }

  /** `groupby((StageId),aggregate(Amount with sum as Total,$count as Count))`. */
  private stageTotals(req: Request, q: Query): Pending<Answer> {
    return after(q('stageTotals', []), (rows) => json(collection(`${req.root}/$metadata#Opportunities(StageId,Total,Count)`,
      rows.map((r) => ({ StageId: r.StageId, Total: r.TotalUnits === null ? null : Number(unitsText(r.TotalUnits, AMOUNT_SCALE)), Count: Number(r.Count) })))));
  }

  /** `groupby((Company/Industry),aggregate($count as N))` and `groupby((BusinessAddress/State),…)`, any alias. */
  private groupCounts(req: Request, q: Query, apply: string): Pending<Answer> {
    const m = /^groupby\(\((Company\/Industry|BusinessAddress\/State)\),aggregate\(\$count as (\w+)\)\)$/.exec(apply);
    if (!m) return failure(400, `the floor does not answer $apply=${apply}`);
    const [, key, alias] = m;
    const [outer, inner] = key.split('/');
    const navigation = key === 'Company/Industry';
    // the context names a navigation's selected property in parentheses, a complex one by its path (as the service does)
    const selected = navigation ? `${outer}(${inner})` : key;
    return after(q(navigation ? 'industryCounts' : 'stateCounts', []), (rows) => json(collection(`${req.root}/$metadata#Contacts(${selected},${alias})`,
      rows.map((r) => ({ [outer]: { [inner]: r.Value }, [alias]: Number(r.Count) })))));
  }
}
