/**
 * SQLite: making a filled custom column on Contacts required and nullable again (issue 17, item 4:
 * PATCH FieldDefinitions IsNullable), both ways src/db/sqlite-table-change.ts has: in place
 * (`ALTER TABLE … ALTER COLUMN … SET NOT NULL`, SQLite ≥ 3.53) and the documented table rebuild
 * (new table, copy, drop, rename, indexes and views again; foreign keys off around the transaction
 * and knex's whole-database `PRAGMA foreign_key_check` before its COMMIT), each through
 * `schemaTransaction` as the service runs it. Plain and with an index on the column.
 *
 *   npx tsx bench/sqlite-nullability.ts --database <seeded SQLite file> [--rounds 2]
 *
 * Works on the file directly (no service); the column it adds is dropped again. Run under
 * `flock /tmp/sqlite-bench.lock`. Wall-clock ms on whatever machine load there is.
 */
import os from 'node:os';
import { openDatabase } from '../src/db/connect';
import { forceSqliteNullabilityMethod, schemaTransaction, setSqliteNullability, type SqliteNullabilityMethod } from '../src/db/sqlite-table-change';
import { median } from './load';
import { scriptOption as option, timedMs as timed } from './args';

async function main(): Promise<void> {
  const database = option('database');
  const rounds = Number(option('rounds', '2'));
  const db = openDatabase(database);
  if (db.engine !== 'sqlite') throw new Error('a SQLite file, please');
  const k = db.knex;
  const [{ n }] = await k('Contacts').count({ n: '*' }) as { n: number }[];
  const [{ v }] = await k.raw('SELECT sqlite_version() AS v') as { v: string }[];
  console.log(`SQLite ${v}, ${n} contacts, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const column = 'NullBench';
  try {
    for (const indexed of [false, true]) {
      for (const method of ['in-place', 'rebuild'] as SqliteNullabilityMethod[]) {
        forceSqliteNullabilityMethod(method);
        const times = { fill: [] as number[], required: [] as number[], nullable: [] as number[] };
        for (let round = 0; round < rounds; round++) {
          await k.raw(`ALTER TABLE Contacts ADD COLUMN ${column} text`);
          if (indexed) await k.raw(`CREATE INDEX ix_Contacts_${column} ON Contacts (${column})`);
          times.fill.push(await timed(() => k('Contacts').update({ [column]: 'Bronze' })));
          times.required.push(await timed(() => schemaTransaction(k, (trx) => setSqliteNullability(trx, 'Contacts', column, false))));
          times.nullable.push(await timed(() => schemaTransaction(k, (trx) => setSqliteNullability(trx, 'Contacts', column, true))));
          if (indexed) await k.raw(`DROP INDEX ix_Contacts_${column}`);
          await k.raw(`ALTER TABLE Contacts DROP COLUMN ${column}`);
        }
        const show = (xs: number[]) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
        console.log(`${indexed ? 'indexed' : 'plain'} ${method}: fill ${show(times.fill)}; NOT NULL set ${show(times.required)}; dropped ${show(times.nullable)}`);
      }
    }
    console.log(`load average after ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    forceSqliteNullabilityMethod(undefined);
    await k.destroy();
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
