/**
 * Record access, role × path (issue 14, items 4-6): a private record of another user is invisible to
 * Standard, Restricted and Browse through every read path (single requests and $batch parts), and
 * every write path answers 404 for what the role may not see and 403 for what the role may not write.
 * Administrators and Managers see it. Each cell is "expected/observed"; the matrix is written to
 * test/output/record-access-<engine>.md for the issue note. Also: CreatedById/EditedById (item 5).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, startTestService, TEST_DEMO_PASSWORD, type TestService } from '../../helpers/service';
import { newId } from '../writes/write-support';
import { asCaller } from './auth-support';

const ROLES = ['Administrator', 'Manager', 'Standard', 'Restricted', 'Browse'] as const;
type RoleName = typeof ROLES[number];
const SEES_PRIVATE: Readonly<Record<RoleName, boolean>> = { Administrator: true, Manager: true, Standard: false, Restricted: false, Browse: false };
type Headers = Record<string, string>;

/** What a request answered, from a single response or a $batch part. */
interface Observed { readonly status: number; readonly body: unknown }
type Seen = 'seen' | 'hidden';

interface Fixture {
  readonly tag: string;
  /** private contact of another user, the record every read path looks for */
  readonly P: string; readonly C: string; readonly Co: string; readonly G: string; readonly D: string;
  readonly U1: string; readonly U2: string; readonly noteShared: string; readonly notePrivate: string;
  readonly activity: string; readonly opportunity: string;
  /** each role's own private contact */
  readonly own: Readonly<Record<RoleName, string>>;
  /** page 2 of a one-row page, as the Administrator's next link names it (service-relative) */
  readonly page2: string;
}

const ids = (o: Observed): string[] => ((o.body as { value?: { Id?: string }[] }).value ?? []).map((r) => String(r.Id));
const has = (o: Observed, id: string): Seen => (ids(o).includes(id) ? 'seen' : 'hidden');
const found = (o: Observed): Seen | string => (o.status === 200 ? 'seen' : o.status === 404 ? 'hidden' : `status ${o.status}`);
const countIs = (o: Observed, n: number): Seen | string => (Number(String(o.body).trim()) === n ? 'seen' : Number(String(o.body).trim()) === 0 ? 'hidden' : `count ${String(o.body)}`);
const field = (o: Observed, name: string): unknown => (o.body as Record<string, unknown>)[name];

interface ReadPath { readonly name: string; readonly url: (f: Fixture, role: RoleName) => string; readonly observe: (o: Observed, f: Fixture) => Seen | string; readonly own?: true }

