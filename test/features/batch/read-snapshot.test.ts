/**
 * Issue 15, batch_read_10: on SQLite the reads of a `$batch` that run on the service's connection share
 * one read transaction while they run back to back (db/read-snapshot.ts), saving SQLite's lock and
 * unlock per statement. It must never change an answer nor hold anybody up: a write between two reads
 * (in the same batch or from another request) ends it, and the next read sees the write. PostgreSQL:
 * no snapshot, the same answers.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import { asHttp, batchParts, postNote, sendMultipart, type PartSpec } from './batch-support';

interface RecordedConnection {
  prepare(sql: string): unknown;
  readonly inTransaction: boolean;
}

/** The service's SQLite connection (the pool's one), with every statement text it prepares from now on. */
function recordStatements(svc: TestService): { readonly texts: string[]; readonly connection: RecordedConnection; stop(): void } {
  const pool = (svc.knex.client as { pool: { free: { resource: RecordedConnection }[] } }).pool;
  const connection = pool.free[0].resource;
  const prepare = connection.prepare;
  const texts: string[] = [];
  connection.prepare = (sql: string) => {
    texts.push(sql);
    return prepare.call(connection, sql);
  };
  return { texts, connection, stop: () => { connection.prepare = prepare; } };
}

describe.each(ENGINES)('batch reads on $name', (engine) => {
  let svc: TestService;
  let ids: string[];

  beforeAll(async () => {
    // no model poll: its statement on the service's connection would show among the recorded ones
    svc = await startTestService(engine, { contacts: 30, config: { modelPollMs: 0 } });
    ids = ((await svc.get('/Contacts?$select=Id&$top=5')).json().value as { Id: string }[]).map((c) => c.Id);
  }, 120_000);
  afterAll(async () => svc?.close());

  const byKey = (id: string): PartSpec => ({ method: 'GET', url: `Contacts(${id})?$select=Id,LastName` });

  it('a write between two reads of a batch is seen by the second', async () => {
    const [id] = ids;
    const name = `Snapshot${Date.now()}`;
    const parts = batchParts(await sendMultipart(svc, [
      byKey(id), { method: 'GET', url: 'Contacts?$top=3&$select=Id' },
      { method: 'PATCH', url: `Contacts(${id})`, body: { LastName: name } },
      byKey(id),
    ]));
    expect(parts.map((p) => asHttp(p).status)).toEqual([200, 200, 204, 200]);
    expect(JSON.parse(asHttp(parts[0]).body).LastName).not.toBe(name);
    expect(JSON.parse(asHttp(parts[3]).body).LastName).toBe(name);
  });

  it('batches of reads and other requests\' writes side by side: every write lands, every read answers', async () => {
    const marker = `snapshot side by side ${Date.now()}`;
    const reads = Array.from({ length: 12 }, () => sendMultipart(svc, Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? byKey(ids[i % ids.length]) : { method: 'GET', url: 'Contacts?$top=10&$select=Id' }))));
    const writes = Array.from({ length: 12 }, (_, i) => svc.request('POST', '/Notes', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Text: `${marker} ${i}` }) }));
    const batchWrites = Array.from({ length: 4 }, (_, i) => sendMultipart(svc, [byKey(ids[0]), postNote(`${marker} batch ${i}`), byKey(ids[1])]));
    for (const res of await Promise.all(reads)) expect(batchParts(res).map((p) => asHttp(p).status)).toEqual(Array(10).fill(200));
    for (const res of await Promise.all(writes)) expect(res.status).toBe(201);
    for (const res of await Promise.all(batchWrites)) expect(batchParts(res).map((p) => asHttp(p).status)).toEqual([200, 201, 200]);
    const count = await svc.get(`/Notes/$count?$filter=${encodeURIComponent(`startswith(Text,'${marker}')`)}`);
    expect(count.text).toBe('16');
  });

  if (engine.name === 'sqlite') {
    it('ten reads of a batch run in one read transaction, ended when the batch is done', async () => {
      await sendMultipart(svc, ids.map(byKey)); // the reads' statements prepared once
      const recorded = recordStatements(svc);
      try {
        const res = await sendMultipart(svc, Array.from({ length: 10 }, (_, i) => byKey(ids[i % ids.length])));
        expect(batchParts(res).map((p) => asHttp(p).status)).toEqual(Array(10).fill(200));
        expect(recorded.texts.filter((t) => t === 'BEGIN')).toHaveLength(1);
        expect(recorded.texts.filter((t) => t === 'COMMIT')).toHaveLength(1);
        expect(recorded.texts.filter((t) => t.startsWith('SELECT') && t.includes('FROM "Contacts"'))).toHaveLength(10);
        expect(recorded.connection.inTransaction).toBe(false);
      } finally {
        recorded.stop();
      }
    });

    it('a single read outside a batch opens no transaction', async () => {
      await svc.get(`/Contacts(${ids[0]})`);
      const recorded = recordStatements(svc);
      try {
        expect((await svc.get(`/Contacts(${ids[0]})`)).status).toBe(200);
        expect(recorded.texts.filter((t) => t.includes('FROM "Contacts"'))).toHaveLength(1);
        expect(recorded.texts.filter((t) => t === 'BEGIN' || t === 'COMMIT')).toEqual([]);
        expect(recorded.connection.inTransaction).toBe(false);
      } finally {
        recorded.stop();
      }
    });
  }
});
