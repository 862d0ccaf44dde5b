/**
 * Deep update (issue 17, item 12; OData 4.01 Protocol §11.4.3.1, JSON Format §15): PATCH/PUT with a
 * nested collection makes the relation exactly the entities given (with a key: updated; without: created;
 * left out: deleted when they cannot exist alone, else unlinked); `Nav@delta` applies only what it lists.
 * One transaction: a nested error is a 400 naming its path and changes nothing.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import type { Row } from '../support';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let product: string;
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    svc.request(method, path, { headers: Object.assign({}, JSON_HEADERS, headers), body: body === undefined ? undefined : JSON.stringify(body) });
  const lines = async (opp: string) => (await svc.knex('OpportunityProducts').where({ OpportunityId: opp }).select('Id', 'Quantity', 'Price', 'Discount')) as Row[];
  const tagNames = async (contact: string) => (await svc.get(`/Contacts(${contact})/Tags?$select=Name&$orderby=Name`)).json<{ value: Row[] }>().value.map((t) => t.Name);

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 5 });
    product = String((await send('POST', '/Products', { Name: 'Deep product', Price: 10 })).json<Row>().Id);
  });
  afterAll(() => svc.close());

  async function opportunityWithLines(): Promise<{ opp: string; ids: string[] }> {
    const res = await send('POST', '/Opportunities?$expand=Products($orderby=Quantity)', {
      Name: 'Deep update', Products: [1, 2, 3].map((q) => ({ ProductId: product, Quantity: q, Price: 10, Discount: 0 })),
    });
    expect(res.status).toBe(201);
    const body = res.json<{ Id: string; Products: Row[] }>();
    return { opp: body.Id, ids: body.Products.map((p) => String(p.Id)) };
  }

  it('PATCH with a nested collection: keyed lines updated, new lines created, lines left out deleted (they cannot exist alone); the sum follows', async () => {
    const { opp, ids } = await opportunityWithLines();
    const res = await send('PATCH', `/Opportunities(${opp})?$expand=Products($orderby=Quantity)`, {
      Description: 'changed', Products: [{ Id: ids[0], Quantity: 5 }, { ProductId: product, Quantity: 7, Price: 2, Discount: 0 }],
    }, { Prefer: 'return=representation' });
    expect(res.status).toBe(200);
    const body = res.json<{ Description: string; Amount: number; Products: Row[] }>();
    expect(body.Description).toBe('changed');
    expect(body.Products.map((p) => [p.Quantity, Number(p.Price)])).toEqual([[5, 10], [7, 2]]);
    expect(body.Products[0].Id).toBe(ids[0]);
    const stored = await lines(opp);
    expect(stored.map((l) => String(l.Id)).sort()).toEqual([ids[0], String(body.Products[1].Id)].sort());
    expect(Number((await svc.knex('OpportunityProducts').whereIn('Id', ids.slice(1)).count({ n: '*' }))[0].n)).toBe(0);
    expect(Number(body.Amount)).toBe(5 * 10 + 7 * 2);
  });

  it('PATCH with a link-table collection: references and new entities become exactly the links; those left out are unlinked, not deleted', async () => {
    for (const name of ['Deep A', 'Deep B']) expect((await send('PUT', `/Tags(Name='${name}')`, {})).status).toBe(201);
    const contact = String((await send('POST', '/Contacts', { LastName: 'Deep', 'Tags@odata.bind': ["Tags(Name='Deep B')"] })).json<Row>().Id);
    expect(await tagNames(contact)).toEqual(['Deep B']);
    const res = await send('PATCH', `/Contacts(${contact})`, { Tags: [{ '@odata.id': "Tags(Name='Deep A')" }, { Name: 'Deep C' }] });
    expect(res.status).toBe(204);
    expect(await tagNames(contact)).toEqual(['Deep A', 'Deep C']);
    expect((await svc.get("/Tags(Name='Deep B')")).status).toBe(200);
    // an empty collection unlinks everything
    expect((await send('PATCH', `/Contacts(${contact})`, { Tags: [] })).status).toBe(204);
    expect(await tagNames(contact)).toEqual([]);
    expect((await svc.get('/Tags/$count')).text).toBe('3');
  });

  it('Nav@delta adds, changes and removes only what it lists (removed: unlinked, or deleted when the reason is "deleted")', async () => {
    const contact = String((await send('POST', '/Contacts', { LastName: 'Delta', Tags: [{ Name: 'Delta 1' }, { Name: 'Delta 2' }, { Name: 'Delta 3' }] })).json<Row>().Id);
    expect(await tagNames(contact)).toEqual(['Delta 1', 'Delta 2', 'Delta 3']);
    const two = String((await svc.get("/Tags(Name='Delta 2')")).json<Row>().Id);
    const res = await send('PATCH', `/Contacts(${contact})`, {
      'Tags@delta': [
        { Name: 'Delta 4' },
        { '@id': `Tags(${two})`, '@removed': { reason: 'changed' } },
        { '@id': "Tags(Name='Delta 3')", '@removed': { reason: 'deleted' } },
        { Id: String((await svc.get("/Tags(Name='Delta 1')")).json<Row>().Id), Name: 'Delta One' },
      ],
    });
    expect(res.status).toBe(204);
    expect(await tagNames(contact)).toEqual(['Delta 4', 'Delta One']);
    expect((await svc.get(`/Tags(${two})`)).status).toBe(200);
    expect((await svc.get("/Tags(Name='Delta 3')")).status).toBe(404);
  });

  it('a nested error is 400 naming its path, and nothing changes', async () => {
    const { opp, ids } = await opportunityWithLines();
    const before = await lines(opp);
    const bad = await send('PATCH', `/Opportunities(${opp})`, { Name: 'not applied', Products: [{ Id: ids[0], Quantity: 4 }, { ProductId: product, Quantity: 'many', Price: 1, Discount: 0 }] });
    expect(bad.status).toBe(400);
    expect(bad.json<{ error: { details: { target: string }[] } }>().error.details.map((d) => d.target)).toContain('Products/1/Quantity');
    const missing = await send('PATCH', `/Opportunities(${opp})`, { Products: [{ Id: '00000000-0000-4000-8000-000000000000', Quantity: 4 }] });
    expect(missing.status).toBe(400);
    expect(missing.json<{ error: { target: string } }>().error.target).toBe('Products/0');
    expect(await lines(opp)).toEqual(before);
    expect((await svc.get(`/Opportunities(${opp})/Name`)).json<Row>().value).toBe('Deep update');
  });

  it('declares Capabilities.DeepUpdateSupport; a nested single-valued entity in PATCH is still 501', async () => {
    const json = (await svc.get('/$metadata?$format=json')).json<{ Crm: { Service: Row } }>();
    expect(json.Crm.Service['@Org.OData.Capabilities.V1.DeepUpdateSupport']).toEqual({ Supported: true, ContentIDSupported: false });
    const contact = String((await svc.knex('Contacts').first('Id')).Id);
    expect((await send('PATCH', `/Contacts(${contact})`, { Company: { Name: 'Nested' } })).status).toBe(501);
  });
});