const READ_PATHS: readonly ReadPath[] = [
  { name: 'by key', url: (f) => `Contacts(${f.P})`, observe: found },
  { name: 'list ($filter)', url: (f) => `Contacts?$filter=LastName eq '${f.tag}'&$select=Id`, observe: (o, f) => has(o, f.P) },
  { name: '/$count', url: (f) => `Contacts/$count?$filter=LastName eq '${f.tag}'`, observe: (o) => countIs(o, 1) },
  { name: '$count=true', url: (f) => `Contacts?$filter=LastName eq '${f.tag}'&$count=true&$top=0`, observe: (o) => (field(o, '@odata.count') === 1 ? 'seen' : field(o, '@odata.count') === 0 ? 'hidden' : 'bad') },
  { name: '$search', url: (f) => `Contacts?$search=${f.tag}&$select=Id`, observe: (o, f) => has(o, f.P) },
  { name: 'keyset page ($skiptoken)', url: (f) => f.page2, observe: (o, f) => has(o, f.P) },
  { name: '$expand (collection)', url: (f) => `Companies(${f.Co})?$expand=Contacts($select=Id)`, observe: (o, f) => has({ status: o.status, body: { value: field(o, 'Contacts') } }, f.P) },
  { name: '$expand (link table)', url: (f) => `Notes(${f.noteShared})?$expand=Contacts($select=Id)`, observe: (o, f) => has({ status: o.status, body: { value: field(o, 'Contacts') } }, f.P) },
  { name: '$expand (nested level)', url: (f) => `Users(${f.U1})?$expand=Contact($select=Id;$expand=Company($select=Id;$expand=Contacts($select=Id)))`, observe: (o) => (field(o, 'Contact') === null ? 'hidden' : 'seen') },
  { name: '$expand=Nav/$count', url: (f) => `Companies(${f.Co})?$expand=Contacts/$count`, observe: (o) => (field(o, 'Contacts@odata.count') === 1 ? 'seen' : field(o, 'Contacts@odata.count') === 0 ? 'hidden' : 'bad') },
  { name: '$expand (single-valued)', url: (f) => `Users(${f.U1})?$expand=Contact($select=Id)`, observe: (o) => (field(o, 'Contact') === null ? 'hidden' : 'seen') },
  { name: '$filter on single-valued navigation', url: (f) => `Users?$filter=Contact/LastName eq '${f.tag}'&$select=Id`, observe: (o, f) => has(o, f.U1) },
  { name: '$orderby on single-valued navigation', url: (f) => `Users?$filter=Id in (${f.U1},${f.U2})&$orderby=Contact/FirstName desc&$select=Id`, observe: (o, f) => (ids(o)[0] === f.U1 ? 'seen' : 'hidden') },
  { name: 'any()', url: (f) => `Companies?$filter=Contacts/any(c: c/LastName eq '${f.tag}')&$select=Id`, observe: (o, f) => has(o, f.Co) },
  { name: 'all() (hidden member not counted)', url: (f) => `Companies?$filter=Id eq ${f.Co} and Contacts/all(c: c/LastName ne '${f.tag}')&$select=Id`, observe: (o, f) => (has(o, f.Co) === 'seen' ? 'hidden' : 'seen') },
  { name: 'any() correlated ($it)', url: () => `Companies?$filter=Contacts/any(c: c/LastName eq $it/Name)&$select=Id`, observe: (o, f) => has(o, f.Co) },
  { name: 'Nav/$count in $filter', url: (f) => `Companies?$filter=Id eq ${f.Co} and Contacts/$count eq 1&$select=Id`, observe: (o, f) => has(o, f.Co) },
  { name: 'navigation path (Companies(x)/Contacts)', url: (f) => `Companies(${f.Co})/Contacts?$select=Id`, observe: (o, f) => has(o, f.P) },
  { name: 'navigation path /$count', url: (f) => `Companies(${f.Co})/Contacts/$count`, observe: (o) => countIs(o, 1) },
  { name: '$ref read', url: (f) => `Companies(${f.Co})/Contacts/$ref`, observe: (o, f) => ((o.body as { value: { '@odata.id': string }[] }).value.some((r) => r['@odata.id'].includes(f.P)) ? 'seen' : 'hidden') },
  { name: 'parent check (Contacts(p)/Notes)', url: (f) => `Contacts(${f.P})/Notes`, observe: found },
  { name: 'hop through hidden (Contacts(p)/Company/Contacts)', url: (f) => `Contacts(${f.P})/Company/Contacts`, observe: found },
  { name: 'property of hidden record', url: (f) => `Contacts(${f.P})/LastName`, observe: found },
  { name: 'single-valued navigation to hidden (Users(u)/Contact)', url: (f) => `Users(${f.U1})/Contact`, observe: (o) => (o.status === 200 ? 'seen' : [204, 404].includes(o.status) ? 'hidden' : `status ${o.status}`) },
  { name: 'static group members', url: (f) => `Groups(${f.G})/Contacts?$select=Id`, observe: (o, f) => has(o, f.P) },
  { name: 'dynamic group members', url: (f) => `Groups(${f.D})/Contacts?$select=Id`, observe: (o, f) => has(o, f.P) },
  { name: 'dynamic group any()', url: (f) => `Groups?$filter=Id eq ${f.D} and Contacts/any(c: c/Id eq ${f.P})&$select=Id`, observe: (o, f) => has(o, f.D) },
  { name: 'private Note by key', url: (f) => `Notes(${f.notePrivate})`, observe: found },
  { name: 'private Activity by key', url: (f) => `Activities(${f.activity})`, observe: found },
  { name: 'private Opportunity by key', url: (f) => `Opportunities(${f.opportunity})`, observe: found },
  { name: 'own private record (control)', url: (f, role) => `Contacts(${f.own[role]})`, observe: found, own: true },
];

/** A write on fresh records: the private record of another user `w` and records owned by the role's user. */
interface WriteTargets { readonly w: string; readonly activity: string; readonly opportunity: string; readonly company: string; readonly group: string; readonly publicContact: string; readonly ownPrivate: string }
interface WritePath {
  readonly name: string;
  readonly request: (t: WriteTargets) => { method: string; url: string; body?: unknown };
  /** expected status per role */
  readonly expected: Readonly<Record<RoleName, number>>;
}
const onHidden = (visible: number, hidden = 404): Record<RoleName, number> => ({ Administrator: visible, Manager: visible, Standard: hidden, Restricted: hidden, Browse: 403 });

