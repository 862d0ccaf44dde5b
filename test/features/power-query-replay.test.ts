/**
 * Power Query's exchange with the service, replayed as it goes over the wire (OData.Feed with
 * Implementation="2.0": its Accept header, OData-MaxVersion 4.0, MaxDataServiceVersion 3.0,
 * Accept-Encoding gzip/deflate, HTTP Basic, query values escaped by Uri.EscapeDataString, next links
 * followed as given): service document, $metadata found through the context URL, every entity set
 * paged to the end, $select, $expand, filters with every advertised function and typed literals,
 * Group By folded into $apply, and a $batch of 100 lazy navigation reads. Every answer is checked
 * as ODataLib reads it (power-query-support.ts) and against the database.
 */
import { ENGINES } from '../helpers/engines';
import { checkAnnotations, findAll, loadVocabularies, parseXml, validateCsdlXml } from '../helpers/csdl-validate';
import { startTestService, TEST_ADMIN, type TestService } from '../helpers/service';
import { boundaryOf, parseMultipart, type HttpPart } from './batch/batch-support';
import { filterCase, loadSamples, type FilterSamples } from './filter-function-cases';
import { feedModel, feedUrl, parseLossless, PayloadChecker, send, POWER_QUERY_ACCEPT, type FeedModel, type WireResponse } from './power-query-support';
import { iso, type Row } from './support';

const BASIC = `Basic ${Buffer.from(`${TEST_ADMIN.userName}:${TEST_ADMIN.password}`).toString('base64')}`;
const PAGE_SIZE = 40;
const STATUS = ['Open', 'Won', 'Lost', 'Inactive'];
const CONTACT_TYPES = ['Client', 'PastClient', 'Prospect', 'Vendor', 'Other'];

/** Decimal text → units of 10^-4 (the model's Decimal scale), exactly. */
function units(text: unknown): bigint {
  const [whole, fraction = ''] = String(text).replace('-', '').split('.');
  const n = BigInt(whole) * 10_000n + BigInt((fraction + '0000').slice(0, 4));
  return String(text).startsWith('-') ? -n : n;
}

