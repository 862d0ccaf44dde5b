/**
 * A database created before decimals were exact (REAL columns on SQLite) still opens: the
 * exact_decimal migration rebuilds its tables with canonical decimal text, keeping every row, link,
 * index and foreign key. On PostgreSQL (numeric) the migration changes nothing.
 */
import type { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { loadModelFromFile } from '../../src/edm/load-csdl';
import { seedDatabase } from '../../src/seed/seed';
import * as exactDecimal from '../../migrations/20261204000001_exact_decimal';

type Row = Record<string, unknown>;

async function rows(db: Database, sqlText: string, bindings: readonly Knex.Value[] = []): Promise<Row[]> {
  return await db.knex.raw(sqlText, [...bindings]) as Row[];
}

describe('exact_decimal migration (sqlite)', () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odata-decimal-migration-'));
    db = openDatabase(path.join(dir, 'old.sqlite'));
    await migrateToLatest(db);
    // The layout before the change: REAL decimal columns, and the migration not yet recorded.
    await exactDecimal.down(db.knex);
    await db.knex('knex_migrations').where('name', '20261204000001_exact_decimal').delete();
    await seedDatabase(db, loadModelFromFile(), { contacts: 40 });
  }, 60_000);
  afterAll(async () => {
    await db?.knex.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('converts REAL decimal columns to exact text and keeps rows, links, indexes and foreign keys', async () => {
    const typeOf = async (table: string, column: string) => (await rows(db, `PRAGMA table_info("${table}")`)).find((c) => c.name === column)?.type;
    expect(await typeOf('Companies', 'Revenue')).toBe('float');
    const [company] = await rows(db, 'SELECT "Id" FROM "Companies" WHERE "Revenue" IS NOT NULL LIMIT 1');
    await rows(db, 'UPDATE "Companies" SET "Revenue" = 0.1 + 0.2 WHERE "Id" = ?', [String(company.Id)]);
    const [stored] = await rows(db, 'SELECT "Revenue", typeof("Revenue") AS t FROM "Companies" WHERE "Id" = ?', [String(company.Id)]);
    expect([stored.t, stored.Revenue === 0.3]).toEqual(['real', false]);
    const counts = async () => Object.fromEntries(await Promise.all(
      (await rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'knex_%'")).map(async (t) => [t.name, (await rows(db, `SELECT COUNT(*) AS n FROM "${String(t.name)}"`))[0].n]),
    ));
    const indexes = async () => (await rows(db, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"));
    const before = { counts: await counts(), indexes: await indexes() };
    const amountsBefore = await rows(db, 'SELECT "Id", "Amount" FROM "Opportunities" ORDER BY "Id"');

    await migrateToLatest(db);

    expect(await typeOf('Companies', 'Revenue')).toBe('decimal_text(19,4)');
    expect(await typeOf('OpportunityProducts', 'Total')).toBe('decimal_text(19,4)');
    expect({ counts: await counts(), indexes: await indexes() }).toEqual(before);
    const [after] = await rows(db, 'SELECT "Revenue", typeof("Revenue") AS t FROM "Companies" WHERE "Id" = ?', [String(company.Id)]);
    expect(after).toEqual({ Revenue: '0.3', t: 'text' });
    const amountsAfter = await rows(db, 'SELECT "Id", "Amount" FROM "Opportunities" ORDER BY "Id"');
    expect(amountsAfter.map((r) => [r.Id, Number(r.Amount)])).toEqual(amountsBefore.map((r) => [r.Id, Number(r.Amount)]));
    expect(amountsAfter.every((r) => typeof r.Amount === 'string' && !/e|\.\d*0$/.test(r.Amount))).toBe(true);
    expect(await rows(db, 'PRAGMA foreign_key_check')).toEqual([]);
    expect((await rows(db, 'PRAGMA foreign_keys'))[0].foreign_keys).toBe(1);
    // still enforced after the rebuild
    const [line] = await rows(db, 'SELECT "Id", "OpportunityId" FROM "OpportunityProducts" LIMIT 1');
    expect(line).toBeDefined();
    const outcome = await rows(db, 'UPDATE "OpportunityProducts" SET "OpportunityId" = ? WHERE "Id" = ?', ['00000000-0000-0000-0000-000000000000', String(line.Id)])
      .then((r) => ({ result: r, fk: null as unknown }), (e: Error) => ({ result: e.message, fk: null as unknown }));
    if (!/FOREIGN KEY/.test(String(outcome.result))) outcome.fk = await rows(db, 'PRAGMA foreign_keys');
    expect(outcome).toEqual({ result: expect.stringMatching(/FOREIGN KEY/), fk: null });
    const [migrated] = await rows(db, "SELECT COUNT(*) AS n FROM knex_migrations WHERE name = '20261204000001_exact_decimal'");
    expect(migrated.n).toBe(1);
  });
});