const WRITE_PATHS: readonly WritePath[] = [
  { name: 'PATCH private of other', request: (t) => ({ method: 'PATCH', url: `Contacts(${t.w})`, body: { JobTitle: 'x' } }), expected: onHidden(204) },
  { name: 'PUT private of other', request: (t) => ({ method: 'PUT', url: `Contacts(${t.w})`, body: { LastName: 'Put' } }), expected: onHidden(204) },
  { name: 'DELETE private of other', request: (t) => ({ method: 'DELETE', url: `Contacts(${t.w})` }), expected: onHidden(204) },
  { name: 'POST under private of other (Contacts(w)/Notes)', request: (t) => ({ method: 'POST', url: `Contacts(${t.w})/Notes`, body: { Text: 'n' } }), expected: onHidden(201) },
  { name: 'bind to private of other (400 naming the bind)', request: (t) => ({ method: 'POST', url: 'Notes', body: { Text: 'n', 'Contacts@odata.bind': [`Contacts(${t.w})`] } }), expected: onHidden(201, 400) },
  { name: 'foreign-key value naming private of other (400 naming it)', request: (t) => ({ method: 'POST', url: 'OpportunityProducts', body: { OpportunityId: t.opportunity, Quantity: 1, Price: 1 } }), expected: onHidden(201, 400) },
  { name: 'POST $ref to private of other', request: (t) => ({ method: 'POST', url: `Companies(${t.company})/Contacts/$ref`, body: { '@odata.id': `Contacts(${t.w})` } }), expected: onHidden(204, 400) },
  { name: 'DELETE $ref to private of other', request: (t) => ({ method: 'DELETE', url: `Groups(${t.group})/Contacts/$ref?$id=Contacts(${t.w})` }), expected: onHidden(204) },
  { name: 'Crm.MassUpdate private of other', request: (t) => ({ method: 'POST', url: 'Contacts/Crm.MassUpdate', body: { Ids: [t.w], Changes: { JobTitle: 'm' } } }), expected: onHidden(200) },
  { name: 'Crm.MassDelete private of other', request: (t) => ({ method: 'POST', url: 'Contacts/Crm.MassDelete', body: { Ids: [t.w] } }), expected: onHidden(204) },
  { name: 'Crm.Clear private Activity of other', request: (t) => ({ method: 'POST', url: `Activities(${t.activity})/Crm.Clear` }), expected: onHidden(200) },
  { name: 'PATCH public of other', request: (t) => ({ method: 'PATCH', url: `Contacts(${t.publicContact})`, body: { JobTitle: 'x' } }), expected: { Administrator: 204, Manager: 204, Standard: 204, Restricted: 403, Browse: 403 } },
  { name: 'DELETE public of other', request: (t) => ({ method: 'DELETE', url: `Contacts(${t.publicContact})` }), expected: { Administrator: 204, Manager: 204, Standard: 204, Restricted: 403, Browse: 403 } },
  { name: 'PATCH own private', request: (t) => ({ method: 'PATCH', url: `Contacts(${t.ownPrivate})`, body: { JobTitle: 'mine' } }), expected: { Administrator: 204, Manager: 204, Standard: 204, Restricted: 204, Browse: 403 } },
  { name: 'POST Users', request: () => ({ method: 'POST', url: 'Users', body: { UserName: `u${newId().slice(0, 12)}` } }), expected: { Administrator: 201, Manager: 403, Standard: 403, Restricted: 403, Browse: 403 } },
];

type Mode = 'single' | '$batch';

