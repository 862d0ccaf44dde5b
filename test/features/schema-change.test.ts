/**
 * A schema change is atomic and serialized (issue 17, item 3), through the internal API
 * `RunningService.lifecycle.applySchemaChange` (no HTTP route yet: FieldDefinitions, item 4, will be
 * one), observed over HTTP: the next model is served at once by the process that made the change and
 * within a second by another process on the same database (SQLite: it polls the version row;
 * PostgreSQL: LISTEN/NOTIFY); `$metadata` carries Core.SchemaVersion
 * and an ETag that change with it, full-metadata payloads @odata.metadataEtag; a failure injected
 * between the DDL and the definition rows leaves no column, no row and no property.
 */
import { withOverrides, type Config } from '../../src/config';
import type { SchemaChange } from '../../src/edm/schema-change';
import { startService, type RunningService } from '../../src/server';
import { ENGINES } from '../helpers/engines';

type Json = Record<string, unknown>;

function start(database: string, settings: Partial<Record<keyof Config, string | number>> = {}): Promise<RunningService> {
  return startService(withOverrides({
    auth: 'off', rateLimit: 'off', adminPassword: 'admin-password-for-tests', demoPassword: 'demo-password-for-tests',
    logLevel: 'silent', port: 0, host: '127.0.0.1', ...settings, database,
  }));
}

async function call(service: RunningService, method: string, url: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; json: Json }> {
  const headers = { ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers };
  const res = await fetch(service.url + url, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) as Json : {} };
}

const addText = (property: string, maxLength = 100): SchemaChange => ({ kind: 'add-property', entityType: 'Contact', property, definition: { $MaxLength: maxLength, $Nullable: true } });

async function metadata(service: RunningService): Promise<{ etag: string | null; schema: Json; contact: Json }> {
  const res = await call(service, 'GET', '/$metadata?$format=json');
  expect(res.status).toBe(200);
  const schema = res.json.Crm as Json;
  return { etag: res.headers.get('etag'), schema, contact: schema.Contact as Json };
}

