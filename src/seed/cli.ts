/** `npm run seed -- --contacts N [--database path-or-url] [--reset] [--seed N]`: migrates, loads the demo data, prints the elapsed time. */
import fs from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { readFlags } from '../cli-flags';
import { loadConfig } from '../config';
import { openDatabase, type Database } from '../db/connect';
import { migrateToLatest, rollbackAll } from '../db/migrate';
import { loadModelFromFile } from '../edm/load-csdl';
import { seedDatabase } from './seed';

interface CliOptions {
  readonly contacts: number;
  readonly database: string;
  readonly reset: boolean;
  readonly seed?: number;
}

const USAGE = 'usage: npm run seed -- [--contacts N] [--database path-or-postgres-url] [--reset] [--seed N]';

function parseArgs(argv: readonly string[]): CliOptions {
  const defaults = loadConfig([], process.env);
  let contacts = defaults.seedContacts;
  let database = defaults.database;
  let reset = false;
  let seed: number | undefined;
  for (const flag of readFlags(argv, USAGE)) {
    const integer = () => flag.integer(0);
    const value = () => flag.value();
    switch (flag.name) {
      case '--contacts': contacts = integer(); break;
      case '--database': case '--db': database = value(); break;
      case '--reset': reset = true; break;
      case '--seed': seed = integer(); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${flag.name}\n${USAGE}`);
    }
  }
  return { contacts, database, reset, seed };
}

function removeSqliteFiles(url: string): void {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file === ':memory:') return;
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
}

async function contactCount(db: Database): Promise<number> {
  const rows: unknown[] = await db.knex('Contacts').count({ n: '*' });
  const first = rows[0];
  return typeof first === 'object' && first !== null && 'n' in first ? Number(first.n) : 0;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = process.hrtime.bigint();
  const seconds = (from: bigint): string => (Number(process.hrtime.bigint() - from) / 1e9).toFixed(2);
  if (options.reset && !/^postgres(ql)?:\/\//i.test(options.database)) removeSqliteFiles(options.database);
  const db = openDatabase(options.database);
  try {
    if (options.reset && db.engine === 'postgres') await rollbackAll(db);
    await migrateToLatest(db);
    if ((await contactCount(db)) > 0) {
      throw new Error(`${options.database} already has contacts; pass --reset to replace its data`);
    }
    const model = loadModelFromFile();
    const bar = process.stdout.isTTY
      ? new SingleBar({ format: 'seeding [{bar}] {percentage}% | {value}/{total} rows | {table}', hideCursor: true }, Presets.shades_classic)
      : undefined;
    let barStarted = false;
    const seedStarted = process.hrtime.bigint();
    const result = await seedDatabase(db, model, {
      contacts: options.contacts,
      seed: options.seed,
      onProgress: ({ table, done, total }) => {
        if (!bar) return;
        if (!barStarted) {
          bar.start(total, 0, { table });
          barStarted = true;
        }
        bar.update(done, { table });
      },
    });
    bar?.stop();
    for (const [table, count] of Object.entries(result.rows)) console.log(`${table.padEnd(22)} ${String(count).padStart(9)}`);
    console.log(`Seeded ${options.contacts} contacts (${result.total} rows) into ${db.engine} ${redact(options.database)} `
      + `in ${seconds(seedStarted)} s (${seconds(started)} s including migration)`);
  } finally {
    await db.knex.destroy();
  }
}

/** Hides a password in a PostgreSQL URL before printing it. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
