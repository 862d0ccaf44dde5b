/**
 * Tags (issue 17, item 8): an alternate key `Name` unique ignoring case, upsert by name, binding by
 * name in `@odata.bind` and `$ref`, navigations both ways, and DELETE that removes links only.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  const send = (method: string, path: string, body?: unknown) => svc.request(method, path, { headers: JSON_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 20 });
  });
  afterAll(() => svc.close());

  it('PUT Tags(Name=…) with {} creates the tag once; any case finds it; @odata.id stays the canonical key', async () => {
    const created = await send('PUT', "/Tags(Name='Clients')", {});
    expect(created.status).toBe(201);
    const tag = created.json<Row>();
    expect(tag.Name).toBe('Clients');
    expect(typeof tag.Id).toBe('string');
    const again = await send('PUT', "/Tags(Name='clients')", {});
    expect(again.status).toBe(204);
    const represented = await svc.request('PUT', "/Tags(Name='CLIENTS')", { headers: Object.assign({ Prefer: 'return=representation' }, JSON_HEADERS), body: '{}' });
    expect(represented.status).toBe(200);
    // the stored name is kept: the URL found the tag, it did not rename it
    expect(represented.json<Row>()).toMatchObject({ Id: tag.Id, Name: 'Clients' });
    expect(await svc.knex('Tags').count({ n: '*' }).then((r) => Number(r[0].n))).toBe(1);
    const found = await svc.get("/Tags(Name='CLIENTS')?$format=application/json;odata.metadata=full");
    expect(found.status).toBe(200);
    const body = found.json<Row>();
    expect(body['@odata.id']).toBe(`${svc.url}/Tags(${String(tag.Id)})`);
    expect(body.Id).toBe(tag.Id);
    expect((await svc.get("/Tags(Name='Nobody')")).status).toBe(404);
  });

  it('a predicate that matches no key is 400, naming the keys', async () => {
    const res = await svc.get("/Tags(Color='red')");
    expect(res.status).toBe(400);
    const error = res.json<{ error: { code: string; message: string } }>().error;
    expect(error.code).toBe('INVALID_KEY');
    expect(error.message).toContain('(Id), (Name)');
    expect((await svc.get("/Tags(Name='a',Id=1)")).status).toBe(400);
  });

  it('a second tag whose name differs only in case is refused; PATCH by name changes the tag', async () => {
    expect((await send('POST', '/Tags', { Name: 'Partner' })).status).toBe(201);
    const dup = await send('POST', '/Tags', { Name: 'PARTNER' });
    expect(dup.status).toBe(409);
    const patched = await send('PATCH', "/Tags(Name='partner')", { Name: 'Partners' });
    expect(patched.status).toBe(204);
    expect((await svc.get("/Tags(Name='Partners')")).status).toBe(200);
    expect((await svc.get("/Tags(Name='Partner')")).status).toBe(404);
  });

  it('binds by name in @odata.bind (create and update) and navigates both ways', async () => {
    await send('PUT', "/Tags(Name='VIP')", {});
    const contact = await send('POST', '/Contacts', { FirstName: 'Ada', LastName: 'Tagged', 'Tags@odata.bind': ["Tags(Name='VIP')", "Tags(Name='clients')"] });
    expect(contact.status).toBe(201);
    const id = String(contact.json<Row>().Id);
    const tags = await svc.get(`/Contacts(${id})/Tags?$orderby=Name&$select=Name`);
    expect(tags.json<{ value: Row[] }>().value.map((t) => t.Name)).toEqual(['Clients', 'VIP']);
    const back = await svc.get(`/Tags(Name='vip')/Contacts?$select=LastName`);
    expect(back.json<{ value: Row[] }>().value.map((c) => c.LastName)).toEqual(['Tagged']);
    const filtered = await svc.get(`/Contacts?$filter=Tags/any(t: t/Name eq 'VIP')&$select=Id`);
    expect(filtered.json<{ value: Row[] }>().value.map((c) => c.Id)).toEqual([id]);
    const company = await send('POST', '/Companies', { Name: 'Tagged Inc', 'Tags@odata.bind': [`${svc.url}/Tags(Name='VIP')`] });
    expect(company.status).toBe(201);
    const companyId = String(company.json<Row>().Id);
    const patched = await send('PATCH', `/Companies(${companyId})`, { 'Tags@odata.bind': ["Tags(Name='Clients')"] });
    expect(patched.status).toBe(204);
    const expanded = await svc.get(`/Companies(${companyId})?$expand=Tags($select=Name;$orderby=Name)&$select=Name`);
    expect(expanded.json<{ Tags: Row[] }>().Tags.map((t) => t.Name)).toEqual(['Clients', 'VIP']);
    const missing = await send('POST', '/Contacts', { LastName: 'Nope', 'Tags@odata.bind': ["Tags(Name='No such tag')"] });
    expect(missing.status).toBe(400);
    const error = missing.json<{ error: { details: { code: string; target: string }[] } }>().error;
    expect(error.details[0]).toMatchObject({ code: 'BIND_NOT_FOUND', target: 'Tags@odata.bind/0' });
    expect(await svc.knex('Contacts').where({ LastName: 'Nope' }).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
  });

  it('$ref adds and removes links by name ($id too); DELETE of a tag removes its links, never the records', async () => {
    await send('PUT', "/Tags(Name='Newsletter')", {});
    const note = await send('POST', '/Notes', { Text: 'tag me' });
    const noteId = String(note.json<Row>().Id);
    expect((await send('POST', `/Notes(${noteId})/Tags/$ref`, { '@odata.id': "Tags(Name='newsletter')" })).status).toBe(204);
    expect((await send('POST', `/Tags(Name='VIP')/Notes/$ref`, { '@odata.id': `Notes(${noteId})` })).status).toBe(204);
    const names = async () => (await svc.get(`/Notes(${noteId})/Tags?$orderby=Name`)).json<{ value: Row[] }>().value.map((t) => t.Name);
    expect(await names()).toEqual(['Newsletter', 'VIP']);
    expect((await svc.request('DELETE', `/Notes(${noteId})/Tags/$ref?$id=Tags(Name='VIP')`)).status).toBe(204);
    expect(await names()).toEqual(['Newsletter']);
    expect((await svc.request('DELETE', `/Notes(${noteId})/Tags(Name='Newsletter')/$ref`)).status).toBe(204);
    expect(await names()).toEqual([]);
    expect((await send('POST', `/Notes(${noteId})/Tags/$ref`, { '@odata.id': "Tags(Name='VIP')" })).status).toBe(204);
    const contactsBefore = Number((await svc.knex('Contacts').count({ n: '*' }))[0].n);
    expect((await svc.request('DELETE', "/Tags(Name='VIP')")).status).toBe(204);
    expect((await svc.get("/Tags(Name='VIP')")).status).toBe(404);
    expect(Number((await svc.knex('Contacts').count({ n: '*' }))[0].n)).toBe(contactsBefore);
    expect((await svc.get(`/Notes(${noteId})`)).status).toBe(200);
    expect(await names()).toEqual([]);
    expect(Number((await svc.knex('Contact_Tag').count({ n: '*' }))[0].n)).toBe(1);
  });

  it('upsert in a $batch part and the metadata declare the alternate key', async () => {
    const batch = await svc.request('POST', '/$batch', {
      headers: JSON_HEADERS,
      body: JSON.stringify({ requests: [{ id: '1', method: 'PUT', url: "Tags(Name='Batch')", headers: JSON_HEADERS, body: {} }, { id: '2', method: 'GET', url: "Tags(Name='batch')" }] }),
    });
    expect(batch.status).toBe(200);
    const parts = batch.json<{ responses: { id: string; status: number; body: Row }[] }>().responses;
    expect(parts.map((p) => p.status)).toEqual([201, 200]);
    expect(parts[1].body.Name).toBe('Batch');
    const xml = (await svc.get('/$metadata')).text;
    expect(xml.replace(/>\s+</g, "><")).toMatch(/<EntityType Name="Tag">[\s\S]*?<Annotation Term="Org.OData.Core.V1.AlternateKeys"><Collection><Record><PropertyValue Property="Key"><Collection><Record><PropertyValue Property="Name" PropertyPath="Name"\/>/);
  });
});