const customProperties = (contact: Json) => Object.keys(contact).filter((k) => /^F\d+$/.test(k)).sort();

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  let a: RunningService;
  let b: RunningService;
  let contactId: string;

  beforeAll(async () => {
    database = await engine.freshUrl();
    a = await start(database, { seedContacts: 20 });
    // on PostgreSQL b does not poll: it hears of a's changes through LISTEN/NOTIFY alone
    b = await start(database, { seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: engine.name === 'postgres' ? 0 : 250 });
    contactId = String(((await call(a, 'GET', '/Contacts?$top=1&$orderby=Id&$select=Id')).json.value as Json[])[0].Id);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await engine.dispose(database);
  });

  it('serves an added property at once, in $metadata (new SchemaVersion and ETag), queries and writes', async () => {
    const before = await metadata(a);
    expect(before.schema['@Org.OData.Core.V1.SchemaVersion']).toMatch(/^[0-9a-f]{16}$/);
    expect(before.etag).toBe(`W/"${String(before.schema['@Org.OData.Core.V1.SchemaVersion'])}"`);
    expect(before.contact).not.toHaveProperty('Hobby');
    expect((await call(a, 'GET', '/Contacts?$select=Hobby')).status).toBe(400);

    await a.lifecycle.applySchemaChange(addText('Hobby'));

    const after = await metadata(a);
    expect(after.contact.Hobby).toEqual({ $MaxLength: 100, $Nullable: true });
    expect(after.etag).not.toBe(before.etag);
    expect(after.etag).toBe(`W/"${String(after.schema['@Org.OData.Core.V1.SchemaVersion'])}"`);
    const xml = await fetch(`${a.url}/$metadata`);
    expect(await xml.text()).toContain('<Property Name="Hobby" Type="Edm.String" MaxLength="100"/>');
    expect(xml.headers.get('etag')).toBe(after.etag);

    expect((await call(a, 'PATCH', `/Contacts(${contactId})`, { body: { Hobby: 'Chess' } })).status).toBe(204);
    expect((await call(a, 'GET', `/Contacts(${contactId})?$select=Hobby`)).json.Hobby).toBe('Chess');
    const found = await call(a, 'GET', "/Contacts?$filter=Hobby eq 'Chess'&$select=Id,Hobby&$orderby=Hobby desc");
    expect(found.json.value).toEqual([expect.objectContaining({ Id: contactId, Hobby: 'Chess' })]);
    const tooLong = await call(a, 'PATCH', `/Contacts(${contactId})`, { body: { Hobby: 'x'.repeat(101) } });
    expect(tooLong.status).toBe(400);

    const full = await call(a, 'GET', '/Contacts?$top=1&$select=Hobby', { headers: { Accept: 'application/json;odata.metadata=full' } });
    expect(full.json['@odata.metadataEtag']).toBe(after.etag);
    const minimal = await call(a, 'GET', '/Contacts?$top=1&$select=Hobby');
    expect(minimal.json).not.toHaveProperty('@odata.metadataEtag');
  });

  it('another process on the database serves the new model within one second', async () => {
    const etagBefore = (await metadata(b)).etag;
    await a.lifecycle.applySchemaChange(addText('Nickname', 40));
    const changedAt = Date.now();
    const expected = (await metadata(a)).etag;
    let seen: string | null = etagBefore;
    while (seen !== expected && Date.now() - changedAt < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      seen = (await metadata(b)).etag;
    }
    expect(seen).toBe(expected);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect((await metadata(b)).contact.Nickname).toEqual({ $MaxLength: 40, $Nullable: true });
    expect((await call(b, 'PATCH', `/Contacts(${contactId})`, { body: { Nickname: 'Cat' } })).status).toBe(204);
    expect((await call(a, 'GET', `/Contacts(${contactId})?$select=Nickname`)).json.Nickname).toBe('Cat');
  });

  it('a failure between the DDL and the definition rows changes nothing', async () => {
    const before = await metadata(a);
    const changes = await a.db.knex('odata_schema_changes').count({ n: '*' });
    await expect(a.lifecycle.applySchemaChange(addText('Shoe'), { afterDdl: () => { throw new Error('injected failure after the DDL'); } }))
      .rejects.toThrow('injected failure after the DDL');
    const after = await metadata(a);
    expect(after.etag).toBe(before.etag);
    expect(after.contact).not.toHaveProperty('Shoe');
    expect((await call(a, 'GET', '/Contacts?$select=Shoe')).status).toBe(400);
    expect(await a.db.knex.schema.hasColumn('Contacts', 'cf_Shoe')).toBe(false);
    expect(await a.db.knex('odata_schema_changes').count({ n: '*' })).toEqual(changes);
    // and the same change goes through once nothing fails
    await a.lifecycle.applySchemaChange(addText('Shoe'));
    expect((await metadata(a)).contact).toHaveProperty('Shoe');
  });

  it('refuses a change that does not fit the model, and one whose DDL would lose data', async () => {
    await expect(a.lifecycle.applySchemaChange(addText('hobby'))).rejects.toThrow('Contact already has a member Hobby');
    await expect(a.lifecycle.applySchemaChange(addText('9Lives'))).rejects.toThrow('not a valid name');
    await expect(a.lifecycle.applySchemaChange({ kind: 'drop-property', entityType: 'Contact', property: 'JobTitle' })).rejects.toThrow('built in');
    await expect(a.lifecycle.applySchemaChange({ kind: 'add-property', entityType: 'Nothing', property: 'X', definition: {} })).rejects.toThrow('no entity type Nothing');
    // dropping a run-time property drops its column, values included
    await a.lifecycle.applySchemaChange({ kind: 'drop-property', entityType: 'Contact', property: 'Hobby' });
    expect((await metadata(a)).contact).not.toHaveProperty('Hobby');
    expect(await a.db.knex.schema.hasColumn('Contacts', 'cf_Hobby')).toBe(false);
    expect((await call(a, 'GET', '/Contacts?$select=Hobby')).status).toBe(400);
  });

  it('twenty parallel changes on one type from two processes end with $metadata listing exactly those that succeeded', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `F${i + 1}`);
    // Two services in one process on SQLite would stall each other in SQLite's (synchronous) busy
    // wait; separate processes (workers, nodes) wait for the schema lock instead. So on SQLite the
    // parallel changes all go through one service (its queue and the lock row serialize them).
    const other = engine.name === 'postgres' ? b : a;
    // F3 and F7 are asked for twice: exactly one of each pair can succeed
    const attempts = [...names.map((n, i) => ({ name: n, via: i % 2 === 0 ? a : other })), { name: 'F3', via: other }, { name: 'F7', via: a }];
    const outcomes = await Promise.allSettled(attempts.map(({ name, via }) => via.lifecycle.applySchemaChange(addText(name, 20))));
    const succeeded = attempts.filter((_, i) => outcomes[i].status === 'fulfilled').map((x) => x.name).sort();
    expect(succeeded).toEqual([...names].sort());
    for (const [i, o] of outcomes.entries()) if (o.status === 'rejected') expect([attempts[i].name, String(o.reason)]).toEqual([attempts[i].name, expect.stringContaining('already has a member')]);
    // each process serves what it applied at once and what the other applied within a second
    const settledAt = Date.now();
    const converged = async () => customProperties((await metadata(a)).contact).length === succeeded.length && customProperties((await metadata(b)).contact).length === succeeded.length;
    while (Date.now() - settledAt < 3000 && !(await converged())) await new Promise((r) => setTimeout(r, 25));
    expect(Date.now() - settledAt).toBeLessThan(1000);
    expect(customProperties((await metadata(a)).contact)).toEqual(succeeded);
    expect(customProperties((await metadata(b)).contact)).toEqual(succeeded);
    const columns = Object.keys(await a.db.knex('Contacts').columnInfo()).filter((c) => /^cf_F\d+$/.test(c)).sort();
    expect(columns).toEqual(succeeded.map((n) => `cf_${n}`));
  });

  it('a restart serves the run-time additions (built-in model + definition rows)', async () => {
    const expected = await metadata(a);
    const c = await start(database, { seedContacts: 0, sqliteReadProcesses: 0, modelPollMs: 0 });
    try {
      const restarted = await metadata(c);
      expect(restarted.etag).toBe(expected.etag);
      expect(restarted.contact).toHaveProperty('Nickname');
      expect((await call(c, 'GET', `/Contacts(${contactId})?$select=Nickname`)).json.Nickname).toBe('Cat');
    } finally {
      await c.close();
    }
  });
});
