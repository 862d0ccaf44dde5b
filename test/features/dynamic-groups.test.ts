/**
 * Dynamic groups: a group's contacts are its static links plus the contacts its Criteria (a $filter
 * over Contacts) matches, on every path, following every write that changes them. Expected answers
 * come from `Contacts?$filter=<criteria>` plus the static link rows read from the database.
 */
import { loadModel } from '../../src/edm/load-csdl';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc, idsOf, type Row } from './support';
import { del, expectError, expectStatus, newId, patch, post, put } from './writes/write-support';

const SEEDED = 'California Contacts';
const SEEDED_CRITERIA = "BusinessAddress/State eq 'CA'";

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let seeded: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 200, pageSize: 50 });
    seeded = String((await svc.knex('Groups').where({ Name: SEEDED }).first('Id')).Id);
  });
  afterAll(() => svc.close());

  const sorted = (ids: readonly string[]): string[] => [...new Set(ids)].sort();
  const ids = async (path: string): Promise<string[]> => sorted(idsOf((await allPages(svc, path)).flatMap((p) => p.body.value)));
  const staticLinks = async (group: string): Promise<string[]> =>
    (await svc.knex('Contact_Group').where({ GroupId: group }).select('ContactId')).map((r: Row) => String(r.ContactId));
  const matching = (criteria: string): Promise<string[]> => ids(`/Contacts?$select=Id&$filter=${enc(criteria)}`);
  /** what every path must answer: the contacts the criteria matches plus the static links */
  const expected = async (group: string, criteria: string | null): Promise<string[]> =>
    sorted([...(criteria === null ? [] : await matching(criteria)), ...(await staticLinks(group))]);
  const members = (group: string): Promise<string[]> => ids(`/Groups(${group})/Contacts?$select=Id`);
  const count = async (path: string): Promise<number> => {
    const res = await svc.get(path);
    expectStatus(res, 200);
    return Number(res.text);
  };
  const createContact = async (body: Row): Promise<string> => {
    const res = await post(svc, '/Contacts', { FirstName: 'Dyn', LastName: `Member ${newId().slice(0, 8)}`, ...body });
    expectStatus(res, 201);
    return String(res.json<Row>().Id);
  };
  const createGroup = async (criteria: string | null, name = `Group ${newId().slice(0, 8)}`): Promise<string> => {
    const res = await post(svc, '/Groups', { Name: name, Criteria: criteria });
    expectStatus(res, 201);
    return String(res.json<Row>().Id);
  };
  const addStatic = async (group: string, contact: string) =>
    expectStatus(await post(svc, `/Groups(${group})/Contacts/$ref`, { '@odata.id': `Contacts(${contact})` }), 204);
  const nonMatching = async (criteria: string): Promise<string> => {
    const all = await ids('/Contacts?$select=Id&$top=200');
    const hits = new Set(await matching(criteria));
    const found = all.find((c) => !hits.has(c));
    if (!found) throw new Error('every contact matches');
    return found;
  };

  describe('the seeded dynamic group', () => {
    it('has the contacts its criteria matches plus its static links on Groups(g)/Contacts and /$count', async () => {
      const extra = await nonMatching(SEEDED_CRITERIA);
      await addStatic(seeded, extra);
      const overlap = (await matching(SEEDED_CRITERIA))[0];
      await addStatic(seeded, overlap); // a static link that the criteria also matches counts once
      const want = await expected(seeded, SEEDED_CRITERIA);
      expect(want.length).toBeGreaterThan(2);
      expect(want).toContain(extra);
      expect(await members(seeded)).toEqual(want);
      expect(await count(`/Groups(${seeded})/Contacts/$count`)).toBe(want.length);
    });

    it('applies every query option on Groups(g)/Contacts as on the same contacts read from Contacts', async () => {
      const statics = await staticLinks(seeded);
      const union = `(${SEEDED_CRITERIA}) or Id in (${statics.join(',')})`;
      const options = "$filter=LastName ge 'H'&$orderby=LastName desc,FirstName&$top=7&$skip=2&$select=LastName,FirstName&$count=true";
      const viaGroup = await svc.get(`/Groups(${seeded})/Contacts?${options}`);
      const viaSet = await svc.get(`/Contacts?${options.replace("$filter=LastName ge 'H'", `$filter=(${union}) and LastName ge 'H'`)}`);
      expectStatus(viaGroup, 200);
      expectStatus(viaSet, 200);
      const strip = (body: Row) => ({ count: body['@odata.count'], value: body.value });
      expect(strip(viaGroup.json())).toEqual(strip(viaSet.json()));
      expect((viaGroup.json().value as Row[]).length).toBe(7);
      const search = await svc.get(`/Groups(${seeded})/Contacts/$count?$filter=${enc("startswith(LastName,'S')")}`);
      expect(Number(search.text)).toBe(await count(`/Contacts/$count?$filter=${enc(`(${union}) and startswith(LastName,'S')`)}`));
    });

    it('expands Contacts from Groups and Groups from Contacts with the same members', async () => {
      const want = await expected(seeded, SEEDED_CRITERIA);
      const expanded = await svc.get(`/Groups?$filter=Id eq ${seeded}&$expand=Contacts($select=Id)`);
      expectStatus(expanded, 200);
      const group = (expanded.json().value as Row[])[0];
      expect(sorted(idsOf(group.Contacts as Row[]))).toEqual(want);
      const counted = await svc.get(`/Groups(${seeded})?$expand=Contacts/$count`);
      expectStatus(counted, 200);
      expect(counted.json<Row>()['Contacts@odata.count']).toBe(want.length);
      const contacts = await allPages(svc, `/Contacts?$select=Id&$expand=Groups($select=Id;$filter=Id eq ${seeded})`);
      const withGroup = contacts.flatMap((p) => p.body.value).filter((c) => (c.Groups as Row[]).length > 0);
      expect(sorted(idsOf(withGroup))).toEqual(want);
    });

    it('answers any/all over groups from either side and Contacts(c)/Groups', async () => {
      const want = await expected(seeded, SEEDED_CRITERIA);
      expect(await ids(`/Contacts?$select=Id&$filter=${enc(`Groups/any(g: g/Name eq '${SEEDED}')`)}`)).toEqual(want);
      const notAll = await ids(`/Contacts?$select=Id&$filter=${enc(`not Groups/all(g: g/Name ne '${SEEDED}')`)}`);
      expect(notAll).toEqual(want);
      const member = want[0];
      const groups = idsOf((await allPages(svc, `/Contacts(${member})/Groups?$select=Id`)).flatMap((p) => p.body.value));
      expect(groups).toContain(seeded);
      expect(await ids(`/Groups?$select=Id&$filter=${enc(`Contacts/any(c: c/Id eq ${member})`)}`)).toContain(seeded);
      const outsider = await nonMatching(SEEDED_CRITERIA);
      const statics = await staticLinks(seeded);
      if (!statics.includes(outsider)) {
        expect(await ids(`/Groups?$select=Id&$filter=${enc(`Contacts/any(c: c/Id eq ${outsider})`)}`)).not.toContain(seeded);
      }
    });
  });

  describe('membership follows contact writes', () => {
    it('on create, patch, put and delete', async () => {
      const c = await createContact({ BusinessAddress: { State: 'CA', City: 'Fresno' } });
      expect(await members(seeded)).toContain(c);
      expectStatus(await patch(svc, `/Contacts(${c})`, { BusinessAddress: { State: 'NY' } }), 204);
      expect(await members(seeded)).not.toContain(c);
      expectStatus(await put(svc, `/Contacts(${c})/BusinessAddress/State`, { value: 'CA' }), 204);
      expect(await members(seeded)).toContain(c);
      expectStatus(await put(svc, `/Contacts(${c})`, { LastName: 'Replaced', BusinessAddress: { State: 'TX' } }), 204);
      expect(await members(seeded)).not.toContain(c);
      expectStatus(await patch(svc, `/Contacts(${c})`, { BusinessAddress: { State: 'CA' } }), 204);
      expect(await count(`/Groups(${seeded})/Contacts/$count`)).toBe((await expected(seeded, SEEDED_CRITERIA)).length);
      expectStatus(await del(svc, `/Contacts(${c})`), 204);
      expect(await members(seeded)).not.toContain(c);
      expect(await members(seeded)).toEqual(await expected(seeded, SEEDED_CRITERIA));
    });

    it('in a $batch change set, and not at all when the change set fails', async () => {
      const batch = (requests: Row[]) => post(svc, '/$batch', { requests });
      const a = newId();
      const b = newId();
      const ok = await batch([
        { id: '1', atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: { 'content-type': 'application/json' }, body: { Id: a, LastName: 'Batch A', BusinessAddress: { State: 'CA' } } },
        { id: '2', atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: { 'content-type': 'application/json' }, body: { Id: b, LastName: 'Batch B', BusinessAddress: { State: 'OR' } } },
        { id: '3', atomicityGroup: 'g', method: 'PATCH', url: `Contacts(${b})`, headers: { 'content-type': 'application/json' }, body: { BusinessAddress: { State: 'CA' } } },
      ]);
      expectStatus(ok, 200);
      expect((ok.json().responses as Row[]).map((r) => r.status)).toEqual([201, 201, 204]);
      expect(await members(seeded)).toEqual(expect.arrayContaining([a, b]));
      const before = await members(seeded);
      const failed = await batch([
        { id: '1', atomicityGroup: 'g', method: 'PATCH', url: `Contacts(${a})`, headers: { 'content-type': 'application/json' }, body: { BusinessAddress: { State: 'WA' } } },
        { id: '2', atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: { 'content-type': 'application/json' }, body: { LastName: 'Fails', BusinessAddress: { State: 'CA' }, Nope: 1 } },
      ]);
      expect(failed.status).toBeLessThan(500);
      expect(await members(seeded)).toEqual(before);
      expect(await members(seeded)).toEqual(await expected(seeded, SEEDED_CRITERIA));
    });

    it('in a change set that writes a group after other parts: later parts follow its new criteria', async () => {
      const group = newId();
      const contact = newId();
      const surname = `Cached ${newId().slice(0, 8)}`;
      const json = { 'content-type': 'application/json' };
      const res = await post(svc, '/$batch', { requests: [
        { id: '1', atomicityGroup: 'g', method: 'POST', url: 'Notes', headers: json, body: { Text: 'before the group' } },
        { id: '2', atomicityGroup: 'g', method: 'POST', url: 'Groups', headers: json, body: { Id: group, Name: `Group ${surname}`, Criteria: `LastName eq '${surname}'` } },
        { id: '3', atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: json, body: { Id: contact, LastName: surname } },
        { id: '4', atomicityGroup: 'g', method: 'PATCH', url: `Groups(${group})`, headers: json, body: { Criteria: `FirstName eq '${surname}'` } },
        { id: '5', atomicityGroup: 'g', method: 'POST', url: 'Contacts', headers: json, body: { LastName: 'Other', FirstName: surname } },
      ] });
      expectStatus(res, 200);
      expect((res.json().responses as Row[]).map((r) => r.status)).toEqual([201, 201, 201, 204, 201]);
      expect(await members(group)).toEqual(await expected(group, `FirstName eq '${surname}'`));
      expect(await members(group)).toHaveLength(1);
      expect(await members(group)).not.toContain(contact);
    });
  });

  describe('Criteria writes', () => {
    it('computes a new group\'s members, recomputes on a Criteria change and keeps only static links when cleared', async () => {
      const g = await createGroup("startswith(LastName,'B')");
      expect(await members(g)).toEqual(await expected(g, "startswith(LastName,'B')"));
      const other = await nonMatching("startswith(LastName,'B') or startswith(LastName,'C')");
      await addStatic(g, other);
      expectStatus(await patch(svc, `/Groups(${g})`, { Criteria: "startswith(LastName,'C') and ContactType eq Crm.ContactType'Client'" }), 204);
      const criteria = "startswith(LastName,'C') and ContactType eq Crm.ContactType'Client'";
      expect(await members(g)).toEqual(await expected(g, criteria));
      expect(await members(g)).toContain(other);
      expectStatus(await patch(svc, `/Groups(${g})`, { Criteria: null }), 204);
      expect(await members(g)).toEqual([other]);
    });

    it('follows writes to the sets a criteria reads through navigation', async () => {
      const company = (await svc.knex('Companies').whereIn('Id', svc.knex('Contacts').whereNotNull('CompanyId').select('CompanyId')).first('Id', 'Name')) as Row;
      const renamed = `Renamed ${newId().slice(0, 8)}`;
      const criteria = `Company/Name eq '${renamed}'`;
      const g = await createGroup(criteria);
      expect(await members(g)).toEqual([]);
      expectStatus(await patch(svc, `/Companies(${String(company.Id)})`, { Name: renamed }), 204);
      const want = await expected(g, criteria);
      expect(want.length).toBeGreaterThan(0);
      expect(await members(g)).toEqual(want);
      const moved = want[0];
      expectStatus(await patch(svc, `/Contacts(${moved})`, { CompanyId: null }), 204);
      expect(await members(g)).not.toContain(moved);
      expect(await members(g)).toEqual(await expected(g, criteria));
    });

    it.each([
      ['an unknown property', 'Nickname eq 1', 'UNKNOWN_PROPERTY', 0],
      ['a type error', "LastName add 1 eq 'x'", 'TYPE_MISMATCH', 9],
      ['a syntax error', "LastName eq 'x' and", 'SYNTAX_ERROR', 19],
      ['a value that is not Boolean', 'LastName', 'TYPE_MISMATCH', 0],
      ['a reference to group membership', "Groups/any(g: g/Name eq 'x')", 'INVALID_ARGUMENTS', 0],
    ])('refuses %s with 400 naming the position, and changes nothing', async (_what, bad, code, position) => {
      const before = await svc.get(`/Groups(${seeded})`);
      const membersBefore = await members(seeded);
      const updated = expectError(await patch(svc, `/Groups(${seeded})`, { Criteria: bad }), 400, 'VALIDATION_FAILED');
      expect(updated.target).toBe('Criteria');
      expect(updated.details[0]).toMatchObject({ code, target: 'Criteria' });
      expect(updated.message).toContain(`position ${position}`);
      expect((await svc.get(`/Groups(${seeded})`)).json<Row>()).toEqual(before.json<Row>());
      expect(await members(seeded)).toEqual(membersBefore);
      const name = `Invalid ${newId().slice(0, 8)}`;
      expectError(await post(svc, '/Groups', { Name: name, Criteria: bad }), 400, 'VALIDATION_FAILED');
      expect(await svc.knex('Groups').where({ Name: name }).select('Id')).toEqual([]);
    });
  });

  describe('$ref writes', () => {
    it('change the static links only', async () => {
      const statics = await staticLinks(seeded);
      const candidate = (await matching(SEEDED_CRITERIA)).find((c) => !statics.includes(c));
      if (!candidate) throw new Error('no contact is a member by criteria only');
      expectError(await del(svc, `/Groups(${seeded})/Contacts(${candidate})/$ref`), 404, 'NOT_FOUND');
      expect(await members(seeded)).toContain(candidate);
      const outsider = await nonMatching(SEEDED_CRITERIA);
      await addStatic(seeded, outsider);
      expect(await members(seeded)).toContain(outsider);
      expectStatus(await del(svc, `/Groups(${seeded})/Contacts(${outsider})/$ref`), 204);
      expect(await members(seeded)).not.toContain(outsider);
      expect(await staticLinks(seeded)).not.toContain(outsider);
    });
  });

  describe('a criteria the model no longer fits', () => {
    it('is reported naming the group and the problem, never a 500', async () => {
      const name = `Job titles ${newId().slice(0, 8)}`;
      const g = await createGroup("JobTitle ne null and startswith(LastName,'M')", name);
      const want = await members(g);
      expect(want).toEqual(await expected(g, "JobTitle ne null and startswith(LastName,'M')"));
      const contact = (await ids('/Contacts?$select=Id&$top=1'))[0];
      const original = svc.running.services.model();
      const csdl = structuredClone(original.csdl) as Record<string, Record<string, Record<string, unknown>>>;
      delete csdl.Crm.Contact.JobTitle;
      svc.running.replaceModel(loadModel(csdl));
      try {
        expect(await members(g)).toEqual(want);
        const refused = expectError(await patch(svc, `/Contacts(${contact})`, { FirstName: 'Changed' }), 409, 'CONFLICT');
        expect(refused.message).toContain(name);
        expect(refused.message).toContain('JobTitle');
        expect(refused.details[0]).toMatchObject({ code: 'INVALID_CRITERIA', target: `Groups(${g})/Criteria` });
        const invalid = expectError(await patch(svc, `/Groups(${g})`, { Criteria: "JobTitle eq 'x'" }), 400, 'VALIDATION_FAILED');
        expect(invalid.details[0]).toMatchObject({ code: 'UNKNOWN_PROPERTY', target: 'Criteria' });
        expectStatus(await patch(svc, `/Groups(${g})`, { Criteria: "startswith(LastName,'M')" }), 204);
        expectStatus(await patch(svc, `/Contacts(${contact})`, { FirstName: 'Changed' }), 204);
        expect(await members(g)).toEqual(await expected(g, "startswith(LastName,'M')"));
      } finally {
        svc.running.replaceModel(original);
      }
    });
  });
});
