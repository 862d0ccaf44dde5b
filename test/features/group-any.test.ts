/**
 * any()/all() over the dynamic-members navigation (Contact/Groups, Group/Contacts) read the static links
 * and the criteria matches one branch each (src/sql/compile-expression.ts semiJoinReads, issue 15): the
 * same answers as through the members view, a contact that is both a static link and a match once,
 * counts still de-duplicated, correlated predicates ($it) and all() included.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { enc, idsOf, type Row } from './support';
import { expectStatus, newId, post } from './writes/write-support';

for (const engine of ENGINES) describe(`${engine.name}: any/all over dynamic group members`, () => {
  let svc: TestService;
  let tag: string;
  let group: string;
  const c: Record<'both' | 'match' | 'link' | 'none', string> = { both: '', match: '', link: '', none: '' };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 30 });
    tag = `Dyn${newId().replace(/-/g, '').slice(0, 8)}`;
    const contact = async (lastName: string): Promise<string> => {
      const res = await post(svc, '/Contacts', { FirstName: 'Any', LastName: lastName });
      expectStatus(res, 201);
      return String(res.json<Row>().Id);
    };
    c.both = await contact(tag);
    c.match = await contact(tag);
    c.link = await contact(`${tag} linked`);
    c.none = await contact(`${tag} outside`);
    const created = await post(svc, '/Groups', { Name: `${tag} group`, Criteria: `LastName eq '${tag}'` });
    expectStatus(created, 201);
    group = String(created.json<Row>().Id);
    for (const member of [c.both, c.link]) expectStatus(await post(svc, `/Groups(${group})/Contacts/$ref`, { '@odata.id': `Contacts(${member})` }), 204);
  });
  afterAll(() => svc.close());

  const mine = () => `Id in (${c.both},${c.match},${c.link},${c.none})`;
  async function ids(path: string): Promise<string[]> {
    const res = await svc.get(path);
    expectStatus(res, 200);
    return idsOf(res.json<{ value: Row[] }>().value);
  }
  const sorted = (list: readonly string[]) => [...list].sort();

  it('answers any() with each member once, as the members navigation lists them', async () => {
    const members = await ids(`/Groups(${group})/Contacts?$select=Id`);
    expect(sorted(members)).toEqual(sorted([c.both, c.match, c.link]));
    const viaAny = await ids(`/Contacts?$select=Id&$filter=${enc(`Groups/any(g: g/Id eq ${group})`)}`);
    expect(sorted(viaAny)).toEqual(sorted(members));
    const bare = await ids(`/Contacts?$select=Id&$filter=${enc(`${mine()} and Groups/any()`)}`);
    expect(sorted(bare)).toEqual(sorted(members));
    expect(await ids(`/Groups?$select=Id&$filter=${enc(`Contacts/any(c: c/Id eq ${c.both})`)}`)).toEqual([group]);
    expect(await ids(`/Groups?$select=Id&$filter=${enc(`Contacts/any(c: c/Id eq ${c.match}) and Contacts/any(c: c/Id eq ${c.link})`)}`)).toEqual([group]);
  });

  it('answers all(), a correlated any() and Nav/$count the same', async () => {
    expect(await ids(`/Contacts?$select=Id&$filter=${enc(`${mine()} and Groups/all(g: g/Id ne ${group})`)}`)).toEqual([c.none]);
    const correlated = await ids(`/Contacts?$select=Id&$filter=${enc(`${mine()} and Groups/any(g: g/Id eq ${group} and $it/LastName eq '${tag}')`)}`);
    expect(sorted(correlated)).toEqual(sorted([c.both, c.match]));
    const notCorrelated = await ids(`/Contacts?$select=Id&$filter=${enc(`${mine()} and not Groups/any(g: g/Id eq ${group} and $it/LastName ne '${tag}')`)}`);
    expect(sorted(notCorrelated)).toEqual(sorted([c.both, c.match, c.none]));
    // a pair that is a static link and a match counts once
    expect(sorted(await ids(`/Contacts?$select=Id&$filter=${enc(`${mine()} and Groups/$count eq 1`)}`))).toEqual(sorted([c.both, c.match, c.link]));
    const res = await svc.get(`/Groups(${group})?$select=Id&$expand=Contacts/$count`);
    expect(res.json<Row>()['Contacts@odata.count']).toBe(3);
  });
});