for (const engine of ENGINES) {
  describe(`${engine.name}: record access, role × path`, () => {
    let svc: TestService;
    const as = {} as Record<RoleName, Headers>;
    const userIds = {} as Record<RoleName, string>;
    let other: string;
    let f: Fixture;
    /** path → role → mode → cell */
    const matrix = new Map<string, Map<string, string>>();

    const send = (role: RoleName, method: string, path: string, body?: unknown) =>
      asCaller(svc, method, `/${path}`, { ...as[role], 'Content-Type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
    const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
      const res = await send('Administrator', method, path, body);
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      return res.text ? res.json() : {};
    };
    const create = async (path: string, body: Record<string, unknown>): Promise<string> => String((await admin('POST', path, body)).Id);
    const observe = async (role: RoleName, mode: Mode, requests: readonly { method: string; url: string; body?: unknown }[]): Promise<Observed[]> => {
      if (mode === 'single') {
        return Promise.all(requests.map(async (r) => {
          const res = await send(role, r.method, r.url, r.body);
          return { status: res.status, body: /json/.test(res.headers.get('content-type') ?? '') ? res.json() : res.text };
        }));
      }
      const batch = { requests: requests.map((r, i) => ({ id: String(i + 1), method: r.method, url: r.url, headers: { 'content-type': 'application/json' }, body: r.body })) };
      // a 404 part must not end the batch: every part is a cell
      const res = await asCaller(svc, 'POST', '/$batch', { ...as[role], 'Content-Type': 'application/json', Prefer: 'odata.continue-on-error' }, JSON.stringify(batch));
      expect(res.status).toBe(200);
      const parts = (res.json() as { responses: { id: string; status: number; body?: unknown }[] }).responses;
      return requests.map((_, i) => { const p = parts.find((x) => x.id === String(i + 1))!; return { status: p.status, body: p.body }; });
    };
    const record = (path: string, column: string, cell: string) => {
      if (!matrix.has(path)) matrix.set(path, new Map());
      matrix.get(path)!.set(column, cell);
    };

    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 5 });
      as.Administrator = svc.authHeaders;
      for (const role of ROLES.slice(1)) as[role] = await bearerFor(svc.url, `demo.${role.toLowerCase()}`, TEST_DEMO_PASSWORD);
      for (const role of ROLES) {
        userIds[role] = String((await svc.knex('Users').select('Id').where('UserName', role === 'Administrator' ? 'admin' : `demo.${role.toLowerCase()}`))[0].Id);
      }
      other = await create('Users', { UserName: `other${newId().slice(0, 8)}` });
      const tag = `Hid${newId().replace(/-/g, '').slice(0, 10)}`;
      const Co = await create('Companies', { Name: tag });
      const P = await create('Contacts', { FirstName: 'Zed', LastName: tag, IsPrivate: true, OwnerId: other, CompanyId: Co });
      const C = await create('Contacts', { FirstName: 'Amy', LastName: `${tag}-pub`, IsPrivate: false, OwnerId: other });
      const own = {} as Record<RoleName, string>;
      for (const role of ROLES) own[role] = await create('Contacts', { LastName: `Own ${role}`, IsPrivate: true, OwnerId: userIds[role] });
      const first = await svc.get(`/Contacts?$filter=startswith(LastName,'${tag}')&$orderby=LastName desc&$select=Id`, { Prefer: 'odata.maxpagesize=1' });
      const next = String(first.json()['@odata.nextLink']);
      f = {
        tag, P, C, Co, own,
        G: await create('Groups', { Name: `${tag} static`, 'Contacts@odata.bind': [`Contacts(${P})`] }),
        D: await create('Groups', { Name: `${tag} dynamic`, Criteria: `LastName eq '${tag}'` }),
        U1: await create('Users', { UserName: `u1${tag}`, ContactId: P }),
        U2: await create('Users', { UserName: `u2${tag}`, ContactId: C }),
        noteShared: await create('Notes', { Text: 'shared', IsPrivate: false, OwnerId: other, 'Contacts@odata.bind': [`Contacts(${P})`, `Contacts(${C})`] }),
        notePrivate: await create('Notes', { Text: 'secret', IsPrivate: true, OwnerId: other }),
        activity: await create('Activities', { Subject: 'secret', IsPrivate: true, OrganizerId: other }),
        opportunity: await create('Opportunities', { Name: 'secret', IsPrivate: true, ManagerId: other }),
        page2: next.slice(next.indexOf('/odata/') + '/odata/'.length),
      };
    });
    afterAll(async () => {
      const lines = [`Record access on ${engine.name}: cells expected/observed (single request · $batch part)`, '',
        `| path | ${ROLES.join(' | ')} |`, `|---|${ROLES.map(() => '---').join('|')}|`];
      for (const [path, cells] of matrix) lines.push(`| ${path} | ${ROLES.map((r) => `${cells.get(`${r} single`) ?? '-'} · ${cells.get(`${r} $batch`) ?? '-'}`).join(' | ')} |`);
      const dir = join(__dirname, '..', '..', 'output');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `record-access-${engine.name}.md`), lines.join('\n') + '\n');
      await svc.close();
    });

    for (const role of ROLES) {
      for (const mode of ['single', '$batch'] as const) {
        it(`${role}: every read path (${mode})`, async () => {
          const observed = await observe(role, mode, READ_PATHS.map((p) => ({ method: 'GET', url: p.url(f, role) })));
          const rows = READ_PATHS.map((p, i) => {
            const expected = p.own || SEES_PRIVATE[role] ? 'seen' : 'hidden';
            const got = observed[i].status >= 500 ? `status ${observed[i].status}` : p.observe(observed[i], f);
            record(`read: ${p.name}`, `${role} ${mode}`, `${expected}/${got}`);
            return [p.name, expected, got];
          });
          expect(rows).toEqual(rows.map(([name, expected]) => [name, expected, expected]));
        });

        it(`${role}: every write path (${mode})`, async () => {
          const rows: (string | number)[][] = [];
          for (const path of WRITE_PATHS) {
            const t: WriteTargets = {
              w: await create('Contacts', { LastName: 'Victim', IsPrivate: true, OwnerId: other }),
              activity: await create('Activities', { Subject: 'victim', IsPrivate: true, OrganizerId: other }),
              opportunity: await create('Opportunities', { Name: 'victim', IsPrivate: true, ManagerId: other }),
              company: await create('Companies', { Name: 'Mine', OwnerId: userIds[role] }),
              group: await create('Groups', { Name: 'Mine', OwnerId: userIds[role] }),
              publicContact: await create('Contacts', { LastName: 'Public', IsPrivate: false, OwnerId: other }),
              ownPrivate: f.own[role],
            };
            await admin('POST', `Groups(${t.group})/Contacts/$ref`, { '@odata.id': `Contacts(${t.w})` });
            const request = path.request(t);
            const [o] = await observe(role, mode, [request]);
            const expected = path.expected[role];
            record(`write: ${path.name}`, `${role} ${mode}`, `${expected}/${o.status}`);
            rows.push([path.name, expected, o.status]);
            const error = (o.body as { error?: { details?: { target?: string }[] } } | undefined)?.error;
            if (o.status === 400) rows.push([`${path.name}: bind named`, 1, error?.details?.some((d) => /Contacts|@odata\.id|OpportunityId/.test(String(d.target))) ? 1 : 0]);
            // what the caller may not see or write is unchanged
            if (o.status >= 400) rows.push([`${path.name}: record unchanged`, 1, (await svc.knex('Contacts').where('Id', t.w).first()).LastName === 'Victim' ? 1 : 0]);
          }
          expect(rows).toEqual(rows.map(([name, expected]) => [name, expected, expected]));
        });
      }
    }

    it('CreatedById/EditedById name the caller, in single requests, $batch parts and mass operations; owners default to the creator', async () => {
      const created = await send('Standard', 'POST', 'Notes', { Text: 'audited' });
      expect(created.status).toBe(201);
      const note = created.json();
      expect([note.CreatedById, note.EditedById, note.OwnerId]).toEqual([userIds.Standard, userIds.Standard, userIds.Standard]);
      expect((await send('Manager', 'PATCH', `Notes(${String(note.Id)})`, { Text: 'edited' })).status).toBe(204);
      const byAdmin = await svc.get(`/Notes(${String(note.Id)})?$select=CreatedById,EditedById&$expand=CreatedBy($select=UserName),EditedBy($select=UserName)`);
      expect(byAdmin.json()).toMatchObject({ CreatedById: userIds.Standard, EditedById: userIds.Manager, CreatedBy: { UserName: 'demo.standard' }, EditedBy: { UserName: 'demo.manager' } });
      const filtered = await svc.get(`/Notes?$filter=CreatedById eq ${userIds.Standard} and Id eq ${String(note.Id)}&$select=Id`);
      expect(filtered.json().value).toHaveLength(1);
      const [batched] = await observe('Restricted', '$batch', [{ method: 'POST', url: 'Contacts', body: { LastName: 'Batched' } }]);
      expect([batched.status, field(batched, 'CreatedById'), field(batched, 'OwnerId')]).toEqual([201, userIds.Restricted, userIds.Restricted]);
      const mass = await send('Manager', 'POST', 'Contacts/Crm.MassUpdate', { Ids: [field(batched, 'Id')], Changes: { JobTitle: 'mass' } });
      expect(mass.status).toBe(200);
      expect((await svc.get(`/Contacts(${String(field(batched, 'Id'))})?$select=EditedById`)).json().EditedById).toBe(userIds.Manager);
      // a computed value from the client is not taken
      const forged = await send('Standard', 'POST', 'Notes', { Text: 'forged', CreatedById: userIds.Administrator });
      expect([201, 400]).toContain(forged.status);
      if (forged.status === 201) expect(forged.json().CreatedById).toBe(userIds.Standard);
    });
  });
}