/** Units of 10^-4 → canonical decimal text (no trailing zeros). */
function decimalText(n: bigint): string {
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  const fraction = (abs % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${sign}${abs / 10_000n}${fraction ? `.${fraction}` : ''}`;
}

/** An instant written with a UTC offset of `minutes` (e.g. +05:30), as a .NET DateTimeOffset prints it. */
function withOffset(isoUtc: string, minutes: number): string {
  const local = new Date(Date.parse(isoUtc) + minutes * 60_000).toISOString().slice(0, 23);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The restrictions each entity set declares true in CSDL XML (term or its record's Boolean member). */
function declaredRestrictions(xml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const set of findAll(parseXml(xml), 'EntitySet')) {
    const flags: string[] = [];
    for (const a of set.children.filter((c) => c.name === 'Annotation')) {
      const term = a.attrs.Term.split('.').pop()!;
      if (a.attrs.Bool === 'true') flags.push(term);
      if (term === 'ApplySupported') flags.push(term);
      for (const p of findAll(a, 'PropertyValue')) if (p.attrs.Bool === 'true' && p.attrs.Property !== 'Supported') flags.push(p.attrs.Property);
      if (findAll(a, 'PropertyValue').some((p) => p.attrs.Property === 'Supported' && p.attrs.Bool === 'true')) flags.push(term);
    }
    out.set(set.attrs.Name, flags);
  }
  return out;
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let root: string;
  let model: FeedModel;
  let checker: PayloadChecker;
  let samples: FilterSamples;
  let contacts: Row[];

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 120, pageSize: PAGE_SIZE });
    root = svc.url;
    samples = await loadSamples(svc);
    contacts = await svc.knex('Contacts').select('Id', 'CompanyId', 'ContactType', 'BirthDate', 'Created');
  });
  afterAll(() => svc.close());
  // each case reports its own problems
  beforeEach(() => checker?.problems.splice(0));

  const get = (url: string, headers?: Record<string, string>): Promise<WireResponse> => send(url, BASIC, { headers });

  /** GET as Power Query; the answer must be 200 JSON, checked; returns the body. */
  async function read(url: string, options: { dynamic?: readonly string[] } = {}): Promise<Record<string, unknown>> {
    const res = await get(url);
    if (res.status !== 200) throw new Error(`${url} → ${res.status} ${res.text.slice(0, 300)}`);
    expect(res.headers['content-type']).toMatch(/^application\/json;odata\.metadata=minimal/);
    return checker.document(url, res.text, options);
  }

  /** The rows of a collection answer, each checked as an entity of the set's type. */
  function rows(where: string, body: Record<string, unknown>, set: string, dynamic: readonly string[] = []): Row[] {
    const value = body.value;
    if (!Array.isArray(value)) throw new Error(`${where}: no value array`);
    for (const [i, row] of value.entries()) checker.entity(`${where}[${i}]`, row, model.entitySets.get(set)!, dynamic);
    return value as Row[];
  }

  it('reads the service document, then $metadata through the context URL (XML, valid against the OASIS schemas)', async () => {
    const doc = await get(`${root}/`);
    expect(doc.status).toBe(200);
    const context = String(JSON.parse(doc.text)['@odata.context']);
    expect(context).toBe(`${root}/$metadata`);
    const metadata = await get(context.split('#')[0], { Accept: 'application/xml' });
    expect(metadata.status).toBe(200);
    expect(metadata.headers['content-type']).toMatch(/^application\/xml/);
    expect(metadata.headers['content-encoding']).toBe('gzip');
    model = feedModel(metadata.text);
    checker = new PayloadChecker(model, root);
    checker.document(`${root}/`, doc.text, { serviceDocument: true });
    expect(checker.problems).toEqual([]);
    const listed = (JSON.parse(doc.text).value as Row[]).map((e) => [String(e.name), String(e.kind ?? 'EntitySet')]);
    expect(listed.filter(([, kind]) => kind === 'EntitySet').map(([n]) => n).sort()).toEqual([...model.entitySets.keys()].sort());
    expect(listed.filter(([, kind]) => kind === 'Singleton').map(([n]) => n).sort()).toEqual([...model.singletons.keys()].sort());

    const schema = await validateCsdlXml(metadata.text);
    expect(schema.errors).toEqual([]);
    const json = await get(`${root}/$metadata?$format=json`);
    expect(checkAnnotations(JSON.parse(json.text), loadVocabularies())).toEqual([]);
    expect(model.filterFunctions.length).toBeGreaterThan(40);
    expect(model.applySupported).toBe(true);
  });

  it('reads every entity set to the end through absolute next links, and the singleton', async () => {
    for (const [set, type] of model.entitySets) {
      const seen = new Set<string>();
      let url: string | undefined = `${root}/${set}`;
      let pages = 0;
      while (url !== undefined) {
        const body = await read(url);
        for (const row of rows(`${set} page ${pages}`, body, set)) seen.add(String(row.Id));
        url = body['@odata.nextLink'] as string | undefined;
        if (++pages > 500) throw new Error(`${set}: more than 500 pages`);
      }
      const [{ n }] = await svc.knex(set).count({ n: '*' });
      expect([set, seen.size]).toEqual([set, Number(n)]);
      expect([set, pages]).toEqual([set, Math.max(1, Math.ceil(Number(n) / PAGE_SIZE))]);
      expect(model.types.has(type)).toBe(true);
    }
    for (const [name, type] of model.singletons) {
      const res = await get(`${root}/${name}`);
      expect(res.status).toBe(200);
      const body = checker.document(name, res.text);
      checker.entity(name, body, type, [], true);
    }
    expect(checker.problems).toEqual([]);
  });

  it('keeps every restriction $metadata declares on each entity set true', async () => {
    const metadata = await get(`${root}/$metadata`, { Accept: 'application/xml' });
    const declared = declaredRestrictions(metadata.text);
    expect(declared.size).toBe(model.entitySets.size);
    for (const [set, flags] of declared) {
      const [{ n }] = await svc.knex(set).count({ n: '*' });
      const answer = async (options: Record<string, string>): Promise<Row> => {
        const url = feedUrl(root, `/${set}`, options);
        const res = await get(url);
        expect([url, res.status]).toEqual([url, 200]);
        return JSON.parse(res.text) as Row;
      };
      const value = (body: Row) => body.value as Row[];
      expect(flags).toEqual(expect.arrayContaining(['Countable', 'TopSupported', 'SkipSupported', 'Searchable', 'Filterable', 'Sortable', 'Expandable', 'SelectSupport', 'ApplySupported']));
      expect((await answer({ $count: 'true', $top: '0' }))['@odata.count']).toBe(Number(n));
      expect(value(await answer({ $top: '1', $skip: '1' })).length).toBe(Math.min(1, Math.max(0, Number(n) - 1)));
      expect(value(await answer({ $search: 'a', $select: 'Id' })).length).toBeLessThanOrEqual(Number(n));
      expect(value(await answer({ $filter: 'Id ne null', $select: 'Id', $top: '5' })).length).toBe(Math.min(5, Number(n)));
      const sorted = value(await answer({ $orderby: 'Id desc', $select: 'Id', $top: '5' })).map((r) => String(r.Id));
      expect(sorted).toEqual([...sorted].sort().reverse());
      expect(value(await answer({ $expand: 'CreatedBy($select=Id)', $select: 'Id', $top: '2' })).every((r) => 'CreatedBy' in r)).toBe(true);
      expect(value(await answer({ $select: 'Id', $top: '2' })).every((r) => Object.keys(r).filter((k) => !k.startsWith('@')).join() === 'Id')).toBe(true);
      expect([set, value(await answer({ $apply: 'aggregate($count as N)' })).map((r) => r.N)]).toEqual([set, [Number(n)]]);
    }
  });

  it('folds $select and $expand, with and without an outer $select', async () => {
    const selected = rows('select', await read(feedUrl(root, '/Contacts', { $select: 'Id,FirstName,LastName,BusinessAddress,ContactType', $top: '30' })), 'Contacts');
    for (const row of selected) expect(Object.keys(row).filter((k) => !k.startsWith('@')).sort()).toEqual(['BusinessAddress', 'ContactType', 'FirstName', 'Id', 'LastName']);

    const expanded = rows('expand', await read(feedUrl(root, '/Contacts', { $expand: 'Company', $top: '30' })), 'Contacts');
    const byId = new Map(contacts.map((c) => [String(c.Id), c]));
    for (const row of expanded) {
      const company = row.Company as Row | null;
      expect(company === null ? null : company.Id).toBe(byId.get(String(row.Id))!.CompanyId ?? null);
      expect(Object.keys(row)).toContain('LastName');
    }
    const narrow = rows('select+expand', await read(feedUrl(root, '/Contacts', { $select: 'Id,LastName', $expand: 'Company($select=Name,Industry),Opportunities($select=Name,Amount)', $top: '30' })), 'Contacts');
    for (const row of narrow) {
      expect(Object.keys(row).filter((k) => !k.startsWith('@')).sort()).toEqual(['Company', 'Id', 'LastName', 'Opportunities']);
      if (row.Company !== null) expect(Object.keys(row.Company as Row).filter((k) => !k.startsWith('@')).sort()).toEqual(['Industry', 'Name']);
      for (const o of row.Opportunities as Row[]) expect(Object.keys(o).filter((k) => !k.startsWith('@')).sort()).toEqual(['Amount', 'Name']);
    }
    expect(checker.problems).toEqual([]);
  });

  it('folds a filter with every function $metadata advertises', async () => {
    for (const name of model.filterFunctions) {
      const c = filterCase(name, samples);
      if (!c) throw new Error(`no replay case for the advertised function ${name}`);
      const body = await read(feedUrl(root, `/${c.set}`, { $filter: `Id eq ${c.id} and (${c.predicate})` }));
      expect([name, rows(name, body, c.set).map((r) => r.Id)]).toEqual([name, [c.id]]);
    }
    expect(checker.problems).toEqual([]);
  });

  it('folds filters on enum, Guid, Date and DateTimeOffset literals (with offsets)', async () => {
    const all = async (filter: string): Promise<string[]> => {
      const found: string[] = [];
      let url: string | undefined = feedUrl(root, '/Contacts', { $filter: filter, $select: 'Id' });
      while (url !== undefined) {
        const body = await read(url);
        found.push(...rows(filter, body, 'Contacts').map((r) => String(r.Id)));
        url = body['@odata.nextLink'] as string | undefined;
      }
      return found.sort();
    };
    const ids = (pick: (c: Row) => boolean) => contacts.filter(pick).map((c) => String(c.Id)).sort();
    expect(await all("ContactType eq Crm.ContactType'Prospect'")).toEqual(ids((c) => CONTACT_TYPES[Number(c.ContactType)] === 'Prospect'));
    expect(await all(`CompanyId eq ${samples.companyId}`)).toEqual(ids((c) => String(c.CompanyId) === samples.companyId));
    expect(await all('BirthDate ge 1980-01-01 and BirthDate lt 1990-07-01')).toEqual(ids((c) => c.BirthDate !== null && String(iso(c.BirthDate)).slice(0, 10) >= '1980-01-01' && String(iso(c.BirthDate)).slice(0, 10) < '1990-07-01'));
    const instant = iso(samples.contact.Created)!;
    const at = Date.parse(instant);
    const from = await all(`Created ge ${withOffset(instant, 330)}`); // +05:30, escaped as %2B05%3A30
    expect(from).toEqual(ids((c) => Date.parse(iso(c.Created)!) >= at));
    expect(from).toContain(String(samples.contact.Id));
    expect(await all(`Created le ${withOffset(instant, -480)} and Created ge ${withOffset(instant, -480)}`)).toEqual(ids((c) => Date.parse(iso(c.Created)!) === at));
    expect(checker.problems).toEqual([]);
  });

  it('folds Group By into $apply: sum and count per group, exact, also over a navigation path', async () => {
    const opportunities: Row[] = await svc.knex('Opportunities').select('Status', 'Amount', 'StageId');
    const stages = new Map((await svc.knex('Stages').select('Id', 'Name')).map((s: Row) => [String(s.Id), String(s.Name)]));
    const expected = new Map<string, { total: bigint; count: number }>();
    for (const o of opportunities) {
      const key = STATUS[Number(o.Status)];
      const group = expected.get(key) ?? { total: 0n, count: 0 };
      group.total += units(o.Amount);
      group.count++;
      expected.set(key, group);
    }
    const url = feedUrl(root, '/Opportunities', { $apply: 'groupby((Status),aggregate(Amount with sum as Total,$count as Count))' });
    const res = await get(url);
    expect([url, res.status]).toEqual([url, 200]);
    const body = checker.document(url, res.text, { dynamic: ['Total', 'Count'] });
    expect(String(body['@odata.context'])).toMatch(/\/\$metadata#Opportunities\(/);
    rows('groupby', body, 'Opportunities', ['Total', 'Count']);
    const groups = (parseLossless(res.text) as { value: Row[] }).value;
    expect(new Map(groups.map((g) => [String(g.Status), { total: String(g.Total), count: Number(g.Count) }])))
      .toEqual(new Map([...expected].map(([k, g]) => [k, { total: decimalText(g.total), count: g.count }])));

    const byStage = new Map<string, bigint>();
    for (const o of opportunities) {
      if (units(o.Amount) <= 1000n * 10_000n || o.StageId === null) continue;
      const name = stages.get(String(o.StageId))!;
      byStage.set(name, (byStage.get(name) ?? 0n) + units(o.Amount));
    }
    const navUrl = feedUrl(root, '/Opportunities', { $apply: 'filter(Amount gt 1000)/groupby((Stage/Name),aggregate(Amount with sum as Total))' });
    const nav = await get(navUrl);
    expect([navUrl, nav.status]).toEqual([navUrl, 200]);
    rows('groupby nav', checker.document(navUrl, nav.text, { dynamic: ['Total'] }), 'Opportunities', ['Total']);
    const navGroups = (parseLossless(nav.text) as { value: Row[] }).value.filter((g) => g.Stage !== null);
    expect(new Map(navGroups.map((g) => [String((g.Stage as Row).Name), String(g.Total)])))
      .toEqual(new Map([...byStage].map(([k, v]) => [k, decimalText(v)])));
    expect(checker.problems).toEqual([]);
  });

  it('sends lazy navigation reads as a $batch of 100 GETs and reads every answer', async () => {
    const batchOf = contacts.slice(0, 100);
    expect(batchOf).toHaveLength(100);
    const boundary = 'batch_36522ad7-fc75-4b56-8c71-56071383e77b';
    const inner = `Accept: ${POWER_QUERY_ACCEPT}\r\nOData-MaxVersion: 4.0\r\nMaxDataServiceVersion: 3.0\r\n`;
    const body = batchOf.map((c) => `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n`
      + `GET ${root}/Contacts(${String(c.Id)})/Company HTTP/1.1\r\n${inner}\r\n`).join('') + `--${boundary}--\r\n`;
    const res = await send(`${root}/$batch`, BASIC, { method: 'POST', headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}`, Accept: 'multipart/mixed' }, body });
    expect(res.status).toBe(200);
    const parts = parseMultipart(res.text, String(res.headers['content-type']));
    expect(parts).toHaveLength(100);
    expect(boundaryOf(String(res.headers['content-type']))).toBeTruthy();
    for (const [i, part] of parts.entries()) {
      const contact = batchOf[i];
      expect(part.kind).toBe('http');
      const p = part as HttpPart;
      if (contact.CompanyId === null) {
        expect([i, p.status]).toEqual([i, 204]);
        continue;
      }
      expect([i, p.status]).toEqual([i, 200]);
      const entity = checker.document(`batch part ${i}`, p.body);
      expect(String(entity['@odata.context'])).toBe(`${root}/$metadata#Companies/$entity`);
      checker.entity(`batch part ${i}`, entity, 'Crm.Company', [], true);
      expect(entity.Id).toBe(String(contact.CompanyId));
    }
    expect(checker.problems).toEqual([]);
  });
});
