/** Delete: 204 / 404, If-Match, link rows, SetNull, restricted (409 DELETE_RESTRICTED) and cascading deletes. */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import {
  countRows, del, etagOf, expectError, expectStatus, insertActivity, insertCompany, insertContact, insertGroup, insertLine,
  insertOpportunity, insertProcess, insertProduct, insertRow, insertStage, linked, MISSING, rowOf,
} from './write-support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 60 }); });
  afterAll(() => svc.close());

  describe('DELETE /Set(<id>)', () => {
    it('answers 204; then GET and a second DELETE answer 404', async () => {
      const id = await insertContact(svc);
      const count = await countRows(svc, 'Contacts');
      const res = await del(svc, `/Contacts(${id})`);
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
      expect(await countRows(svc, 'Contacts')).toBe(count - 1);
      expectStatus(await svc.get(`/Contacts(${id})`), 404);
      expectError(await del(svc, `/Contacts(${id})`), 404, 'NOT_FOUND');
    });

    it('answers 404 for a key that never existed and deletes nothing', async () => {
      const count = await countRows(svc, 'Contacts');
      expectError(await del(svc, `/Contacts(${MISSING})`), 404, 'NOT_FOUND');
      expect(await countRows(svc, 'Contacts')).toBe(count);
    });

    it('a stale If-Match answers 412 and keeps the entity; the current one deletes it', async () => {
      const id = await insertContact(svc);
      const etag = await etagOf(svc, `/Contacts(${id})`);
      expectError(await del(svc, `/Contacts(${id})`, { 'If-Match': 'W/"stale"' }), 412, 'PRECONDITION_FAILED');
      expect(await rowOf(svc, 'Contacts', id)).toBeDefined();
      expectStatus(await del(svc, `/Contacts(${id})`, { 'If-Match': etag }), 204);
      expect(await rowOf(svc, 'Contacts', id)).toBeUndefined();
    });

    it('removes the link rows of the entity; the linked entities remain', async () => {
      const id = await insertContact(svc);
      const [g1, g2] = [await insertGroup(svc), await insertGroup(svc)];
      const opp = await insertOpportunity(svc);
      const other = await insertContact(svc);
      await svc.knex('Contact_Group').insert([{ ContactId: id, GroupId: g1 }, { ContactId: id, GroupId: g2 }, { ContactId: other, GroupId: g1 }]);
      await svc.knex('Contact_Opportunity').insert({ ContactId: id, OpportunityId: opp });
      expectStatus(await del(svc, `/Contacts(${id})`), 204);
      expect(await countRows(svc, 'Contact_Group', { ContactId: id })).toBe(0);
      expect(await countRows(svc, 'Contact_Opportunity', { ContactId: id })).toBe(0);
      expect(await linked(svc, 'Contact_Group', 'GroupId', g1, 'ContactId')).toEqual([other]);
      expect(await rowOf(svc, 'Groups', g1)).toBeDefined();
      expect(await rowOf(svc, 'Groups', g2)).toBeDefined();
      expect(await rowOf(svc, 'Opportunities', opp)).toBeDefined();
    });
  });

  describe('through a navigation', () => {
    it('DELETE /Contacts(<id>)/Company deletes the company and nulls the foreign key', async () => {
      const company = await insertCompany(svc);
      const id = await insertContact(svc, { CompanyId: company });
      expectStatus(await del(svc, `/Contacts(${id})/Company`), 204);
      expect(await rowOf(svc, 'Companies', company)).toBeUndefined();
      expect(await rowOf(svc, 'Contacts', id)).toMatchObject({ CompanyId: null });
    });

    it('answers 404 when the navigation is empty', async () => {
      const id = await insertContact(svc, { CompanyId: null });
      const count = await countRows(svc, 'Companies');
      expectStatus(await del(svc, `/Contacts(${id})/Company`), 404);
      expect(await countRows(svc, 'Companies')).toBe(count);
    });
  });

  describe('SetNull foreign keys', () => {
    it('deleting a company nulls CompanyId of its contacts and ParentId of its divisions; they remain', async () => {
      const company = await insertCompany(svc);
      const [c1, c2] = [await insertContact(svc, { CompanyId: company }), await insertContact(svc, { CompanyId: company })];
      const division = await insertCompany(svc, { ParentId: company });
      const contacts = await countRows(svc, 'Contacts');
      expectStatus(await del(svc, `/Companies(${company})`), 204);
      expect(await rowOf(svc, 'Companies', company)).toBeUndefined();
      expect(await rowOf(svc, 'Contacts', c1)).toMatchObject({ CompanyId: null });
      expect(await rowOf(svc, 'Contacts', c2)).toMatchObject({ CompanyId: null });
      expect(await rowOf(svc, 'Companies', division)).toMatchObject({ ParentId: null });
      expect(await countRows(svc, 'Contacts')).toBe(contacts);
    });

    it('deleting a user nulls the owners and removes its team memberships', async () => {
      const user = await insertRow(svc, 'Users', { UserName: `fixture.${Date.now()}`, Role: 2, IsActive: true });
      const team = await insertRow(svc, 'Teams', { Name: 'Fixture team' });
      await svc.knex('Team_User').insert({ TeamId: team, UserId: user });
      const contact = await insertContact(svc, { OwnerId: user });
      const company = await insertCompany(svc, { OwnerId: user });
      expectStatus(await del(svc, `/Users(${user})`), 204);
      expect(await rowOf(svc, 'Contacts', contact)).toMatchObject({ OwnerId: null });
      expect(await rowOf(svc, 'Companies', company)).toMatchObject({ OwnerId: null });
      expect(await countRows(svc, 'Team_User', { UserId: user })).toBe(0);
      expect(await rowOf(svc, 'Teams', team)).toBeDefined();
    });
  });

  describe('restricted deletes (OnDelete None)', () => {
    it('a Stage used by Opportunities answers 409 DELETE_RESTRICTED naming the set and keys; nothing is deleted', async () => {
      const process = await insertProcess(svc);
      const stage = await insertStage(svc, { ProcessId: process });
      const [o1, o2] = [await insertOpportunity(svc, { StageId: stage }), await insertOpportunity(svc, { StageId: stage })];
      const error = expectError(await del(svc, `/Stages(${stage})`), 409, 'DELETE_RESTRICTED');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].target).toBe('Opportunities');
      expect(error.details[0].message).toContain(o1);
      expect(error.details[0].message).toContain(o2);
      expect(await rowOf(svc, 'Stages', stage)).toBeDefined();
      expect(await rowOf(svc, 'Opportunities', o1)).toMatchObject({ StageId: stage });
      expect(await rowOf(svc, 'Opportunities', o2)).toMatchObject({ StageId: stage });
    });

    it('a seeded Stage in use is refused too', async () => {
      const opp = await svc.knex('Opportunities').whereNotNull('StageId').first('StageId');
      const stage = String(opp.StageId);
      const users = await countRows(svc, 'Opportunities', { StageId: stage });
      const error = expectError(await del(svc, `/Stages(${stage})`), 409, 'DELETE_RESTRICTED');
      expect(error.details.map((d) => d.target)).toEqual(['Opportunities']);
      expect(await rowOf(svc, 'Stages', stage)).toBeDefined();
      expect(await countRows(svc, 'Opportunities', { StageId: stage })).toBe(users);
    });

    it('a Product used by OpportunityProducts answers 409 with target OpportunityProducts', async () => {
      const product = await insertProduct(svc);
      const opp = await insertOpportunity(svc);
      const line = await insertLine(svc, opp, product, 1, 5, 0);
      const error = expectError(await del(svc, `/Products(${product})`), 409, 'DELETE_RESTRICTED');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].target).toBe('OpportunityProducts');
      expect(error.details[0].message).toContain(line);
      expect(await rowOf(svc, 'Products', product)).toBeDefined();
      expect(await rowOf(svc, 'OpportunityProducts', line)).toMatchObject({ ProductId: product });
    });

    it('an ActivityType used by Activities answers 409 with target Activities', async () => {
      const type = await insertRow(svc, 'ActivityTypes', { Name: 'Fixture type', IsActive: true });
      const activity = await insertActivity(svc, { ActivityTypeId: type });
      const error = expectError(await del(svc, `/ActivityTypes(${type})`), 409, 'DELETE_RESTRICTED');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].target).toBe('Activities');
      expect(error.details[0].message).toContain(activity);
      expect(await rowOf(svc, 'ActivityTypes', type)).toBeDefined();
    });

    it('an unused Stage, Product or ActivityType is deleted', async () => {
      const stage = await insertStage(svc);
      const product = await insertProduct(svc);
      const type = await insertRow(svc, 'ActivityTypes', { Name: 'Unused type', IsActive: true });
      expectStatus(await del(svc, `/Stages(${stage})`), 204);
      expectStatus(await del(svc, `/Products(${product})`), 204);
      expectStatus(await del(svc, `/ActivityTypes(${type})`), 204);
      expect(await rowOf(svc, 'Stages', stage)).toBeUndefined();
      expect(await rowOf(svc, 'Products', product)).toBeUndefined();
      expect(await rowOf(svc, 'ActivityTypes', type)).toBeUndefined();
    });
  });

  describe('cascading deletes', () => {
    it('deleting an Opportunity deletes its OpportunityProducts and links; contacts, companies and products remain', async () => {
      const opp = await insertOpportunity(svc);
      const product = await insertProduct(svc);
      const [l1, l2] = [await insertLine(svc, opp, product, 1, 10, 0), await insertLine(svc, opp, product, 2, 10, 0)];
      const contact = await insertContact(svc);
      const company = await insertCompany(svc);
      await svc.knex('Contact_Opportunity').insert({ ContactId: contact, OpportunityId: opp });
      await svc.knex('Company_Opportunity').insert({ CompanyId: company, OpportunityId: opp });
      const lines = await countRows(svc, 'OpportunityProducts');
      expectStatus(await del(svc, `/Opportunities(${opp})`), 204);
      expect(await rowOf(svc, 'Opportunities', opp)).toBeUndefined();
      expect(await rowOf(svc, 'OpportunityProducts', l1)).toBeUndefined();
      expect(await rowOf(svc, 'OpportunityProducts', l2)).toBeUndefined();
      expect(await countRows(svc, 'OpportunityProducts')).toBe(lines - 2);
      expect(await countRows(svc, 'Contact_Opportunity', { OpportunityId: opp })).toBe(0);
      expect(await countRows(svc, 'Company_Opportunity', { OpportunityId: opp })).toBe(0);
      expect(await rowOf(svc, 'Contacts', contact)).toBeDefined();
      expect(await rowOf(svc, 'Companies', company)).toBeDefined();
      expect(await rowOf(svc, 'Products', product)).toBeDefined();
    });

    it('deleting a Process deletes its Stages', async () => {
      const process = await insertProcess(svc);
      const [s1, s2] = [await insertStage(svc, { ProcessId: process }), await insertStage(svc, { ProcessId: process })];
      expectStatus(await del(svc, `/Processes(${process})`), 204);
      expect(await rowOf(svc, 'Processes', process)).toBeUndefined();
      expect(await rowOf(svc, 'Stages', s1)).toBeUndefined();
      expect(await rowOf(svc, 'Stages', s2)).toBeUndefined();
    });

    it('deleting a Process whose Stage is used by an Opportunity answers 409; nothing is deleted', async () => {
      const process = await insertProcess(svc);
      const [s1, s2] = [await insertStage(svc, { ProcessId: process }), await insertStage(svc, { ProcessId: process })];
      const opp = await insertOpportunity(svc, { StageId: s2 });
      const error = expectError(await del(svc, `/Processes(${process})`), 409, 'DELETE_RESTRICTED');
      expect(error.details.map((d) => d.target)).toContain('Opportunities');
      expect(error.details.find((d) => d.target === 'Opportunities')!.message).toContain(opp);
      expect(await rowOf(svc, 'Processes', process)).toBeDefined();
      expect(await rowOf(svc, 'Stages', s1)).toBeDefined();
      expect(await rowOf(svc, 'Stages', s2)).toBeDefined();
      expect(await rowOf(svc, 'Opportunities', opp)).toMatchObject({ StageId: s2 });
    });
  });
});
