/** $metadata over HTTP: format negotiation and validity against the OASIS CSDL schemas. */
import { ENGINES } from '../helpers/engines';
import { validateCsdlJson, validateCsdlXml } from '../helpers/csdl-validate';
import { startTestService, type TestService } from '../helpers/service';

describe.each(ENGINES.map((e) => [e.name, e] as const))('$metadata on %s', (_name, engine) => {
  let svc: TestService;
  beforeAll(async () => { svc = await startTestService(engine, { contacts: 20 }); });
  afterAll(() => svc.close());

  it('answers CSDL XML by default with OData-Version 4.0', async () => {
    const res = await svc.get('/$metadata');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.headers.get('odata-version')).toBe('4.0');
    expect(res.text).toContain('<EntitySet Name="Contacts" EntityType="Crm.Contact">');
  });

  it('answers XML to an Accept header that allows XML among others, as Power Query sends it', async () => {
    const res = await svc.get('/$metadata', { Accept: 'application/json;q=0.9, application/xml;q=0.8, */*;q=0.1' });
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
  });

  it('answers CSDL JSON for $format=json and for Accept: application/json', async () => {
    for (const res of [await svc.get('/$metadata?$format=json'), await svc.get('/$metadata', { Accept: 'application/json' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.json().$EntityContainer).toBe('Crm.Service');
    }
  });

  it('refuses a format it cannot produce with 406', async () => {
    const res = await svc.get('/$metadata', { Accept: 'text/html' });
    expect(res.status).toBe(406);
    expect(res.json().error.code).toBe('NOT_ACCEPTABLE');
  });

  describe('against the OASIS schemas', () => {
    it('serves XML that validates against edmx.xsd and edm.xsd', async () => {
      const result = await validateCsdlXml((await svc.get('/$metadata')).text);
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    });

    it('serves JSON that validates against csdl.schema.json', async () => {
      const result = validateCsdlJson((await svc.get('/$metadata?$format=json')).text);
      expect(result.errors).toEqual([]);
    });
  });
});
