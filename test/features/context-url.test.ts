/**
 * @odata.context for every shape of $select/$expand (none, select only, expand only, both, nested,
 * `*`, `/$ref`, `/$count`, `$levels`), on reads, write responses and $batch parts: each value parses
 * with the ABNF `context` rule in the OData 4.0 form Excel accepts (no `()`, no `+`), and the listed
 * shapes give exactly the expected string (JSON Format §10.9-10.10: an expansion without nested
 * $select/$expand is left out; without $select, an $expand makes the list start with `*`).
 */
import { ENGINES } from '../helpers/engines';
import { checkContextUrl, contextModel, type ContextModel } from '../helpers/context-url-grammar';
import { startTestService, type TestService } from '../helpers/service';
import { sendJsonBatch } from './batch/batch-support';
import { enc, tableRows, type Row } from './support';

/** Percent-encodes option values, keeping the `$name=` and `&` structure readable in the table. */
function url(path: string, options: Record<string, string>): string {
  const query = Object.entries(options).map(([k, v]) => `${k}=${enc(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

/** [path, query options, expected fragment after `$metadata#`] */
const EXACT: readonly (readonly [string, Record<string, string>, string])[] = [
  // none
  ['/Contacts', {}, 'Contacts'],
  // select only
  ['/Contacts', { $select: 'FirstName,LastName' }, 'Contacts(FirstName,LastName)'],
  ['/Contacts', { $select: '*' }, 'Contacts(*)'],
  ['/Contacts', { $select: 'BusinessAddress/City,Id' }, 'Contacts(BusinessAddress/City,Id)'],
  ['/Contacts', { $select: 'Id,Company' }, 'Contacts(Id,Company)'],
  // expand only
  ['/Contacts', { $expand: 'Company' }, 'Contacts(*)'],
  ['/Contacts', { $expand: 'Company($select=Name)' }, 'Contacts(*,Company(Name))'],
  ['/Contacts', { $expand: 'Company,Groups($select=Name)' }, 'Contacts(*,Groups(Name))'],
  ['/Contacts', { $expand: 'Opportunities($top=1;$orderby=Name)' }, 'Contacts(*)'],
  ['/Contacts', { $expand: 'Company($select=*)' }, 'Contacts(*,Company(*))'],
  // both
  ['/Contacts', { $select: 'Id', $expand: 'Company' }, 'Contacts(Id)'],
  ['/Contacts', { $select: 'Id', $expand: 'Company($select=Name)' }, 'Contacts(Id,Company(Name))'],
  ['/Contacts', { $select: 'Id,Company', $expand: 'Company' }, 'Contacts(Id,Company)'],
  ['/Contacts', { $select: 'Id,Company', $expand: 'Company($select=Name)' }, 'Contacts(Id,Company,Company(Name))'],
  ['/Contacts', { $select: '*', $expand: 'Company($select=Name)' }, 'Contacts(*,Company(Name))'],
  // nested
  ['/Companies', { $select: 'Id', $expand: 'Contacts($select=Id;$expand=Groups($select=Name))' }, 'Companies(Id,Contacts(Id,Groups(Name)))'],
  ['/Companies', { $expand: 'Contacts($expand=Groups)' }, 'Companies(*,Contacts(*))'],
  ['/Companies', { $expand: 'Contacts($expand=Groups($select=Name))' }, 'Companies(*,Contacts(*,Groups(Name)))'],
  ['/Companies', { $expand: 'Contacts($select=Id;$expand=Groups)' }, 'Companies(*,Contacts(Id))'],
  ['/Companies', { $expand: 'Contacts($expand=Company($expand=Owner($select=Email)))' }, 'Companies(*,Contacts(*,Company(*,Owner(Email))))'],
  // $expand=*
  ['/Contacts', { $expand: '*' }, 'Contacts(*)'],
  ['/Contacts', { $select: 'Id', $expand: '*' }, 'Contacts(Id)'],
  ['/Contacts', { $expand: '*/$ref' }, 'Contacts(*)'],
  // $ref and $count expansions are not represented
  ['/Contacts', { $expand: 'Company/$ref' }, 'Contacts(*)'],
  ['/Contacts', { $select: 'Id', $expand: 'Groups/$ref,Opportunities/$count' }, 'Contacts(Id)'],
  ['/Contacts', { $expand: 'Groups/$count,Company($select=Name)' }, 'Contacts(*,Company(Name))'],
  // $levels: each level written out (the 4.01 `+` marker is not 4.0)
  ['/Companies', { $expand: 'Parent($levels=2)' }, 'Companies(*,Parent(*))'],
  ['/Companies', { $select: 'Name', $expand: 'Parent($levels=2;$select=Name)' }, 'Companies(Name,Parent(Name,Parent(Name)))'],
  ['/Companies', { $expand: 'Divisions($levels=3;$select=Id)' }, 'Companies(*,Divisions(Id,Divisions(Id,Divisions(Id))))'],
  // CreatedBy and EditedBy lead to Users, which have them too, so level 2 shows there; Owner's target has no Owner
  ['/Companies', { $expand: '*($levels=2)' }, 'Companies(*,Parent(*),Divisions(*),CreatedBy(*),EditedBy(*))'],
  // references, counts and property values keep their own forms
  ['/Contacts/$ref', {}, 'Collection($ref)'],
];

const SELECTS: readonly (string | undefined)[] = [undefined, 'Id', '*', 'Id,Parent', 'Name,Address/City'];
const EXPANDS: readonly (string | undefined)[] = [
  undefined, 'Contacts', 'Contacts($select=Id)', 'Contacts($expand=Groups)', 'Contacts($select=Id;$expand=Groups($select=Name))',
  'Parent($levels=2)', 'Parent($levels=max;$select=Name)', '*', '*/$ref', 'Contacts/$ref,Opportunities/$count', 'Owner($select=Email),Divisions($top=1)',
];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let model: ContextModel;
  let contact: Row;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 40 });
    model = contextModel((await svc.get('/$metadata?$format=json')).json());
    contact = (await tableRows(svc, 'Contacts')).find((c) => c.CompanyId !== null)!;
  });
  afterAll(() => svc.close());

  async function contextOf(path: string, headers?: Record<string, string>): Promise<string> {
    const res = await svc.get(path, headers);
    if (res.status !== 200) throw new Error(`${path} → ${res.status} ${res.text}`);
    return res.json()['@odata.context'];
  }

  function expectValid(context: string): void {
    expect(checkContextUrl(context, svc.url, model)).toEqual({ ok: true });
  }

  describe('the grammar check', () => {
    it('refuses what Excel refuses and what the ABNF refuses', () => {
      const bad = ['Contacts(Company())', 'Contacts()', 'Companies(Parent+(Name))', 'Contacts(Nope)', 'Contacts(FirstName(Id))', 'Nothing', 'Contacts(Id'];
      for (const fragment of bad) expect(checkContextUrl(`${svc.url}/$metadata#${fragment}`, svc.url, model).ok).toBe(false);
      const good = ['Contacts(*,Company(Name))/$entity', `Contacts(${String(contact.Id)})/BusinessAddress/City`, '$ref', 'Collection(Edm.String)', 'Crm.ServiceInfo'];
      for (const fragment of good) expect(checkContextUrl(`${svc.url}/$metadata#${fragment}`, svc.url, model)).toEqual({ ok: true });
    });
  });

  describe('exact strings', () => {
    it.each(EXACT.map(([path, options, fragment]) => [url(path, options), fragment] as const))('%s → %s', async (path, fragment) => {
      const context = await contextOf(path);
      expect(context).toBe(`${svc.url}/$metadata#${fragment}`);
      expectValid(context);
    });

    it('a single entity has the same select list, followed by /$entity', async () => {
      const id = String(contact.Id);
      expect(await contextOf(`/Contacts(${id})?$expand=Company`)).toBe(`${svc.url}/$metadata#Contacts(*)/$entity`);
      expect(await contextOf(`/Contacts(${id})?$expand=${enc('Company($select=Name)')}`)).toBe(`${svc.url}/$metadata#Contacts(*,Company(Name))/$entity`);
      expect(await contextOf(`/Contacts(${id})?$select=Id&$expand=Company`)).toBe(`${svc.url}/$metadata#Contacts(Id)/$entity`);
      expect(await contextOf(`/Contacts(${id})/Company?$expand=Contacts`)).toBe(`${svc.url}/$metadata#Companies(*)/$entity`);
    });

    it('full metadata carries the same context', async () => {
      const context = await contextOf(url('/Contacts', { $expand: 'Company', $top: '1' }), { Accept: 'application/json;odata.metadata=full' });
      expect(context).toBe(`${svc.url}/$metadata#Contacts(*)`);
    });
  });

  describe('every $select × $expand combination', () => {
    const cases = SELECTS.flatMap((select) => EXPANDS.map((expand) => [select ?? '-', expand ?? '-'] as const));
    it.each(cases)('$select=%s $expand=%s', async (select, expand) => {
      const options: Record<string, string> = { $top: '2' };
      if (select !== '-') options.$select = select;
      if (expand !== '-') options.$expand = expand;
      const context = await contextOf(url('/Companies', options));
      expectValid(context);
      expect(context).not.toContain('()');
      const list = /#Companies(?:\((.*)\))?$/.exec(context)?.[1];
      if (select === '-' && expand === '-') expect(list).toBeUndefined();
      else if (select === '-') expect(list?.split(',')[0]).toBe('*');
      else expect(list?.startsWith(select)).toBe(true);
      // an expansion with a nested $select or $expand is always written out
      if (expand.includes('Contacts($select=Id)')) expect(list).toContain('Contacts(Id)');
      if (expand.includes('Owner($select=Email)')) expect(list).toContain('Owner(Email)');
      if (expand.includes('/$ref') || expand.includes('/$count')) expect(list ?? '').not.toMatch(/\b(Contacts|Opportunities)\(/);
    });
  });

  describe('write responses and $batch parts', () => {
    it('a created entity returned with $expand has the 4.0 context', async () => {
      const res = await svc.request('POST', url('/Contacts', { $expand: 'Company' }), {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ FirstName: 'Ada', LastName: 'Context', 'Company@odata.bind': `Companies(${String(contact.CompanyId)})` }),
      });
      expect(res.status).toBe(201);
      expect(res.json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(*)/$entity`);
      const patched = await svc.request('PATCH', url(`/Contacts(${String(res.json().Id)})`, { $expand: 'Company($select=Name)' }), {
        headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' }, body: JSON.stringify({ JobTitle: 'Analyst' }),
      });
      expect(patched.status).toBe(200);
      expect(patched.json()['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(*,Company(Name))/$entity`);
    });

    it('a $batch part answers the context its URL would answer alone', async () => {
      const parts = [
        { id: '1', method: 'GET', url: url('Contacts', { $top: '1', $expand: 'Company' }) },
        { id: '2', method: 'GET', url: url('Contacts', { $top: '1', $select: 'Id', $expand: 'Groups($select=Name)' }) },
      ];
      const res = await sendJsonBatch(svc, { requests: parts });
      expect(res.status).toBe(200);
      const byId = new Map<string, { body: Record<string, string> }>(res.json().responses.map((r: { id: string }) => [r.id, r]));
      expect(byId.get('1')!.body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(*)`);
      expect(byId.get('2')!.body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts(Id,Groups(Name))`);
    });
  });
});
