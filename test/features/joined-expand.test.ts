/**
 * Single-valued expansions read in the parent's statement (src/sql/joined-expands.ts, issue 15): a
 * null foreign key or a target the caller may not read comes out as `null` at any depth; the nested
 * entities keep their ETags and ids; `$filter`/`$orderby` on the parent and collection expansions
 * inside a joined one still work; expand_2lvl's request is one statement.
 */
import { ENGINES } from '../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../helpers/service';
import { newId } from './writes/write-support';

const enc = encodeURIComponent;
const EXPAND_2LVL = '/Opportunities?$top=20&$select=Id,Name,Amount&$expand=Stage($select=Name;$expand=Process($select=Name))';

for (const engine of ENGINES) describe(`${engine.name}: single-valued expansions joined into the parent's statement`, () => {
  let svc: TestService;
  let standard: Record<string, string>;
  let tag: string;
  const ids: Record<string, string> = {};

  const create = async (path: string, body: Record<string, unknown>): Promise<string> => {
    const res = await svc.request('POST', `/${path}`, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
    return String(res.json().Id);
  };

  async function statementsFor(path: string, headers?: Record<string, string>): Promise<{ count: number; body: Record<string, unknown> }> {
    let count = 0;
    // the authenticate stage's token lookup is not the query's
    const listener = (q: { sql: string }) => { if (!q.sql.includes('odata_auth_tokens')) count++; };
    svc.knex.on('query', listener);
    try {
      const res = await svc.get(path, headers);
      expect(res.status).toBe(200);
      return { count, body: res.json() };
    } finally {
      svc.knex.removeListener('query', listener);
    }
  }

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 20 });
    standard = await bearerFor(svc.url, 'demo.standard', TEST_DEMO_PASSWORD);
    tag = `J${newId().replace(/-/g, '').slice(0, 10)}`;
    const other = await create('Users', { UserName: `other${newId().slice(0, 8)}` });
    const company = await create('Companies', { Name: `${tag} company` });
    ids.process = await create('Processes', { Name: `${tag} process` });
    ids.stage = await create('Stages', { Name: `${tag} stage`, ProcessId: ids.process });
    ids.bareStage = await create('Stages', { Name: `${tag} bare stage` });
    ids.noStage = await create('Opportunities', { Name: `${tag} 1 no stage` });
    ids.bareOpp = await create('Opportunities', { Name: `${tag} 2 bare stage`, StageId: ids.bareStage });
    ids.fullOpp = await create('Opportunities', { Name: `${tag} 3 full`, StageId: ids.stage, Amount: 12.5 });
    ids.hiddenOpp = await create('Opportunities', { Name: `${tag} 4 private`, StageId: ids.stage, IsPrivate: true, ManagerId: other });
    ids.hiddenContact = await create('Contacts', { LastName: `${tag} hidden`, IsPrivate: true, OwnerId: other, CompanyId: company });
    ids.publicContact = await create('Contacts', { LastName: `${tag} public`, IsPrivate: false, OwnerId: other, CompanyId: company });
    ids.company = company;
    ids.userHidden = await create('Users', { UserName: `uh${tag}`, ContactId: ids.hiddenContact });
    ids.userPublic = await create('Users', { UserName: `up${tag}`, ContactId: ids.publicContact });
    ids.userNone = await create('Users', { UserName: `un${tag}` });
    ids.product = await create('Products', { Name: `${tag} product` });
    ids.lineHidden = await create('OpportunityProducts', { OpportunityId: ids.hiddenOpp, ProductId: ids.product, Quantity: 1, Price: 1 });
    ids.lineFull = await create('OpportunityProducts', { OpportunityId: ids.fullOpp, ProductId: ids.product, Quantity: 2, Price: 3 });
  });
  afterAll(() => svc.close());

  it('writes null for a null foreign key and for a missing nested target, the rest in full', async () => {
    const res = await svc.get(`/Opportunities?$filter=${enc(`startswith(Name,'${tag}')`)}&$orderby=Name&$select=Name&$expand=Stage($select=Name;$expand=Process($select=Name))`);
    expect(res.status).toBe(200);
    expect(res.json().value.map((o: Record<string, unknown>) => ({ Name: o.Name, Stage: o.Stage }))).toEqual([
      { Name: `${tag} 1 no stage`, Stage: null },
      { Name: `${tag} 2 bare stage`, Stage: expect.objectContaining({ Name: `${tag} bare stage`, Process: null }) },
      { Name: `${tag} 3 full`, Stage: expect.objectContaining({ Name: `${tag} stage`, Process: expect.objectContaining({ Name: `${tag} process` }) }) },
      { Name: `${tag} 4 private`, Stage: expect.objectContaining({ Name: `${tag} stage`, Process: expect.objectContaining({ Name: `${tag} process` }) }) },
    ]);
    expect(res.json()['@odata.context']).toMatch(/\$metadata#Opportunities\(Name,Stage\(Name,Process\(Name\)\)\)$/);
  });

  it('gives the nested entities the ETags, ids and links a direct read gives them (minimal and full metadata)', async () => {
    const stage = await svc.get(`/Stages(${ids.stage})`);
    const process = await svc.get(`/Processes(${ids.process})`);
    const minimal = await svc.get(`/Opportunities(${ids.fullOpp})?$select=Name&$expand=Stage($select=Name;$expand=Process($select=Name))`);
    expect(minimal.json().Stage['@odata.etag']).toBe(stage.json()['@odata.etag']);
    expect(minimal.json().Stage.Process['@odata.etag']).toBe(process.json()['@odata.etag']);
    expect(minimal.json().Stage['@odata.etag']).toBe(stage.headers.get('etag'));
    const full = await svc.get(`/Opportunities(${ids.fullOpp})?$select=Name&$expand=Stage($select=Name;$expand=Process($select=Name))`, { Accept: 'application/json;odata.metadata=full' });
    const s = full.json().Stage;
    expect(s).toMatchObject({ '@odata.type': '#Crm.Stage', '@odata.editLink': `Stages(${ids.stage})`, '@odata.etag': stage.json()['@odata.etag'], Name: `${tag} stage` });
    expect(s['@odata.id']).toMatch(new RegExp(`/Stages\\(${ids.stage}\\)$`));
    expect(s.Process).toMatchObject({ '@odata.type': '#Crm.Process', '@odata.editLink': `Processes(${ids.process})`, '@odata.etag': process.json()['@odata.etag'] });
  });

  it('keeps $filter and $orderby on the parent, also through the expanded navigation', async () => {
    const res = await svc.get(`/Opportunities?$filter=${enc(`startswith(Name,'${tag}') and Stage/Name eq '${tag} stage'`)}&$orderby=${enc('Stage/Name desc,Name desc')}&$select=Name&$expand=Stage($select=Name)`);
    expect(res.status).toBe(200);
    expect(res.json().value.map((o: { Name: string; Stage: { Name: string } }) => [o.Name, o.Stage.Name])).toEqual([
      [`${tag} 4 private`, `${tag} stage`], [`${tag} 3 full`, `${tag} stage`],
    ]);
  });

  it('answers a nested to-one whose target the caller may not read as null, as before (Standard user)', async () => {
    // Users → Contact (private of another user) → Company
    const users = await svc.get(`/Users?$filter=${enc(`Id in (${ids.userHidden},${ids.userPublic},${ids.userNone})`)}&$orderby=UserName&$select=UserName&$expand=Contact($select=LastName;$expand=Company($select=Name))`, standard);
    expect(users.status).toBe(200);
    expect(users.json().value.map((u: Record<string, unknown>) => [u.UserName, u.Contact === null ? null : (u.Contact as { LastName: string; Company: { Name: string } | null }).Company?.Name ?? 'no company'])).toEqual([
      [`uh${tag}`, null], [`un${tag}`, null], [`up${tag}`, `${tag} company`],
    ]);
    // the Administrator reads the same rows with the private contact
    const asAdmin = await svc.get(`/Users(${ids.userHidden})?$select=UserName&$expand=Contact($select=LastName;$expand=Company($select=Name))`);
    expect(asAdmin.json().Contact).toMatchObject({ LastName: `${tag} hidden`, Company: { Name: `${tag} company` } });
    // OpportunityProducts → Opportunity (private of another user) → Stage: the hidden middle hides what lies behind it
    const lines = await svc.get(`/OpportunityProducts?$filter=${enc(`ProductId eq ${ids.product}`)}&$orderby=Quantity&$select=Quantity&$expand=Opportunity($select=Name;$expand=Stage($select=Name))`, standard);
    expect(lines.json().value.map((l: { Quantity: number; Opportunity: unknown }) => [l.Quantity, l.Opportunity])).toEqual([
      [1, null],
      [2, expect.objectContaining({ Name: `${tag} 3 full`, Stage: expect.objectContaining({ Name: `${tag} stage` }) })],
    ]);
    // by key too
    const byKey = await svc.get(`/Users(${ids.userHidden})?$select=UserName&$expand=Contact($select=LastName)`, standard);
    expect([byKey.status, byKey.json().Contact]).toEqual([200, null]);
  });

  it('reads a collection expansion inside a joined one with its own statement', async () => {
    const { count, body } = await statementsFor(`/Contacts(${ids.publicContact})?$select=LastName&$expand=Company($select=Name;$expand=${enc(`Contacts($select=LastName;$orderby=LastName)`)})`);
    expect(count).toBe(2);
    expect((body.Company as { Contacts: { LastName: string }[] }).Contacts.map((c) => c.LastName)).toEqual([`${tag} hidden`, `${tag} public`]);
    const asStandard = await svc.get(`/Contacts(${ids.publicContact})?$select=LastName&$expand=Company($select=Name;$expand=${enc(`Contacts($select=LastName;$orderby=LastName)`)})`, standard);
    expect(asStandard.json().Company.Contacts.map((c: { LastName: string }) => c.LastName)).toEqual([`${tag} public`]);
  });

  it('answers expand_2lvl (two to-one levels) with one statement, and $levels through a self reference too', async () => {
    const { count, body } = await statementsFor(EXPAND_2LVL);
    expect(count).toBe(1);
    expect((body.value as unknown[]).length).toBeGreaterThan(0);
    const groups = await statementsFor('/Groups?$top=5&$select=Name&$expand=Parent($select=Name;$levels=3)');
    expect(groups.count).toBe(1);
  });
});
