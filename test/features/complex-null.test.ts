/**
 * Complex values and null (issue 13, item 4): a complex property whose stored members are all null
 * is `null` in every answer (collections, single entities, $select of a member, $expand, property
 * URLs → 204, write responses, $batch), `$filter` compares a complex property with null (through
 * navigation and inside any), every answer fits $metadata's nullability (seeded data included), and
 * writes never leave a non-null complex value with a null non-nullable member.
 */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { sendJsonBatch } from './batch/batch-support';
import { allPages, enc, tableRows, type Row } from './support';
import { del, expectError, expectStatus, expectValidation, patch, post, put, rowOf } from './writes/write-support';

type Csdl = Record<string, Record<string, Record<string, unknown>>>;
const FREQUENCY = ['Daily', 'Weekly', 'Monthly', 'Yearly'];
const recurrenceIsNull = (a: Row) => a.Recurrence_Frequency === null && a.Recurrence_Interval === null && a.Recurrence_Until === null;
const addressIsNull = (r: Row, prefix: string) => ['Line1', 'Line2', 'City', 'State', 'PostalCode', 'Country'].every((m) => r[`${prefix}_${m}`] === null);

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let activities: Row[];
  let nullOne: Row;
  let setOne: Row;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 60 });
    activities = await tableRows(svc, 'Activities');
    nullOne = activities.find(recurrenceIsNull)!;
    setOne = activities.find((a) => !recurrenceIsNull(a))!;
  });
  afterAll(() => svc.close());

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON entities
  async function all(path: string): Promise<any[]> {
    return (await allPages(svc, path)).flatMap((p) => p.body.value);
  }
  const count = async (path: string): Promise<number> => Number((await svc.get(path)).json()['@odata.count']);

  describe('reads', () => {
    it('the seed has both kinds, and no non-null Recurrence with a null Frequency or Interval', () => {
      expect(nullOne).toBeDefined();
      expect(setOne).toBeDefined();
      for (const a of activities.filter((x) => !recurrenceIsNull(x))) {
        expect([a.Recurrence_Frequency, a.Recurrence_Interval]).not.toContain(null);
      }
    });

    it('Recurrence is null exactly where all its stored members are, otherwise a whole value', async () => {
      const value = await all('/Activities?$select=Id,Recurrence');
      expect(value).toHaveLength(activities.length);
      const byId = new Map(activities.map((a) => [a.Id, a]));
      for (const e of value) {
        const row = byId.get(e.Id)!;
        if (recurrenceIsNull(row)) expect(e.Recurrence).toBeNull();
        else {
          expect(e.Recurrence).toMatchObject({ Frequency: FREQUENCY[Number(row.Recurrence_Frequency)], Interval: Number(row.Recurrence_Interval) });
          expect(e.Recurrence.ClearedDates).toEqual([]);
        }
      }
    });

    it('is null on a single entity, in full metadata, with $select of one member and inside $expand', async () => {
      expect((await svc.get(`/Activities(${String(nullOne.Id)})`)).json().Recurrence).toBeNull();
      const full = (await svc.get(`/Activities(${String(nullOne.Id)})`, { Accept: 'application/json;odata.metadata=full' })).json();
      expect(full.Recurrence).toBeNull();
      expect((await svc.get(`/Activities(${String(nullOne.Id)})?$select=Recurrence/Until`)).json().Recurrence).toBeNull();
      const until = (await svc.get(`/Activities(${String(setOne.Id)})?$select=Recurrence/Until`)).json().Recurrence;
      expect(until).toEqual({ Until: setOne.Recurrence_Until === null ? null : expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      const links = await tableRows(svc, 'Activity_Contact');
      const contactId = links.find((l) => l.ActivityId === nullOne.Id)!.ContactId;
      const contact = (await svc.get(`/Contacts(${String(contactId)})?$select=Id&$expand=${enc('Activities($select=Id,Recurrence)')}`)).json();
      expect(contact.Activities.find((a: Row) => a.Id === nullOne.Id).Recurrence).toBeNull();
    });

    it('GET of a null complex property (or a member of it) answers 204, a set one 200', async () => {
      expect((await svc.get(`/Activities(${String(nullOne.Id)})/Recurrence`)).status).toBe(204);
      expect((await svc.get(`/Activities(${String(nullOne.Id)})/Recurrence/Frequency`)).status).toBe(204);
      const res = await svc.get(`/Activities(${String(setOne.Id)})/Recurrence`);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ '@odata.context': `${svc.url}/$metadata#Activities(${String(setOne.Id)})/Recurrence`, Frequency: FREQUENCY[Number(setOne.Recurrence_Frequency)] });
    });

    it('every entity of every set fits the nullability $metadata declares (members of non-null complex values included)', async () => {
      const csdl = (await svc.get('/$metadata?$format=json')).json() as Csdl;
      const container = Object.entries(csdl.Crm).find(([, v]) => v.$Kind === 'EntityContainer')![1] as Record<string, { $Type?: string; $Collection?: boolean }>;
      const violations: string[] = [];
      const check = (typeName: string, value: Row, where: string) => {
        const type = csdl.Crm[typeName.replace(/^Crm\./, '')] as Record<string, { $Kind?: string; $Type?: string; $Nullable?: boolean; $Collection?: boolean }>;
        for (const [name, p] of Object.entries(type)) {
          if (name.startsWith('$') || name.includes('@') || p.$Kind === 'NavigationProperty' || !(name in value)) continue;
          const v = value[name];
          if (v === null && p.$Nullable !== true && p.$Collection !== true) violations.push(`${where}/${name}`);
          const member = p.$Type ? csdl.Crm[p.$Type.replace(/^Crm\./, '')] : undefined;
          if (v !== null && member?.$Kind === 'ComplexType' && p.$Collection !== true) check(p.$Type!, v as Row, `${where}/${name}`);
        }
      };
      for (const [setName, set] of Object.entries(container)) {
        if (setName.startsWith('$') || set.$Collection !== true || !set.$Type) continue;
        for (const e of await all(`/${setName}`)) check(set.$Type, e, `${setName}(${String(e.Id)})`);
      }
      expect(violations).toEqual([]);
    });
  });

  describe('$filter with null', () => {
    it('Recurrence eq null / ne null (either side, with not) count what the stored members say', async () => {
      const nulls = activities.filter(recurrenceIsNull).length;
      expect(await count(`/Activities?$count=true&$top=0&$filter=${enc('Recurrence eq null')}`)).toBe(nulls);
      expect(await count(`/Activities?$count=true&$top=0&$filter=${enc('null eq Recurrence')}`)).toBe(nulls);
      expect(await count(`/Activities?$count=true&$top=0&$filter=${enc('Recurrence ne null')}`)).toBe(activities.length - nulls);
      expect(await count(`/Activities?$count=true&$top=0&$filter=${enc('not (Recurrence eq null)')}`)).toBe(activities.length - nulls);
      const ids = (await all(`/Activities?$select=Id&$filter=${enc('Recurrence ne null')}`)).map((e) => e.Id).sort();
      expect(ids).toEqual(activities.filter((a) => !recurrenceIsNull(a)).map((a) => a.Id).sort());
    });

    it('through a navigation and inside any()', async () => {
      const contacts = await tableRows(svc, 'Contacts');
      const companies = new Map((await tableRows(svc, 'Companies')).map((c) => [c.Id, c]));
      const withoutAddress = contacts.filter((c) => c.CompanyId === null || addressIsNull(companies.get(c.CompanyId)!, 'Address')).length;
      expect(await count(`/Contacts?$count=true&$top=0&$filter=${enc('Company/Address eq null')}`)).toBe(withoutAddress);
      const recurring = new Set(activities.filter((a) => !recurrenceIsNull(a)).map((a) => a.Id));
      const links = await tableRows(svc, 'Activity_Contact');
      const expected = new Set(links.filter((l) => recurring.has(l.ActivityId)).map((l) => l.ContactId)).size;
      expect(await count(`/Contacts?$count=true&$top=0&$filter=${enc('Activities/any(a: a/Recurrence ne null)')}`)).toBe(expected);
    });

    it('other comparisons of a complex value are a type error naming the position', async () => {
      for (const filter of ['Recurrence gt null', 'Recurrence eq Recurrence', "Recurrence eq 'x'"]) {
        const error = expectError(await svc.get(`/Activities?$filter=${enc(filter)}`), 400, 'TYPE_MISMATCH');
        expect(error.message).toMatch(/position \d+/);
      }
    });
  });

  describe('writes', () => {
    const created = async (body: Row): Promise<Row> => {
      const res = await post(svc, '/Activities', { Subject: 'Complex null', ...body });
      expectStatus(res, 201);
      return res.json();
    };

    it('create: null or omitted stores all members null and answers null', async () => {
      for (const body of [{ Recurrence: null }, {}]) {
        const entity = await created(body);
        expect(entity.Recurrence).toBeNull();
        const row = (await rowOf(svc, 'Activities', String(entity.Id)))!;
        expect([row.Recurrence_Frequency, row.Recurrence_Interval, row.Recurrence_Until, row.Recurrence_ClearedDates]).toEqual([null, null, null, null]);
      }
    });

    it('create: a non-null value without a non-nullable member is refused, nothing stored', async () => {
      expectValidation(await post(svc, '/Activities', { Subject: 'x', Recurrence: { Interval: 2 } }), [{ code: 'NULL_NOT_ALLOWED', target: 'Recurrence/Frequency' }]);
      expectValidation(await post(svc, '/Activities', { Subject: 'x', Recurrence: { Frequency: 'Daily', Interval: null } }), [{ code: 'NULL_NOT_ALLOWED', target: 'Recurrence/Interval' }]);
      expect(Number((await svc.knex('Activities').where({ Subject: 'x' }).count({ n: '*' }))[0].n)).toBe(0);
    });

    it('PATCH of some members of a null value: defaults fill the rest, a missing non-nullable member is refused', async () => {
      const id = String((await created({})).Id);
      expectValidation(await patch(svc, `/Activities(${id})`, { Recurrence: { Until: '2030-01-01' } }), [{ code: 'NULL_NOT_ALLOWED', target: 'Recurrence/Frequency' }]);
      expect((await rowOf(svc, 'Activities', id))!.Recurrence_Until).toBeNull();
      const res = await patch(svc, `/Activities(${id})`, { Recurrence: { Frequency: 'Monthly' } }, { Prefer: 'return=representation' });
      expectStatus(res, 200);
      expect(res.json().Recurrence).toEqual({ Frequency: 'Monthly', Interval: 1, Until: null, ClearedDates: [], DeletedDates: [] });
      expect((await svc.get(`/Activities(${id})/Recurrence`)).json()).toMatchObject({ Frequency: 'Monthly', Interval: 1 });
    });

    it('PUT of one member of a null value is refused; of a set value it changes that member', async () => {
      const nullId = String((await created({})).Id);
      expectValidation(await put(svc, `/Activities(${nullId})/Recurrence/Interval`, { value: 3 }), [{ code: 'NULL_NOT_ALLOWED', target: 'Recurrence/Frequency' }]);
      expect((await svc.get(`/Activities(${nullId})/Recurrence`)).status).toBe(204);
      const setId = String((await created({ Recurrence: { Frequency: 'Weekly' } })).Id);
      expectStatus(await put(svc, `/Activities(${setId})/Recurrence/Interval`, { value: 3 }), 204);
      expect((await svc.get(`/Activities(${setId})/Recurrence`)).json()).toMatchObject({ Frequency: 'Weekly', Interval: 3 });
      expectValidation(await put(svc, `/Activities(${setId})/Recurrence/Frequency`, { value: null }), [{ code: 'NULL_NOT_ALLOWED', target: 'Recurrence/Frequency' }]);
    });

    it('setting the value to null (PATCH, PUT of the property, DELETE of the property) clears every member', async () => {
      for (const clear of [
        (id: string) => patch(svc, `/Activities(${id})`, { Recurrence: null }),
        (id: string) => put(svc, `/Activities(${id})/Recurrence`, { value: null }),
        (id: string) => del(svc, `/Activities(${id})/Recurrence`),
      ]) {
        const id = String((await created({ Recurrence: { Frequency: 'Daily', Interval: 2, Until: '2031-05-06' } })).Id);
        expectStatus(await clear(id), 204);
        const row = (await rowOf(svc, 'Activities', id))!;
        expect([row.Recurrence_Frequency, row.Recurrence_Interval, row.Recurrence_Until]).toEqual([null, null, null]);
        expect((await svc.get(`/Activities(${id})/Recurrence`)).status).toBe(204);
        expect(await count(`/Activities?$count=true&$top=0&$filter=${enc(`Id eq ${id} and Recurrence eq null`)}`)).toBe(1);
      }
    });

    it('an Address whose last member is cleared becomes null', async () => {
      const res = await post(svc, '/Contacts', { LastName: 'Complex', HomeAddress: { City: 'Oslo' } });
      expectStatus(res, 201);
      expect(res.json().HomeAddress).toMatchObject({ City: 'Oslo', Line1: null });
      const id = String(res.json().Id);
      expectStatus(await patch(svc, `/Contacts(${id})`, { HomeAddress: { City: null } }), 204);
      expect((await svc.get(`/Contacts(${id})/HomeAddress`)).status).toBe(204);
      expect((await svc.get(`/Contacts(${id})`)).json().HomeAddress).toBeNull();
    });

    it('$batch parts answer null too', async () => {
      const res = await sendJsonBatch(svc, {
        requests: [
          { id: 'r', method: 'GET', url: `Activities(${String(nullOne.Id)})?$select=Id,Recurrence` },
          { id: 'c', method: 'POST', url: 'Activities', headers: { 'content-type': 'application/json' }, body: { Subject: 'Batch complex' } },
        ],
      });
      expectStatus(res, 200);
      const byId = new Map<string, { status: number; body: Row }>(res.json().responses.map((r: { id: string }) => [r.id, r]));
      expect(byId.get('r')!.body.Recurrence).toBeNull();
      expect(byId.get('c')!.status).toBe(201);
      expect(byId.get('c')!.body.Recurrence).toBeNull();
    });
  });
});
