/** Actions and functions: MassUpdate, MassDelete, Clear, TotalAmount, SystemInfo; their metadata and errors. */
import { loadModel } from '../../../src/edm/load-csdl';
import { DEFINITION_SETS } from '../../../src/schema/registry';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  bool, countRows, expectError, expectStatus, insertActivity, insertCompany, insertContact, insertOpportunity, insertStage, ISO_UTC,
  MISSING, PAST, post, rowOf, snapshot, text, WEAK_ETAG,
} from './write-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  const amountWithStatus = async (status: number): Promise<number> =>
    ((await svc.knex('Opportunities').where({ Status: status }).select('Amount')) as Row[]).reduce((s, r) => s + Number(r.Amount), 0);

  describe('MassUpdate', () => {
    it('POST /Contacts/Crm.MassUpdate updates every listed contact and answers them', async () => {
      const [a, b] = [await insertContact(svc, { FirstName: 'Mass', LastName: 'One' }), await insertContact(svc, { LastName: 'Two' })];
      const bystander = await insertContact(svc, { JobTitle: 'Intern' });
      const res = await post(svc, '/Contacts/Crm.MassUpdate', { Ids: [a, b], Changes: { JobTitle: 'CTO' } });
      expectStatus(res, 200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Contacts`);
      expect(body.value.map((c: Row) => c.Id).sort()).toEqual([a, b].sort());
      for (const c of body.value) {
        expect(c.JobTitle).toBe('CTO');
        expect(c['@odata.etag']).toMatch(WEAK_ETAG);
      }
      expect(body.value.find((c: Row) => c.Id === a).FullName).toBe('Mass One');
      for (const id of [a, b]) {
        const row = (await rowOf(svc, 'Contacts', id))!;
        expect(row.JobTitle).toBe('CTO');
        expect(Date.parse(text(row.Edited)!)).toBeGreaterThan(Date.parse(PAST));
      }
      expect((await rowOf(svc, 'Contacts', bystander))!.JobTitle).toBe('Intern');
    });

    it('recomputes derived values of each entity', async () => {
      const [a, b] = [await insertContact(svc, { FirstName: 'X', LastName: 'Alpha' }), await insertContact(svc, { FirstName: 'Y', LastName: 'Beta' })];
      expectStatus(await post(svc, '/Contacts/Crm.MassUpdate', { Ids: [a, b], Changes: { FirstName: 'Zoe' } }), 200);
      expect((await rowOf(svc, 'Contacts', a))!.FullName).toBe('Zoe Alpha');
      expect((await rowOf(svc, 'Contacts', b))!.FullName).toBe('Zoe Beta');
    });

    it('is bound to other entity sets too: /Companies/Crm.MassUpdate', async () => {
      const [a, b] = [await insertCompany(svc, { Industry: 'Farming' }), await insertCompany(svc, { Industry: 'Fishing' })];
      const res = await post(svc, '/Companies/Crm.MassUpdate', { Ids: [a, b], Changes: { Industry: 'Mining' } });
      expectStatus(res, 200);
      expect(res.json()['@odata.context']).toBe(`${svc.url}/$metadata#Companies`);
      expect(res.json().value.map((c: Row) => c.Industry)).toEqual(['Mining', 'Mining']);
      expect((await rowOf(svc, 'Companies', a))!.Industry).toBe('Mining');
      expect((await rowOf(svc, 'Companies', b))!.Industry).toBe('Mining');
    });

    it('validates Changes like a PATCH and changes nothing when refused', async () => {
      const [a, b] = [await insertContact(svc, { JobTitle: 'Keep' }), await insertContact(svc, { JobTitle: 'Keep' })];
      const before = await snapshot(svc, 'Contacts');
      const error = expectError(await post(svc, '/Contacts/Crm.MassUpdate', { Ids: [a, b], Changes: { JobTitle: 'CTO', IsPrivate: 'yes' } }), 400, 'VALIDATION_FAILED');
      expect(error.details.map((d) => d.code)).toEqual(['TYPE_MISMATCH']);
      expect(error.details[0].target).toMatch(/IsPrivate$/);
      expect(await snapshot(svc, 'Contacts')).toEqual(before);
    });

    it('answers 404 for an Id that does not exist and changes nothing', async () => {
      const a = await insertContact(svc, { JobTitle: 'Keep' });
      const before = await snapshot(svc, 'Contacts');
      expectError(await post(svc, '/Contacts/Crm.MassUpdate', { Ids: [a, MISSING], Changes: { JobTitle: 'CTO' } }), 404, 'NOT_FOUND');
      expect(await snapshot(svc, 'Contacts')).toEqual(before);
    });
  });

  describe('MassDelete', () => {
    it('deletes every listed entity (204)', async () => {
      const [a, b] = [await insertContact(svc), await insertContact(svc)];
      const count = await countRows(svc, 'Contacts');
      const res = await post(svc, '/Contacts/Crm.MassDelete', { Ids: [a, b] });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect(await rowOf(svc, 'Contacts', a)).toBeUndefined();
      expect(await rowOf(svc, 'Contacts', b)).toBeUndefined();
      expect(await countRows(svc, 'Contacts')).toBe(count - 2);
    });

    it('answers 404 when one Id does not exist, and deletes none', async () => {
      const [a, b] = [await insertContact(svc), await insertContact(svc)];
      const count = await countRows(svc, 'Contacts');
      expectError(await post(svc, '/Contacts/Crm.MassDelete', { Ids: [a, MISSING, b] }), 404, 'NOT_FOUND');
      expect(await countRows(svc, 'Contacts')).toBe(count);
      expect(await rowOf(svc, 'Contacts', a)).toBeDefined();
      expect(await rowOf(svc, 'Contacts', b)).toBeDefined();
    });

    it('answers 409 when one entity is restricted (a Stage in use), and deletes none', async () => {
      const free = await insertStage(svc);
      const used = await insertStage(svc);
      await insertOpportunity(svc, { StageId: used });
      const count = await countRows(svc, 'Stages');
      expectError(await post(svc, '/Stages/Crm.MassDelete', { Ids: [free, used] }), 409, 'DELETE_RESTRICTED');
      expect(await countRows(svc, 'Stages')).toBe(count);
      expect(await rowOf(svc, 'Stages', free)).toBeDefined();
      expect(await rowOf(svc, 'Stages', used)).toBeDefined();
    });
  });

  describe('Clear', () => {
    it.each([['without a body', undefined], ['with {}', '{}']])('POST /Activities(<id>)/Crm.Clear %s answers the cleared activity', async (_how, body) => {
      const id = await insertActivity(svc, { IsCleared: false, ClearedDate: null });
      const before = Date.now();
      const res = await svc.request('POST', `/Activities(${id})/Crm.Clear`, body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body });
      expectStatus(res, 200);
      const got = res.json();
      expect(got['@odata.context']).toBe(`${svc.url}/$metadata#Activities/$entity`);
      expect(got.Id).toBe(id);
      expect(got.IsCleared).toBe(true);
      expect(got.ClearedDate).toMatch(ISO_UTC);
      expect(Date.parse(got.ClearedDate)).toBeGreaterThanOrEqual(before - 2000);
      expect(Date.parse(got.ClearedDate)).toBeLessThanOrEqual(Date.now() + 2000);
      const row = (await rowOf(svc, 'Activities', id))!;
      expect(bool(row.IsCleared)).toBe(true);
      expect(Date.parse(text(row.ClearedDate)!)).toBe(Date.parse(got.ClearedDate));
    });

    it('answers 404 for a missing activity', async () => {
      expectError(await svc.request('POST', `/Activities(${MISSING})/Crm.Clear`), 404, 'NOT_FOUND');
    });
  });

  describe('TotalAmount', () => {
    it('with a parameter alias sums Amount of the Won opportunities', async () => {
      await insertOpportunity(svc, { Status: 1, Amount: 1234.5 });
      const expected = await amountWithStatus(1);
      const res = await svc.get(`/Opportunities/Crm.TotalAmount(Status=@s)?@s=${encodeURIComponent("Crm.OpportunityStatus'Won'")}`);
      expectStatus(res, 200);
      const body = res.json();
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Edm.Decimal`);
      expect(Number(body.value)).toBeCloseTo(expected, 2);
    });

    it('with an inline enum literal sums the Open opportunities, and follows writes', async () => {
      const path = "/Opportunities/Crm.TotalAmount(Status=Crm.OpportunityStatus'Open')";
      const first = await svc.get(path);
      expectStatus(first, 200);
      expect(Number(first.json().value)).toBeCloseTo(await amountWithStatus(0), 2);
      await insertOpportunity(svc, { Status: 0, Amount: 500 });
      expect(Number((await svc.get(path)).json().value)).toBeCloseTo(Number(first.json().value) + 500, 2);
    });
  });

  describe('SystemInfo', () => {
    it('GET /SystemInfo() answers the product, OData version, engine and model version', async () => {
      const res = await svc.get('/SystemInfo()');
      expectStatus(res, 200);
      const body = res.json();
      expect(typeof body.ProductName).toBe('string');
      expect(body.ProductName.length).toBeGreaterThan(0);
      expect(body.ODataVersion).toBe('4.0');
      expect(body.Engine).toBe(engine.name);
      expect(typeof body.ModelVersion).toBe('string');
      expect(body['@odata.context']).toBe(`${svc.url}/$metadata#Crm.ServiceInfo`);
    });

    it('is listed in the service document as a function import', async () => {
      const value = (await svc.get('/')).json().value as Row[];
      expect(value).toContainEqual({ name: 'SystemInfo', kind: 'FunctionImport', url: 'SystemInfo' });
    });

    it('HEAD on a function answers the status without a body', async () => {
      const res = await svc.request('HEAD', '/SystemInfo()');
      expectStatus(res, 200);
      expect(res.text).toBe('');
    });
  });

  describe('declared without a handler', () => {
    it('answers 501 until a handler is registered, in a model replaced at run time', async () => {
      const original = svc.running.services.model();
      const csdl = structuredClone(original.csdl) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- editing raw CSDL JSON
      csdl.Crm.Archive = [{ $Kind: 'Action', $IsBound: true, $Parameter: [{ $Name: 'Items', $Type: 'Crm.Contact', $Collection: true }] }];
      svc.running.replaceModel(loadModel(csdl));
      try {
        expectError(await post(svc, '/Contacts/Crm.Archive', {}), 501, 'NOT_IMPLEMENTED');
        expect((await svc.get('/$metadata')).text).toContain('<Action Name="Archive" IsBound="true">');
      } finally {
        svc.running.replaceModel(original);
      }
      expectError(await post(svc, '/Contacts/Crm.Archive', {}), 404, 'NOT_FOUND');
    });
  });

  describe('$metadata', () => {
    const overloads = (doc: Row, name: string): Row[] => (doc.Crm as Row)[name] as Row[];
    const bindingType = (o: Row): Row => ((o.$Parameter as Row[])[0]);

    it('declares MassUpdate and MassDelete as actions bound to the collection of every entity type but the definition sets\'', async () => {
      const doc = (await svc.get('/$metadata?$format=json')).json();
      const container = doc.Crm.Service as Row;
      const sets = Object.entries(container).filter(([k, v]) => !k.startsWith('$') && !k.includes('@') && (v as Row).$Collection === true);
      // a write to a definition set is a schema change (src/schema/): a mass write would bypass it
      const types = sets.filter(([k]) => !DEFINITION_SETS.has(k)).map(([, v]) => (v as Row).$Type);
      const definitionTypes = sets.filter(([k]) => DEFINITION_SETS.has(k)).map(([, v]) => String((v as Row).$Type));
      expect(definitionTypes.length).toBeGreaterThan(0);
      for (const name of ['MassUpdate', 'MassDelete']) {
        const list = overloads(doc, name);
        expect(Array.isArray(list)).toBe(true);
        for (const o of list) expect(o).toMatchObject({ $Kind: 'Action', $IsBound: true });
        const bound = list.map((o) => `${String(bindingType(o).$Type)}${bindingType(o).$Collection === true ? '[]' : ''}`);
        for (const t of types) expect(bound).toContain(`${String(t)}[]`);
        for (const t of definitionTypes) expect(bound).not.toContain(`${t}[]`);
        const contact = list.find((o) => bindingType(o).$Type === 'Crm.Contact')!;
        expect((contact.$Parameter as Row[]).map((p) => p.$Name)).toContain('Ids');
      }
    });

    it('declares Clear, TotalAmount, SystemInfo and the SystemInfo function import', async () => {
      const doc = (await svc.get('/$metadata?$format=json')).json();
      const [clear] = overloads(doc, 'Clear');
      expect(clear).toMatchObject({ $Kind: 'Action', $IsBound: true });
      expect(bindingType(clear)).toMatchObject({ $Type: 'Crm.Activity' });
      expect(bindingType(clear).$Collection).toBeFalsy();
      const [total] = overloads(doc, 'TotalAmount');
      expect(total).toMatchObject({ $Kind: 'Function', $IsBound: true, $ReturnType: { $Type: 'Edm.Decimal' } });
      expect(bindingType(total)).toMatchObject({ $Type: 'Crm.Opportunity', $Collection: true });
      expect((total.$Parameter as Row[]).find((p) => p.$Name === 'Status')).toMatchObject({ $Type: 'Crm.OpportunityStatus' });
      const [info] = overloads(doc, 'SystemInfo');
      expect(info.$Kind).toBe('Function');
      expect(info.$IsBound).toBeFalsy();
      expect(doc.Crm.Service.SystemInfo).toMatchObject({ $Function: 'Crm.SystemInfo' });
    });

    it('declares them in the XML document', async () => {
      const xml = (await svc.get('/$metadata')).text;
      expect(xml).toMatch(/<Action Name="MassUpdate" IsBound="true"/);
      expect(xml).toMatch(/<Action Name="MassDelete" IsBound="true"/);
      expect(xml).toMatch(/<Action Name="Clear" IsBound="true"/);
      expect(xml).toMatch(/<Function Name="TotalAmount" IsBound="true"/);
      expect(xml).toMatch(/<Function Name="SystemInfo"/);
      expect(xml).toMatch(/<FunctionImport Name="SystemInfo" Function="Crm.SystemInfo"/);
    });
  });

  describe('errors', () => {
    it('a parameter of the wrong type answers 400 VALIDATION_FAILED with target Ids', async () => {
      const before = await snapshot(svc, 'Contacts');
      const error = expectError(await post(svc, '/Contacts/Crm.MassUpdate', { Ids: 'x', Changes: { JobTitle: 'CTO' } }), 400, 'VALIDATION_FAILED');
      expect(error.details.map((d) => d.target)).toContain('Ids');
      expect(await snapshot(svc, 'Contacts')).toEqual(before);
    });

    it('an Ids entry that is not a GUID answers 400', async () => {
      const before = await snapshot(svc, 'Contacts');
      expectError(await post(svc, '/Contacts/Crm.MassDelete', { Ids: ['not-a-guid'] }), 400, 'VALIDATION_FAILED');
      expect(await snapshot(svc, 'Contacts')).toEqual(before);
    });

    it('a missing required parameter answers 400', async () => {
      const a = await insertContact(svc);
      const before = await snapshot(svc, 'Contacts');
      expectStatus(await post(svc, '/Contacts/Crm.MassUpdate', { Ids: [a] }), 400);
      expectStatus(await post(svc, '/Contacts/Crm.MassDelete', {}), 400);
      expect(await snapshot(svc, 'Contacts')).toEqual(before);
    });

    it('GET on an action answers 405 METHOD_NOT_ALLOWED', async () => {
      expectError(await svc.get('/Contacts/Crm.MassUpdate'), 405, 'METHOD_NOT_ALLOWED');
      const id = await insertActivity(svc);
      expectError(await svc.get(`/Activities(${id})/Crm.Clear`), 405, 'METHOD_NOT_ALLOWED');
      expect(bool((await rowOf(svc, 'Activities', id))!.IsCleared)).toBe(false);
    });

    it('POST on a function answers 405 METHOD_NOT_ALLOWED', async () => {
      expectError(await post(svc, "/Opportunities/Crm.TotalAmount(Status=Crm.OpportunityStatus'Open')", {}), 405, 'METHOD_NOT_ALLOWED');
      expectError(await post(svc, '/SystemInfo()', {}), 405, 'METHOD_NOT_ALLOWED');
    });

    it('an unknown operation answers 404', async () => {
      expectStatus(await post(svc, '/Contacts/Crm.Nope', {}), 404);
      expectStatus(await svc.get('/Contacts/Crm.Nope()'), 404);
    });
  });
});
