/**
 * Nested any/all whose inner predicate reads an outer lambda variable or $it: each formulation is
 * checked against a logically equivalent one the planner compiles without correlation, and against
 * the link rows read from the database.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { allPages, enc, sortedIds, tableRows, type Row } from './support';

const ids = async (svc: TestService, filter: string): Promise<string[]> => sortedIds((await allPages(svc, `/Contacts?$select=Id&$filter=${enc(filter)}`)).flatMap((p) => p.body.value));

for (const engine of ENGINES) {
  describe(`nested lambdas reading outer variables (${engine.name})`, () => {
    let svc: TestService;
    let activities: Row[];
    let activityContacts: Row[];
    let contactNotes: Row[];
    let contacts: Row[];
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 300 });
      activities = await tableRows(svc, 'Activities');
      activityContacts = await tableRows(svc, 'Activity_Contact');
      contactNotes = await tableRows(svc, 'Contact_Note');
      contacts = await tableRows(svc, 'Contacts');
    });
    afterAll(() => svc.close());

    const activitiesOf = (contactId: unknown): Row[] => activityContacts.filter((l) => l.ContactId === contactId).map((l) => activities.find((a) => a.Id === l.ActivityId)!);
    const hasNotes = (contactId: unknown): boolean => contactNotes.some((l) => l.ContactId === contactId);
    const interval = (a: Row): number | null => (a.Recurrence_Interval === null ? null : Number(a.Recurrence_Interval));
    const expected = (pred: (c: Row) => boolean): string[] => contacts.filter(pred).map((c) => String(c.Id)).sort();

    it("any inside any reading the outer variable (the issue's query)", async () => {
      const want = expected((c) => hasNotes(c.Id) && activitiesOf(c.Id).some((a) => interval(a) !== null && interval(a)! * 6 >= 6));
      expect(want.length).toBeGreaterThan(0);
      expect(await ids(svc, 'Activities/any(x:$it/Notes/any(y:x/Recurrence/Interval mul 6 ge 6))')).toEqual(want);
      expect(await ids(svc, 'Activities/any(x:x/Recurrence/Interval mul 6 ge 6) and Notes/any()')).toEqual(want);
    });

    it('any inside any comparing the inner variable with $it', async () => {
      const want = expected((c) => activitiesOf(c.Id).some((a) => Number(a.Priority) === 2));
      expect(want.length).toBeGreaterThan(0);
      expect(await ids(svc, `Activities/any(x:x/Contacts/any(y:y/Id eq $it/Id and x/Priority eq Crm.Priority'High'))`)).toEqual(want);
      expect(await ids(svc, `Activities/any(x:x/Priority eq Crm.Priority'High')`)).toEqual(want);
    });

    it('all over an outer-variable predicate (empty collections count as all)', async () => {
      const want = expected((c) => activitiesOf(c.Id).every((a) => hasNotes(c.Id) && Number(a.Priority) === 2));
      expect(await ids(svc, `Activities/all(x:$it/Notes/any(y:x/Priority eq Crm.Priority'High'))`)).toEqual(want);
      expect(await ids(svc, `not Activities/any() or (Notes/any() and Activities/all(x:x/Priority eq Crm.Priority'High'))`)).toEqual(want);
    });

    it('counts agree with the rows ($count=true and /$count)', async () => {
      const filter = enc('Activities/any(x:$it/Notes/any(y:x/Recurrence/Interval mul 6 ge 6))');
      const want = expected((c) => hasNotes(c.Id) && activitiesOf(c.Id).some((a) => interval(a) !== null && interval(a)! * 6 >= 6)).length;
      expect((await svc.get(`/Contacts/$count?$filter=${filter}`)).text).toBe(String(want));
      expect((await svc.get(`/Contacts?$top=3&$count=true&$filter=${filter}`)).json()['@odata.count']).toBe(want);
    });
  });
}
