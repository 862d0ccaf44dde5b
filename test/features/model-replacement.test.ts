/**
 * The model is a value replaced while the service runs (custom fields and tables will arrive that
 * way). Everything the service keeps between requests (parsed URLs, plans and column lists per type,
 * prepared statements, whole-entity answers of writes) must follow the new model at once.
 */
import { loadModel } from '../../src/edm/load-csdl';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import type { Row } from './support';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let contactId: string;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 20 });
    contactId = String((await svc.knex('Contacts').orderBy('Id').first('Id')).Id);
  });
  afterAll(() => svc.close());

  const getContact = async (query = '') => svc.get(`/Contacts(${contactId})${query}`);
  const createNote = async (text: string) => svc.request('POST', '/Notes', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Text: text }) });

  it('answers with the replaced model at once, and with the original again once it is back', async () => {
    // the same requests before, during and after: every cache between requests is warm
    for (let i = 0; i < 3; i++) {
      expect(Object.keys((await getContact()).json<Row>())).toContain('JobTitle');
      expect((await getContact('?$select=JobTitle')).status).toBe(200);
      expect(Object.keys((await createNote(`before ${i}`)).json<Row>())).toContain('IsPrivate');
    }
    const original = svc.running.services.model();
    const csdl = structuredClone(original.csdl) as Record<string, Record<string, Record<string, unknown>>>;
    delete csdl.Crm.Contact.JobTitle;
    delete csdl.Crm.Note.IsPrivate;
    const replaced = loadModel(csdl);
    expect(replaced.version).not.toBe(original.version);
    svc.running.replaceModel(replaced);
    try {
      const contact = await getContact();
      expect(contact.status).toBe(200);
      expect(Object.keys(contact.json<Row>())).not.toContain('JobTitle');
      expect(Object.keys(contact.json<Row>())).toContain('LastName');
      const selected = await getContact('?$select=JobTitle');
      expect(selected.status).toBe(400);
      expect(selected.json<{ error: { code: string } }>().error.code).toBe('UNKNOWN_PROPERTY');
      const note = await createNote('during');
      expect(note.status).toBe(201);
      expect(Object.keys(note.json<Row>())).not.toContain('IsPrivate');
      expect((await svc.get('/$metadata')).text).not.toContain('Name="JobTitle"');
    } finally {
      svc.running.replaceModel(original);
    }
    expect(Object.keys((await getContact()).json<Row>())).toContain('JobTitle');
    expect((await getContact('?$select=JobTitle')).status).toBe(200);
    expect(Object.keys((await createNote('after')).json<Row>())).toContain('IsPrivate');
  });
});
