/**
 * ODATA_READ_REPLICA_URL: on PostgreSQL, reads outside transactions go to the replica URL; writes,
 * sign-in and everything in a transaction stay on the primary. The routing is proven twice: with
 * the replica URL naming the same database (its connections carry application_name
 * `odata-read-replica` in pg_stat_activity, and the statement metrics count them under
 * pool="replica"), and with it naming a second database holding other data (reads answer that data).
 * On SQLite the setting is refused at start.
 */
import { withOverrides } from '../../../src/config';
import { startService, type RunningService } from '../../../src/server';
import { REPLICA_APPLICATION_NAME } from '../../../src/db/read-replica';
import { ENGINES } from '../../helpers/engines';
import { bearerFor, TEST_ADMIN, TEST_DEMO_PASSWORD } from '../../helpers/service';

const settings = (database: string, seedContacts: number, readReplicaUrl = '') => withOverrides({
  adminPassword: TEST_ADMIN.password, demoPassword: TEST_DEMO_PASSWORD, database, port: 0, host: '127.0.0.1', logLevel: 'silent',
  seedContacts, rateLimit: 'off', readReplicaUrl,
});

function replicaStatements(metrics: string): number {
  return Number(/^odata_db_statement_duration_seconds_count\{pool="replica"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (name, engine) => {
  if (name === 'sqlite') {
    test('the setting is refused at start on SQLite, naming it', async () => {
      const database = await engine.freshUrl();
      try {
        await expect(startService(settings(database, 0, 'postgres://postgres@127.0.0.1:5432/x'))).rejects.toThrow(/ODATA_READ_REPLICA_URL needs a PostgreSQL ODATA_DATABASE/);
        await expect(startService(settings(database, 0, 'data/other.sqlite'))).rejects.toThrow(/ODATA_READ_REPLICA_URL must be a postgres:\/\/ URL/);
      } finally {
        await engine.dispose(database);
      }
    });
    return;
  }

  describe('a replica URL naming the same database', () => {
    let database: string;
    let service: RunningService;
    let admin: Record<string, string>;

    beforeAll(async () => {
      database = await engine.freshUrl();
      service = await startService(settings(database, 20, database));
      admin = await bearerFor(service.url, TEST_ADMIN.userName, TEST_ADMIN.password);
    }, 60000);
    afterAll(async () => {
      await service?.close();
      await engine.dispose(database);
    });

    test('reads run on connections named odata-read-replica; writes do not', async () => {
      const metrics = async () => (await fetch(service.url.replace(/\/odata$/, '/metrics'))).text();
      const before = replicaStatements(await metrics());
      for (let i = 0; i < 3; i++) expect((await fetch(`${service.url}/Contacts?$top=3&$count=true`, { headers: admin })).status).toBe(200);
      const afterReads = replicaStatements(await metrics());
      expect(afterReads - before).toBeGreaterThanOrEqual(3);

      const sessions = await service.db.knex.raw('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()', [REPLICA_APPLICATION_NAME]) as { rows: { n: number }[] };
      expect(sessions.rows[0].n).toBeGreaterThanOrEqual(1);

      const created = await fetch(`${service.url}/Contacts`, { method: 'POST', headers: { ...admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Primary', LastName: 'Only' }) });
      expect(created.status).toBe(201);
      expect(replicaStatements(await metrics())).toBe(afterReads);
    });
  });

  describe('a replica URL naming a second database with other data', () => {
    let primaryUrl: string;
    let replicaUrl: string;
    let service: RunningService;
    let admin: Record<string, string>;

    beforeAll(async () => {
      primaryUrl = await engine.freshUrl();
      replicaUrl = await engine.freshUrl();
      // the "replica" gets the same schema and 7 contacts; the primary 20
      const standIn = await startService(settings(replicaUrl, 7));
      await standIn.close();
      service = await startService(settings(primaryUrl, 20, replicaUrl));
      admin = await bearerFor(service.url, TEST_ADMIN.userName, TEST_ADMIN.password);
    }, 90000);
    afterAll(async () => {
      await service?.close();
      await engine.dispose(primaryUrl);
      await engine.dispose(replicaUrl);
    });

    test('reads answer the replica\'s rows, writes change the primary\'s', async () => {
      const count = async () => Number(await (await fetch(`${service.url}/Contacts/$count`, { headers: admin })).text());
      expect(await count()).toBe(7);
      const primaryRows = async () => Number((await service.db.knex('Contacts').count({ n: '*' }))[0].n);
      expect(await primaryRows()).toBe(20);
      const created = await fetch(`${service.url}/Contacts`, { method: 'POST', headers: { ...admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ FirstName: 'Written', LastName: 'ToPrimary' }) });
      expect(created.status).toBe(201);
      expect(await primaryRows()).toBe(21);
      // what a lagging standby would answer: the replica has not got the row
      expect(await count()).toBe(7);
    });
  });
});
