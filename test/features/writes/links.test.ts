/** $ref: adding and removing links on link tables, foreign keys and reverse foreign keys. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';
import {
  countRows, del, expectError, expectStatus, insertCompany, insertContact, insertGroup, insertLine, insertOpportunity, insertRow,
  linked, MISSING, post, put, rowOf, snapshot,
} from './write-support';

interface NavCase {
  readonly name: string;
  readonly source: string;
  readonly nav: string;
  readonly target: string;
  /** creates a fresh source and target entity; returns their ids */
  make(svc: TestService): Promise<[string, string]>;
  /** the ids the source is linked to through the navigation, read from the database */
  linkedTo(svc: TestService, source: string): Promise<string[]>;
}

const insertUser = (svc: TestService) => insertRow(svc, 'Users', { UserName: `u.${Math.random().toString(36).slice(2)}`, Role: 2, IsActive: true });
const insertTeam = (svc: TestService) => insertRow(svc, 'Teams', { Name: 'Fixture team' });
const idsWhere = async (svc: TestService, table: string, where: Row): Promise<string[]> =>
  ((await svc.knex(table).where(where).select('Id')) as Row[]).map((r) => String(r.Id)).sort();

const NAVS: readonly NavCase[] = [
  {
    name: 'Groups/Contacts (link table)', source: 'Groups', nav: 'Contacts', target: 'Contacts',
    make: async (svc) => [await insertGroup(svc), await insertContact(svc)],
    linkedTo: (svc, g) => linked(svc, 'Contact_Group', 'GroupId', g, 'ContactId'),
  },
  {
    name: 'Opportunities/Companies (link table)', source: 'Opportunities', nav: 'Companies', target: 'Companies',
    make: async (svc) => [await insertOpportunity(svc), await insertCompany(svc)],
    linkedTo: (svc, o) => linked(svc, 'Company_Opportunity', 'OpportunityId', o, 'CompanyId'),
  },
  {
    name: 'Teams/Members (link table)', source: 'Teams', nav: 'Members', target: 'Users',
    make: async (svc) => [await insertTeam(svc), await insertUser(svc)],
    linkedTo: (svc, t) => linked(svc, 'Team_User', 'TeamId', t, 'UserId'),
  },
  {
    name: 'Users/Teams (link table, other side)', source: 'Users', nav: 'Teams', target: 'Teams',
    make: async (svc) => [await insertUser(svc), await insertTeam(svc)],
    linkedTo: (svc, u) => linked(svc, 'Team_User', 'UserId', u, 'TeamId'),
  },
  {
    name: 'Companies/Contacts (reverse foreign key)', source: 'Companies', nav: 'Contacts', target: 'Contacts',
    make: async (svc) => [await insertCompany(svc), await insertContact(svc)],
    linkedTo: (svc, c) => idsWhere(svc, 'Contacts', { CompanyId: c }),
  },
  {
    name: 'Companies/Divisions (self, reverse foreign key)', source: 'Companies', nav: 'Divisions', target: 'Companies',
    make: async (svc) => [await insertCompany(svc), await insertCompany(svc)],
    linkedTo: (svc, c) => idsWhere(svc, 'Companies', { ParentId: c }),
  },
  {
    name: 'Groups/Subgroups (self, reverse foreign key)', source: 'Groups', nav: 'Subgroups', target: 'Groups',
    make: async (svc) => [await insertGroup(svc), await insertGroup(svc)],
    linkedTo: (svc, g) => idsWhere(svc, 'Groups', { ParentId: g }),
  },
];

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  describe.each(NAVS.map((n) => [n.name, n] as const))('%s', (_navName, n) => {
    it('POST .../$ref adds the link (204) and the target shows up in the navigation', async () => {
      const [a, b] = await n.make(svc);
      const res = await post(svc, `/${n.source}(${a})/${n.nav}/$ref`, { '@odata.id': `${n.target}(${b})` });
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect(await n.linkedTo(svc, a)).toEqual([b]);
      const got = await svc.get(`/${n.source}(${a})/${n.nav}`);
      expectStatus(got, 200);
      expect(got.json().value.map((x: Row) => x.Id)).toEqual([b]);
    });

    it('DELETE .../<nav>(<key>)/$ref removes the link; both entities remain', async () => {
      const [a, b] = await n.make(svc);
      expectStatus(await post(svc, `/${n.source}(${a})/${n.nav}/$ref`, { '@odata.id': `${n.target}(${b})` }), 204);
      expect(await n.linkedTo(svc, a)).toEqual([b]);
      expectStatus(await del(svc, `/${n.source}(${a})/${n.nav}(${b})/$ref`), 204);
      expect(await n.linkedTo(svc, a)).toEqual([]);
      expect(await rowOf(svc, n.source, a)).toBeDefined();
      expect(await rowOf(svc, n.target, b)).toBeDefined();
    });

    it('DELETE .../$ref?$id=<target> removes the link', async () => {
      const [a, b] = await n.make(svc);
      expectStatus(await post(svc, `/${n.source}(${a})/${n.nav}/$ref`, { '@odata.id': `${svc.url}/${n.target}(${b})` }), 204);
      expect(await n.linkedTo(svc, a)).toEqual([b]);
      expectStatus(await del(svc, `/${n.source}(${a})/${n.nav}/$ref?$id=${encodeURIComponent(`${n.target}(${b})`)}`), 204);
      expect(await n.linkedTo(svc, a)).toEqual([]);
      expect(await rowOf(svc, n.target, b)).toBeDefined();
    });

    it('removing a link that does not exist answers 404', async () => {
      const [a, b] = await n.make(svc);
      expectStatus(await del(svc, `/${n.source}(${a})/${n.nav}(${b})/$ref`), 404);
      expect(await n.linkedTo(svc, a)).toEqual([]);
    });
  });

  describe('link tables', () => {
    it('accepts an absolute URL in @odata.id', async () => {
      const [g, c] = [await insertGroup(svc), await insertContact(svc)];
      expectStatus(await post(svc, `/Groups(${g})/Contacts/$ref`, { '@odata.id': `${svc.url}/Contacts(${c})` }), 204);
      expect(await linked(svc, 'Contact_Group', 'GroupId', g, 'ContactId')).toEqual([c]);
    });

    it('adding an existing link again answers 204 without a duplicate row', async () => {
      const [g, c] = [await insertGroup(svc), await insertContact(svc)];
      expectStatus(await post(svc, `/Groups(${g})/Contacts/$ref`, { '@odata.id': `Contacts(${c})` }), 204);
      expectStatus(await post(svc, `/Groups(${g})/Contacts/$ref`, { '@odata.id': `Contacts(${c})` }), 204);
      expect(await countRows(svc, 'Contact_Group', { GroupId: g, ContactId: c })).toBe(1);
    });

    it('keeps the other links of both sides when one is removed', async () => {
      const [g, c1, c2] = [await insertGroup(svc), await insertContact(svc), await insertContact(svc)];
      const g2 = await insertGroup(svc);
      await svc.knex('Contact_Group').insert([{ GroupId: g, ContactId: c1 }, { GroupId: g, ContactId: c2 }, { GroupId: g2, ContactId: c1 }]);
      expectStatus(await del(svc, `/Groups(${g})/Contacts(${c1})/$ref`), 204);
      expect(await linked(svc, 'Contact_Group', 'GroupId', g, 'ContactId')).toEqual([c2]);
      expect(await linked(svc, 'Contact_Group', 'ContactId', c1, 'GroupId')).toEqual([g2]);
    });
  });

  describe('single-valued navigations', () => {
    it('PUT /Contacts(<c>)/Company/$ref sets CompanyId; DELETE clears it and keeps the company', async () => {
      const [co, c] = [await insertCompany(svc), await insertContact(svc)];
      expectStatus(await put(svc, `/Contacts(${c})/Company/$ref`, { '@odata.id': `Companies(${co})` }), 204);
      expect(await rowOf(svc, 'Contacts', c)).toMatchObject({ CompanyId: co });
      const got = await svc.get(`/Contacts(${c})/Company/$ref`);
      expect(got.json()['@odata.id']).toBe(`${svc.url}/Companies(${co})`);
      expectStatus(await del(svc, `/Contacts(${c})/Company/$ref`), 204);
      expect(await rowOf(svc, 'Contacts', c)).toMatchObject({ CompanyId: null });
      expect(await rowOf(svc, 'Companies', co)).toBeDefined();
    });

    it('PUT .../$ref replaces an existing link', async () => {
      const [co1, co2] = [await insertCompany(svc), await insertCompany(svc)];
      const c = await insertContact(svc, { CompanyId: co1 });
      expectStatus(await put(svc, `/Contacts(${c})/Company/$ref`, { '@odata.id': `${svc.url}/Companies(${co2})` }), 204);
      expect(await rowOf(svc, 'Contacts', c)).toMatchObject({ CompanyId: co2 });
    });

    it('PUT /Companies(<d>)/Parent/$ref sets a self reference', async () => {
      const [parent, child] = [await insertCompany(svc), await insertCompany(svc)];
      expectStatus(await put(svc, `/Companies(${child})/Parent/$ref`, { '@odata.id': `Companies(${parent})` }), 204);
      expect(await rowOf(svc, 'Companies', child)).toMatchObject({ ParentId: parent });
    });
  });

  describe('refused links', () => {
    it('@odata.id to a missing entity answers 400 VALIDATION_FAILED with BIND_NOT_FOUND on @odata.id', async () => {
      const g = await insertGroup(svc);
      const before = await snapshot(svc, 'Contact_Group');
      const error = expectError(await post(svc, `/Groups(${g})/Contacts/$ref`, { '@odata.id': `Contacts(${MISSING})` }), 400, 'VALIDATION_FAILED');
      expect(error.details.map((d) => ({ code: d.code, target: d.target }))).toEqual([{ code: 'BIND_NOT_FOUND', target: '@odata.id' }]);
      expect(await snapshot(svc, 'Contact_Group')).toEqual(before);
    });

    it('@odata.id to a missing entity on a single-valued navigation changes nothing', async () => {
      const co = await insertCompany(svc);
      const c = await insertContact(svc, { CompanyId: co });
      expectError(await put(svc, `/Contacts(${c})/Company/$ref`, { '@odata.id': `Companies(${MISSING})` }), 400, 'VALIDATION_FAILED');
      expect(await rowOf(svc, 'Contacts', c)).toMatchObject({ CompanyId: co });
    });

    it('@odata.id to an entity of the wrong set answers 400', async () => {
      const [g, other] = [await insertGroup(svc), await insertGroup(svc)];
      const before = await snapshot(svc, 'Contact_Group');
      expectStatus(await post(svc, `/Groups(${g})/Contacts/$ref`, { '@odata.id': `Groups(${other})` }), 400);
      expect(await snapshot(svc, 'Contact_Group')).toEqual(before);
      const c = await insertContact(svc);
      expectStatus(await put(svc, `/Contacts(${c})/Company/$ref`, { '@odata.id': `Groups(${g})` }), 400);
      expect(await rowOf(svc, 'Contacts', c)).toMatchObject({ CompanyId: null });
    });

    it('a missing source entity answers 404', async () => {
      const c = await insertContact(svc);
      const before = await snapshot(svc, 'Contact_Group');
      expectStatus(await post(svc, `/Groups(${MISSING})/Contacts/$ref`, { '@odata.id': `Contacts(${c})` }), 404);
      expect(await snapshot(svc, 'Contact_Group')).toEqual(before);
    });

    it('removing a required link (OpportunityProduct.OpportunityId) answers 400 and keeps the line', async () => {
      const opp = await insertOpportunity(svc);
      const line = await insertLine(svc, opp, null, 1, 3, 0);
      expectStatus(await del(svc, `/Opportunities(${opp})/Products(${line})/$ref`), 400);
      expect(await rowOf(svc, 'OpportunityProducts', line)).toMatchObject({ OpportunityId: opp });
    });
  });
});
