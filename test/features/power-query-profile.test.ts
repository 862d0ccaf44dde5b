/**
 * What Power Query (and ODataLib under it) needs besides folding: its Accept header, null handling
 * (`Prefer: omit-values=nulls`, otherwise every declared property), compressed answers, exact Int64
 * and Decimal numbers, and the JSON forms of DateTimeOffset, Date and Binary.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { loadModel } from '../../src/edm/load-csdl';
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { POWER_QUERY_ACCEPT } from './power-query-support';
import type { Row } from './support';


interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** the bytes as they came over the wire */
  readonly bytes: Buffer;
  /** whether the body came in chunked transfer coding (streamed) */
  readonly chunked: boolean;
}

/** A GET through node:http, which (unlike fetch) leaves the body as sent: compressed if it was. */
function rawGet(svc: TestService, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(svc.url + path, { headers: Object.assign({}, svc.authHeaders, headers) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(parts), chunked: res.headers['transfer-encoding'] === 'chunked' }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function decoded(res: RawResponse): string {
  switch (res.headers['content-encoding']) {
    case 'gzip': return zlib.gunzipSync(res.bytes).toString('utf8');
    case 'deflate': return zlib.inflateSync(res.bytes).toString('utf8');
    case undefined: return res.bytes.toString('utf8');
    default: throw new Error(`unexpected coding ${res.headers['content-encoding']}`);
  }
}

const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;
  let declared: Record<string, string[]>;

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 400, pageSize: 1000 });
    const csdl = (await svc.get('/$metadata?$format=json')).json<Record<string, Record<string, Record<string, unknown>>>>();
    declared = {};
    for (const type of ['Contact', 'Company', 'Opportunity']) {
      declared[type] = Object.entries(csdl.Crm[type]).filter(([k, v]) => !k.startsWith('$') && !k.includes('@') && (v as Row).$Kind !== 'NavigationProperty' && k !== 'Password').map(([k]) => k);
    }
  });
  afterAll(() => svc.close());

  describe('Accept', () => {
    it("takes Power Query's header: minimal JSON for the service document, collections and entities", async () => {
      for (const path of ['/', '/Contacts?$top=2', '/Companies?$top=1&$select=Name']) {
        const res = await svc.get(path, { Accept: POWER_QUERY_ACCEPT, 'OData-MaxVersion': '4.0', MaxDataServiceVersion: '3.0' });
        expect([path, res.status]).toEqual([path, 200]);
        expect(res.headers.get('content-type')).toMatch(/^application\/json;odata\.metadata=minimal/);
        expect(res.text.startsWith('{"@odata.context":"http')).toBe(true);
      }
    });

    it('reads the OData 3 spelling of the metadata level', async () => {
      const minimal = await svc.get('/Companies?$top=1', { Accept: 'application/json;odata=minimalmetadata' });
      expect(minimal.headers.get('content-type')).toMatch(/odata\.metadata=minimal/);
      const full = await svc.get('/Companies?$top=1', { Accept: 'application/json;odata=fullmetadata' });
      expect(full.headers.get('content-type')).toMatch(/odata\.metadata=full/);
      expect(full.json<{ value: Row[] }>().value[0]['@odata.id']).toEqual(expect.stringContaining('/Companies('));
      const none = await svc.get('/Companies?$top=1', { Accept: 'application/json;odata=nometadata' });
      expect(none.json<Row>()['@odata.context']).toBeUndefined();
      // a level with no OData 4 form falls to the next range the client accepts, or is refused
      expect((await svc.get('/Companies?$top=1', { Accept: 'application/json;odata=verbose,application/json;q=0.5' })).status).toBe(200);
      expect((await svc.get('/Companies?$top=1', { Accept: 'application/json;odata=verbose' })).status).toBe(406);
    });

    it('answers $metadata in XML for Accept: application/xml', async () => {
      const res = await svc.get('/$metadata', { Accept: 'application/xml' });
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(res.text).toMatch(/^<\?xml/);
    });
  });

  describe('nulls', () => {
    it('writes every declared property, nulls included, unless omit-values=nulls is preferred', async () => {
      const contactWithNulls = await svc.knex('Contacts').whereNull('JobTitle').orderBy('Id').first('Id');
      const path = `/Contacts(${String(contactWithNulls.Id)})`;
      const plain = await svc.get(path);
      const entity = plain.json<Row>();
      expect(Object.keys(entity).filter((k) => !k.startsWith('@')).sort()).toEqual([...declared.Contact].sort());
      expect(entity.JobTitle).toBeNull();
      expect(plain.headers.get('preference-applied')).toBeNull();

      const omitted = await svc.get(path, { Prefer: 'omit-values=nulls' });
      expect(omitted.headers.get('preference-applied')).toBe('omit-values=nulls');
      const slim = omitted.json<Row>();
      expect(Object.keys(slim)).not.toContain('JobTitle');
      const kept = Object.entries(entity).filter(([, v]) => v !== null).map(([k]) => k).sort();
      expect(Object.keys(slim).sort()).toEqual(kept);
    });

    it('omits nulls in collections and expanded entities too, and says so with the page size it applied', async () => {
      const res = await svc.get('/Contacts?$top=50&$expand=Company', { Prefer: 'omit-values=nulls, odata.maxpagesize=20' });
      expect(res.headers.get('preference-applied')).toBe('odata.maxpagesize=20, omit-values=nulls');
      const rows = res.json<{ value: Row[] }>().value;
      expect(rows).toHaveLength(20);
      for (const row of rows) {
        // an expanded navigation without a target stays (null): leaving it out would read as not expanded
        expect(Object.entries(row).filter(([k, v]) => v === null && k !== 'Company')).toEqual([]);
        const company = row.Company as Row | undefined;
        if (company) expect(Object.values(company).filter((v) => v === null)).toEqual([]);
      }
      const full = (await svc.get('/Contacts?$top=20&$expand=Company')).json<{ value: Row[] }>().value;
      expect(full.some((row) => Object.values(row).includes(null))).toBe(true);
    });
  });

  describe('compression', () => {
    const page = '/Contacts?$top=400';

    it('gzips and deflates large answers for a client that accepts it, with Vary', async () => {
      const identity = await rawGet(svc, page, { Accept: POWER_QUERY_ACCEPT });
      expect(identity.headers['content-encoding']).toBeUndefined();
      const text = identity.bytes.toString('utf8');
      for (const coding of ['gzip', 'deflate'] as const) {
        const res = await rawGet(svc, page, { Accept: POWER_QUERY_ACCEPT, 'Accept-Encoding': coding === 'gzip' ? 'gzip, deflate' : 'deflate' });
        expect(res.status).toBe(200);
        expect(res.headers['content-encoding']).toBe(coding);
        expect(res.headers.vary).toMatch(/Accept-Encoding/);
        expect(res.bytes.length).toBeLessThan(text.length / 3);
        expect(decoded(res)).toBe(text);
      }
    });

    it('keeps a streamed page streamed, and sends small answers and refused codings as they are', async () => {
      const big = await rawGet(svc, '/Contacts?$top=1000', { 'Accept-Encoding': 'gzip' });
      expect(big.chunked).toBe(true);
      expect(big.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(decoded(big)).value.length).toBeGreaterThan(300);

      const small = await rawGet(svc, '/Companies?$top=1&$select=Name', { 'Accept-Encoding': 'gzip' });
      expect(small.headers['content-encoding']).toBeUndefined();
      expect(small.headers['content-length']).toBe(String(small.bytes.length));
      const refused = await rawGet(svc, page, { 'Accept-Encoding': 'gzip;q=0, deflate;q=0' });
      expect(refused.headers['content-encoding']).toBeUndefined();
      expect(refused.headers.vary).toMatch(/Accept-Encoding/);
      const whole = await rawGet(svc, '/$metadata', { 'Accept-Encoding': 'gzip', Accept: 'application/xml' });
      expect(whole.headers['content-encoding']).toBe('gzip');
      expect(whole.headers['content-length']).toBe(String(whole.bytes.length));
      expect(decoded(whole)).toMatch(/^<\?xml/);
    });
  });

  describe('numbers and dates', () => {
    it('writes a Decimal beyond double precision digit for digit, as a number or (IEEE754Compatible) a string', async () => {
      const company = await svc.knex('Companies').orderBy('Id').first('Id');
      const id = String(company.Id);
      const exact = '123456789012345.6789';
      const patched = await svc.request('PATCH', `/Companies(${id})`, { headers: { 'Content-Type': 'application/json;IEEE754Compatible=true' }, body: JSON.stringify({ Revenue: exact }) });
      expect(patched.status).toBe(204);
      const asNumber = await svc.get(`/Companies(${id})?$select=Revenue`);
      expect(asNumber.text).toContain(`"Revenue":${exact}`);
      const inList = await svc.get(`/Companies?$filter=Id eq ${id}&$select=Revenue,Name`);
      expect(inList.text).toContain(`"Revenue":${exact}}`);
      const asString = await svc.get(`/Companies(${id})?$select=Revenue`, { Accept: 'application/json;IEEE754Compatible=true' });
      expect(asString.json<Row>().Revenue).toBe(exact);
      expect((await svc.get(`/Companies(${id})/Revenue/$value`)).text).toBe(exact);
      expect((await svc.get(`/Companies(${id})/Revenue`)).text).toContain(`"value":${exact}}`);
    });

    it('writes Int64 beyond 2^53 exactly and Binary as padded base64 (properties added to the model at run time)', async () => {
      const binaryType = engine.name === 'postgres' ? 'bytea' : 'blob';
      await svc.knex.raw(`ALTER TABLE "Companies" ADD COLUMN "Visits" bigint`);
      await svc.knex.raw(`ALTER TABLE "Companies" ADD COLUMN "Logo" ${binaryType}`);
      const company = await svc.knex('Companies').orderBy('Id').offset(1).first('Id');
      const id = String(company.Id);
      const big = '9007199254740993'; // 2^53 + 1: no double holds it
      await svc.knex.raw(`UPDATE "Companies" SET "Visits" = ${big}, "Logo" = ? WHERE "Id" = ?`, [Buffer.from([0xfb, 0xff, 0x01, 0x02, 0x03]), id]);
      const original = svc.running.services.model();
      const csdl = structuredClone(original.csdl) as Record<string, Record<string, Record<string, unknown>>>;
      csdl.Crm.Company.Visits = { $Type: 'Edm.Int64', $Nullable: true };
      csdl.Crm.Company.Logo = { $Type: 'Edm.Binary', $Nullable: true };
      svc.running.replaceModel(loadModel(csdl));
      try {
        const res = await svc.get(`/Companies(${id})?$select=Visits,Logo`);
        expect(res.status).toBe(200);
        expect(res.text).toContain(`"Visits":${big},`);
        expect(res.json<Row>().Logo).toBe('+/8BAgM=');
        const ieee = await svc.get(`/Companies?$filter=Id eq ${id}&$select=Visits`, { Accept: 'application/json;IEEE754Compatible=true' });
        expect(ieee.json<{ value: Row[] }>().value[0].Visits).toBe(big);
      } finally {
        svc.running.replaceModel(original);
      }
    });

    it('writes every DateTimeOffset with seconds and a zone, and every Date as yyyy-MM-dd', async () => {
      const rows = (await svc.get('/Opportunities?$top=200&$select=Created,Edited,EstimatedCloseDate,ActualCloseDate')).json<{ value: Row[] }>().value;
      expect(rows.length).toBeGreaterThan(10);
      let dates = 0;
      for (const row of rows) {
        expect(row.Created).toMatch(DATE_TIME_OFFSET);
        expect(row.Edited).toMatch(DATE_TIME_OFFSET);
        for (const v of [row.EstimatedCloseDate, row.ActualCloseDate]) {
          if (v === null) continue;
          dates++;
          expect(v).toMatch(DATE);
        }
      }
      expect(dates).toBeGreaterThan(0);
      // a DateTimeOffset stored without seconds (written by another program) still reads with them
      const activity = await svc.knex('Activities').orderBy('Id').first('Id');
      if (engine.name === 'sqlite') await svc.knex('Activities').where('Id', activity.Id).update({ StartTime: '2026-03-01T09:30Z' });
      else await svc.knex('Activities').where('Id', activity.Id).update({ StartTime: '2026-03-01T09:30:00Z' });
      const start = (await svc.get(`/Activities(${String(activity.Id)})?$select=StartTime`)).json<Row>().StartTime;
      expect(start).toMatch(DATE_TIME_OFFSET);
      expect(Date.parse(String(start))).toBe(Date.parse('2026-03-01T09:30:00Z'));
    });
  });
});
