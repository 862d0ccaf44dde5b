/**
 * Navigations that refer to a composite key (issue 17, items 2 and 10), on the test-only model
 * (test/fixtures/composite-keys-model.ts): `Ticket` (key `Serial` Guid + `Seat` Int32) belongs to an
 * `Edition` (key `Code` + `Year`) through the two-column foreign key (`EditionCode`, `EditionYear`);
 * `Sponsor` and `Edition` are many-to-many through `Edition_Sponsor` (`Edition_Code`, `Edition_Year`,
 * `SponsorId`). Also: upserts through an alternate key of a composite-key set, alternate keys with enum,
 * Date, Boolean and Int32 parts (`Badge`), and the keys the service generates for a composite key.
 */
import type { RunningService } from '../../../src/server';
import { call, startCompositeKeyService, type Answer, type CompositeKeyService } from '../../helpers/composite-keys-service';
import { ENGINES } from '../../helpers/engines';

type Json = Record<string, unknown>;

const values = (a: Answer) => a.json.value as Json[];
const ok = (a: Answer) => `${a.status} ${JSON.stringify(a.json.error ?? '')}`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let fixture: CompositeKeyService | undefined;
  let svc: RunningService;
  let ticket: string;
  let sponsor: string;

  beforeAll(async () => {
    fixture = await startCompositeKeyService(engine, 1);
    svc = fixture.service;
    expect(ok(await call(svc, 'POST', '/Venues', { Code: 'PARK', Name: 'City park' }))).toBe('201 ""');
    for (const [code, year] of [['FEST', 2025], ['EXPO', 2026]] as const) {
      expect(ok(await call(svc, 'POST', '/Editions', { Code: code, Year: year, Title: `${code} ${year}`, 'Venue@odata.bind': "Venues('PARK')" }))).toBe('201 ""');
    }
    // a ticket bound to an edition through the two-column foreign key; its GUID key part generated
    const created = await call(svc, 'POST', '/Tickets', { Seat: 1, Holder: 'Ann', 'Edition@odata.bind': "Editions(Code='FEST',Year=2025)" });
    expect(ok(created)).toBe('201 ""');
    expect(created.json).toMatchObject({ Seat: 1, EditionCode: 'FEST', EditionYear: 2025 });
    expect(String(created.json.Serial)).toMatch(GUID);
    ticket = `Tickets(Serial=${String(created.json.Serial)},Seat=1)`;
    expect(created.headers.get('location')).toBe(`${svc.url}/${ticket}`);
    const s = await call(svc, 'POST', '/Sponsors', { Name: 'Acme', 'Editions@odata.bind': ["Editions(Code='FEST',Year=2025)"] });
    expect(ok(s)).toBe('201 ""');
    sponsor = `Sponsors(${String(s.json.Id)})`;
  });
  afterAll(async () => { await fixture?.close(); });

  it('stores a composite foreign key and a link table with one column per key part, constrained by the database', async () => {
    const link = await svc.db.knex('Edition_Sponsor').columnInfo();
    expect(Object.keys(link).sort()).toEqual(['Edition_Code', 'Edition_Year', 'SponsorId']);
    expect(await svc.db.knex('Edition_Sponsor').select('Edition_Code', 'Edition_Year')).toEqual([{ Edition_Code: 'FEST', Edition_Year: 2025 }]);
    const dangling = await svc.db.knex('Tickets').insert({ Serial: '00000000-0000-0000-0000-00000000abcd', Seat: 9, EditionCode: 'FEST', EditionYear: 1999 })
      .then(() => 'inserted', (err: { message: string }) => err.message);
    expect(dangling).not.toBe('inserted');
  });

  it('navigates to, from and through a composite key', async () => {
    const tickets = await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Tickets?$select=Seat,Holder");
    expect(ok(tickets)).toBe('200 ""');
    expect(values(tickets)).toEqual([{ Seat: 1, Holder: 'Ann' }]);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Tickets/$count")).json).toBe(1);
    expect((await call(svc, 'GET', "/Editions(Code='EXPO',Year=2026)/Tickets/$count")).json).toBe(0);
    const edition = await call(svc, 'GET', `/${ticket}/Edition?$select=Code,Year`);
    expect(edition.json).toMatchObject({ Code: 'FEST', Year: 2025 });
    // through the composite-key set, both ways
    expect((await call(svc, 'GET', `/${ticket}/Edition/Venue/Name`)).json.value).toBe('City park');
    const through = await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2025)/Tickets?$select=Holder");
    expect(ok(through)).toBe('200 ""');
    expect(values(through)).toEqual([{ Holder: 'Ann' }]);
    expect((await call(svc, 'GET', `/Venues('PARK')/Editions(Code='FEST',Year=2025)/${ticket}/Holder`)).json.value).toBe('Ann');
    expect((await call(svc, 'GET', "/Venues('PARK')/Editions(Code='FEST',Year=2025)/Host")).status).toBe(204);
    expect(values(await call(svc, 'GET', `/${sponsor}/Editions?$select=Code,Year`))).toEqual([{ Code: 'FEST', Year: 2025 }]);
    expect(values(await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Sponsors?$select=Name"))).toEqual([{ Name: 'Acme' }]);
    expect((await call(svc, 'GET', `/${sponsor}/Editions(Code='FEST',Year=2025)/Tickets/$count`)).json).toBe(1);
  });

  it('answers 404 for a missing entity on such a path, 400 for a predicate that is no key or a bad literal', async () => {
    expect((await call(svc, 'GET', "/Editions(Code='NONE',Year=2025)/Tickets")).status).toBe(404);
    expect((await call(svc, 'GET', "/Editions(Code='FEST',Year=2025)/Tickets(Serial=00000000-0000-0000-0000-000000000001,Seat=1)")).status).toBe(404);
    expect((await call(svc, 'GET', `/Editions(Code='EXPO',Year=2026)/${ticket}`)).status).toBe(404);
    for (const url of ["/Editions(Code='FEST',Year=2025)/Tickets(Seat=1)", "/Editions(Code='FEST',Year='x')/Tickets", "/Editions(Code='FEST',Year=2025)/Tickets(Color='red')", '/Tickets(Serial=1,Seat=1)']) {
      const answer = await call(svc, 'GET', url);
      expect(`${url} ${answer.status}`).toBe(`${url} 400`);
      expect(answer.json.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
  });

  it('expands, filters with any/all and joins through composite foreign keys and link tables', async () => {
    const expanded = await call(svc, 'GET', "/Editions?$select=Code,Year&$orderby=Code&$expand=Tickets($select=Seat;$count=true),Sponsors($select=Name)");
    expect(ok(expanded)).toBe('200 ""');
    expect(values(expanded)).toEqual([
      { Code: 'EXPO', Year: 2026, 'Tickets@odata.count': 0, Tickets: [], Sponsors: [] },
      { Code: 'FEST', Year: 2025, 'Tickets@odata.count': 1, Tickets: [{ Seat: 1 }], Sponsors: [{ Name: 'Acme' }] },
    ]);
    const back = await call(svc, 'GET', '/Tickets?$select=Seat&$expand=Edition($select=Title;$expand=Sponsors($select=Name))');
    expect(values(back)).toEqual([{ Seat: 1, Edition: { Title: 'FEST 2025', Sponsors: [{ Name: 'Acme' }] } }]);
    const withRefs = await call(svc, 'GET', `/${sponsor}?$select=Name&$expand=Editions/$ref`);
    expect((withRefs.json.Editions as Json[]).map((r) => r['@odata.id'])).toEqual([`${svc.url}/Editions(Code='FEST',Year=2025)`]);
    const anyTicket = await call(svc, 'GET', '/Editions?$filter=Tickets/any(t: t/Seat eq 1)&$select=Code');
    expect(values(anyTicket)).toEqual([{ Code: 'FEST' }]);
    const allTickets = await call(svc, 'GET', "/Editions?$filter=Tickets/all(t: t/Holder eq 'Ann')&$select=Code&$orderby=Code");
    expect(values(allTickets)).toEqual([{ Code: 'EXPO' }, { Code: 'FEST' }]);
    expect(values(await call(svc, 'GET', '/Editions?$filter=Sponsors/any()&$select=Code'))).toEqual([{ Code: 'FEST' }]);
    expect(values(await call(svc, 'GET', '/Editions?$filter=Tickets/$count eq 0&$select=Code'))).toEqual([{ Code: 'EXPO' }]);
    expect(values(await call(svc, 'GET', '/Sponsors?$filter=Editions/any(e: e/Tickets/any(t: t/Seat eq 1))&$select=Name'))).toEqual([{ Name: 'Acme' }]);
    expect(values(await call(svc, 'GET', "/Tickets?$filter=Edition/Title eq 'FEST 2025'&$select=Seat&$orderby=Edition/Year desc"))).toEqual([{ Seat: 1 }]);
    // $apply aggregating over a navigation whose foreign key has a column per key part
    const related = await call(svc, 'GET', '/Editions?$apply=groupby((Code,Year),aggregate(Tickets($count as N)))/orderby(Code)');
    expect(ok(related)).toBe('200 ""');
    expect(values(related).map(({ Code, Year, Tickets }) => ({ Code, Year, Tickets }))).toEqual([
      { Code: 'EXPO', Year: 2026, Tickets: [{ N: 0 }] }, { Code: 'FEST', Year: 2025, Tickets: [{ N: 1 }] },
    ]);
  });

  it('links and unlinks with $ref and @odata.bind on both kinds of storage', async () => {
    expect(ok(await call(svc, 'POST', "/Editions(Code='EXPO',Year=2026)/Sponsors/$ref", { '@odata.id': sponsor }))).toBe('204 ""');
    expect(ok(await call(svc, 'POST', `/${sponsor}/Editions/$ref`, { '@odata.id': "Editions(Code='EXPO',Year=2026)" }))).toBe('204 ""');
    expect((await call(svc, 'GET', `/${sponsor}/Editions/$count`)).json).toBe(2);
    expect(ok(await call(svc, 'DELETE', `/${sponsor}/Editions/$ref?$id=Editions(Code='EXPO',Year=2026)`))).toBe('204 ""');
    expect((await call(svc, 'DELETE', `/${sponsor}/Editions/$ref?$id=Editions(Code='EXPO',Year=2026)`)).status).toBe(404);
    expect((await call(svc, 'POST', `/${sponsor}/Editions/$ref`, { '@odata.id': "Editions(Code='EXPO',Year=1999)" })).status).toBe(400);
    // the single-valued side: the two foreign-key columns set and cleared together
    expect(ok(await call(svc, 'PUT', `/${ticket}/Edition/$ref`, { '@odata.id': "Editions(Code='EXPO',Year=2026)" }))).toBe('204 ""');
    expect((await call(svc, 'GET', `/${ticket}?$select=EditionCode,EditionYear`)).json).toMatchObject({ EditionCode: 'EXPO', EditionYear: 2026 });
    expect(ok(await call(svc, 'DELETE', `/${ticket}/Edition/$ref`))).toBe('204 ""');
    expect((await call(svc, 'GET', `/${ticket}?$select=EditionCode,EditionYear`)).json).toMatchObject({ EditionCode: null, EditionYear: null });
    expect(ok(await call(svc, 'POST', "/Editions(Code='FEST',Year=2025)/Tickets/$ref", { '@odata.id': ticket }))).toBe('204 ""');
    expect((await call(svc, 'DELETE', `/Editions(Code='EXPO',Year=2026)/Tickets/$ref?$id=${ticket}`)).status).toBe(404);
    // binds by an alternate key of the composite-key set, and a bind that names no entity
    expect(ok(await call(svc, 'PATCH', "/Editions(Code='EXPO',Year=2026)", { Slug: 'expo-26' }))).toBe('204 ""');
    expect(ok(await call(svc, 'PATCH', `/${sponsor}`, { 'Editions@odata.bind': ["Editions(Slug='expo-26')"] }))).toBe('204 ""');
    expect((await call(svc, 'GET', `/${sponsor}/Editions/$count`)).json).toBe(2);
    const missing = await call(svc, 'POST', '/Tickets', { Seat: 2, 'Edition@odata.bind': "Editions(Code='FEST',Year=1999)" });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json.error)).toContain("Editions(Code='FEST',Year=1999)");
    // deep insert through the composite foreign key's partner
    const deep = await call(svc, 'POST', '/Editions', { Code: 'DEEP', Year: 2030, Tickets: [{ Seat: 5 }, { Seat: 6 }] });
    expect(ok(deep)).toBe('201 ""');
    expect((await call(svc, 'GET', "/Editions(Code='DEEP',Year=2030)/Tickets/$count")).json).toBe(2);
    // deleting the edition cascades to its tickets (OnDelete Cascade) and its link rows
    expect(ok(await call(svc, 'DELETE', "/Editions(Code='DEEP',Year=2030)"))).toBe('204 ""');
    expect((await call(svc, 'GET', '/Tickets?$filter=Seat ge 5&$count=true&$top=0')).json['@odata.count']).toBe(0);
  });

  it('generates the GUID parts of a new composite key; other parts are required (400 naming them)', async () => {
    const made = await call(svc, 'POST', '/Tickets', { Seat: 7 });
    expect(ok(made)).toBe('201 ""');
    expect(String(made.json.Serial)).toMatch(GUID);
    const given = await call(svc, 'POST', '/Tickets', { Serial: '11111111-2222-3333-4444-555555555555', Seat: 7 });
    expect(ok(given)).toBe('201 ""');
    expect((await call(svc, 'POST', '/Tickets', { Serial: '11111111-2222-3333-4444-555555555555', Seat: 7 })).status).toBe(409);
    const noSeat = await call(svc, 'POST', '/Tickets', { Holder: 'nobody' });
    expect(noSeat.status).toBe(400);
    expect(((noSeat.json.error as Json).details as Json[]).map((d) => d.target)).toEqual(['Seat']);
    expect((await call(svc, 'POST', '/Tickets', { Seat: 'seven' })).status).toBe(400);
  });

  it('upserts through an alternate key of a composite-key set: the key from the body, the alternate key from the URL', async () => {
    const created = await call(svc, 'PATCH', "/Editions(Slug='summer-32')", { Code: 'SUMMER', Year: 2032, Title: 'Summer' });
    expect(ok(created)).toBe('201 ""');
    expect(created.json).toMatchObject({ Code: 'SUMMER', Year: 2032, Slug: 'summer-32', Title: 'Summer' });
    expect((await call(svc, 'GET', "/Editions(Code='SUMMER',Year=2032)?$select=Slug")).json.Slug).toBe('summer-32');
    // again: now it exists, so it is an update
    expect(ok(await call(svc, 'PATCH', "/Editions(Slug='summer-32')", { Title: 'Summer!' }))).toBe('204 ""');
    expect((await call(svc, 'GET', "/Editions(Code='SUMMER',Year=2032)/Title")).json.value).toBe('Summer!');
    const put = await call(svc, 'PUT', "/Editions(Slug='winter-32')", { Code: 'WINTER', Year: 2032 });
    expect(ok(put)).toBe('201 ""');
    const noKey = await call(svc, 'PATCH', "/Editions(Slug='autumn-32')", { Title: 'no key' });
    expect(noKey.status).toBe(400);
    expect(String((noKey.json.error as Json).message)).toContain('Code');
    expect((await call(svc, 'PATCH', "/Editions(Slug='autumn-32')", { Code: 'AUTUMN', Year: 'soon' })).status).toBe(400);
    expect((await call(svc, 'GET', "/Editions(Slug='autumn-32')")).status).toBe(404);
    // a single GUID key: generated, the composite alternate key's parts (an enum among them) set from the URL
    const badge = await call(svc, 'PUT', "/Badges(Level=Crm.BadgeLevel'Gold',Holder='ann')", {});
    expect(ok(badge)).toBe('201 ""');
    expect(badge.json).toMatchObject({ Level: 'Gold', Holder: 'ann' });
    expect(String(badge.json.Id)).toMatch(GUID);
  });

  it('finds entities by alternate keys with enum, Date, Boolean and Int32 parts; 400 for no key or a bad value', async () => {
    const made = await call(svc, 'POST', '/Badges', { Level: 'Silver', Holder: 'bob', Issued: '2026-01-05', Active: true, Rank: 2 });
    expect(ok(made)).toBe('201 ""');
    const canonical = `${svc.url}/Badges(${String(made.json.Id)})`;
    for (const url of ["/Badges(Level=Crm.BadgeLevel'Silver',Holder='bob')", "/Badges(Level='Silver',Holder='Bob')", '/Badges(Holder=\'bob\',Level=2)', '/Badges(Issued=2026-01-05)', '/Badges(Active=true,Rank=2)']) {
      const found = await call(svc, 'GET', `${url}?$select=Holder`, undefined, { Accept: 'application/json;odata.metadata=full' });
      expect(`${url} ${ok(found)}`).toBe(`${url} 200 ""`);
      expect(found.json['@odata.id']).toBe(canonical);
    }
    expect((await call(svc, 'GET', '/Badges(Issued=2020-01-01)')).status).toBe(404);
    expect((await call(svc, 'GET', '/Badges(Active=false,Rank=2)')).status).toBe(404);
    for (const url of ["/Badges(Level='Platinum',Holder='bob')", "/Badges(Level=Crm.Other'Silver',Holder='bob')", "/Badges(Color='red')", "/Badges(Issued='soon')", '/Badges(Active=1,Rank=2)', "/Badges(Holder='bob')"]) {
      const answer = await call(svc, 'GET', url);
      expect(`${url} ${answer.status}`).toBe(`${url} 400`);
    }
    const bound = await call(svc, 'PATCH', `/${ticket}`, { Holder: 'via badge' });
    expect(bound.status).toBe(204);
  });

  it('does not take keys as segments (Capabilities.KeyAsSegmentSupported is false): a clear error, not a 500', async () => {
    const answer = await call(svc, 'GET', "/Editions/FEST");
    expect([400, 404]).toContain(answer.status);
    expect(answer.json.error).toMatchObject({ message: expect.any(String) });
  });
});
