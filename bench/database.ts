/**
 * The benchmark databases. SQLite: a seeded file per scale, cached under bench/.cache/ (keyed by the
 * scale and a hash of the seed generator, migrations and model, so a changed generator reseeds), copied
 * into a fresh temp directory for each run. PostgreSQL: the same deterministic seed loaded into a fresh
 * database of the bench's own on the given server, copied (CREATE DATABASE … TEMPLATE) for the service
 * and for the floor, all dropped at the end. Also reads the scenario parameters from the data.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { loadModelFromFile } from '../src/edm/load-csdl';
import { seedDatabase } from '../src/seed/seed';

const ROOT = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(ROOT, 'bench', '.cache');
/** Inputs whose change invalidates a cached database. */
const SEED_INPUTS = ['src/seed', 'src/db', 'migrations', 'metadata'];

export interface BenchDatabase {
  /** The run's private copy (the service's): a SQLite file or a PostgreSQL URL. */
  readonly file: string;
  /** Another private copy of the same seeded data (the floor's), so one server's writes never slow the other. */
  readonly floorFile: string;
  readonly cached: boolean;
  readonly seedSeconds: number;
  remove(): void | Promise<void>;
}

/** Values the scenarios need, read from the seeded data rather than guessed. */
export interface ScenarioParams {
  /** The contact in the middle of the key order. */
  readonly contactId: string;
  /** The first contact in key order. */
  readonly firstContactId: string;
  readonly groupName: string;
  /** Contacts a group-membership filter on `groupName` matches. */
  readonly groupMembers: number;
  readonly contacts: number;
  /** Rows matching filter_order's filter (startswith(LastName,'S') and State eq 'CA'). */
  readonly filterOrderMatches: number;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  }).sort();
}

function seedInputsHash(): string {
  const hash = createHash('sha256');
  for (const f of SEED_INPUTS.flatMap((d) => filesUnder(path.join(ROOT, d)))) {
    hash.update(path.relative(ROOT, f)).update(fs.readFileSync(f));
  }
  return hash.digest('hex').slice(0, 10);
}

async function seedInto(file: string, contacts: number): Promise<void> {
  const db = openDatabase(file);
  try {
    await migrateToLatest(db);
    await seedDatabase(db, loadModelFromFile(), { contacts });
    await db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await db.knex.destroy();
  }
}

/** Older caches of this scale (seeded by a previous generator) are never used again. */
function pruneStale(contacts: number, current: string): void {
  for (const name of fs.readdirSync(CACHE_DIR)) {
    const file = path.join(CACHE_DIR, name);
    if (name.startsWith(`crm-${contacts}-`) && name.endsWith('.sqlite') && file !== current) fs.rmSync(file, { force: true });
  }
}

/** A fresh copy of the seeded database at this scale, seeding (and caching) it first if needed. */
export async function prepareDatabase(contacts: number, log: (line: string) => void): Promise<BenchDatabase> {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const cachedFile = path.join(CACHE_DIR, `crm-${contacts}-${seedInputsHash()}.sqlite`);
  const cached = fs.existsSync(cachedFile);
  let seedSeconds = 0;
  if (!cached) {
    log(`seeding ${contacts} contacts into ${path.relative(ROOT, cachedFile)} ...`);
    const started = process.hrtime.bigint();
    const tmp = `${cachedFile}.${process.pid}.tmp`;
    try {
      await seedInto(tmp, contacts);
      fs.renameSync(tmp, cachedFile);
    } finally {
      for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true });
    }
    seedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    log(`seeded in ${seedSeconds.toFixed(1)} s`);
    pruneStale(contacts, cachedFile);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-bench-'));
  const file = path.join(dir, 'crm.sqlite');
  const floorFile = path.join(dir, 'floor.sqlite');
  fs.copyFileSync(cachedFile, file);
  fs.copyFileSync(cachedFile, floorFile);
  return { file, floorFile, cached, seedSeconds, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs one parameter query; `?` placeholders. */
type Reader = (sql: string, values?: readonly (string | number)[]) => Promise<Record<string, unknown>[]>;

async function scenarioParams(read: Reader, where: string): Promise<ScenarioParams> {
  const one = async (sql: string, values: readonly (string | number)[] = []) => (await read(sql, values))[0];
  const count = Number((await one('SELECT COUNT(*) AS "n" FROM "Contacts"'))?.n);
  if (!count) throw new Error(`${where} has no contacts`);
  const first = await one('SELECT "Id" FROM "Contacts" ORDER BY "Id" LIMIT 1');
  const middle = await one(`SELECT "Id" FROM "Contacts" ORDER BY "Id" LIMIT 1 OFFSET ${Math.floor(count / 2)}`);
  const group = await one(`SELECT g."Name" AS "name", COUNT(*) AS "n" FROM "Groups" g JOIN "Contact_Group" cg ON cg."GroupId" = g."Id"
    GROUP BY g."Id", g."Name" ORDER BY COUNT(*) DESC, g."Name" LIMIT 1`);
  if (!group) throw new Error(`${where} has no group with members`);
  const members = await one(`SELECT COUNT(DISTINCT cg."ContactId") AS "n" FROM "Contact_Group" cg JOIN "Groups" g ON g."Id" = cg."GroupId"
    WHERE g."Name" = ?`, [String(group.name)]);
  const matches = await one(`SELECT COUNT(*) AS "n" FROM "Contacts" WHERE "LastName" >= 'S' AND "LastName" < 'T' AND "BusinessAddress_State" = 'CA'`);
  return {
    contactId: String(middle?.Id), firstContactId: String(first?.Id), groupName: String(group.name), groupMembers: Number(members?.n), contacts: count,
    filterOrderMatches: Number(matches?.n),
  };
}

export async function readScenarioParams(engine: 'sqlite' | 'postgres', database: string): Promise<ScenarioParams> {
  if (engine === 'sqlite') {
    const db = new BetterSqlite3(database, { readonly: true });
    try {
      return await scenarioParams(async (sql, values = []) => db.prepare(sql).all(...values) as Record<string, unknown>[], database);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return await scenarioParams(async (sql, values = []) => {
      let i = 0;
      return (await client.query(sql.replace(/\?/g, () => `$${++i}`), [...values])).rows as Record<string, unknown>[];
    }, database);
  } finally {
    await client.end();
  }
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(baseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Seeds a fresh PostgreSQL database of the bench's own (`crm_bench_<random>_seed`) and copies it for the
 * service and the floor; `remove` drops all three. `baseUrl` names a database to connect to for the
 * CREATE/DROP statements (e.g. postgres://postgres@127.0.0.1:5432/postgres).
 */
export async function preparePostgres(contacts: number, baseUrl: string, log: (line: string) => void): Promise<BenchDatabase> {
  const prefix = `crm_bench_${randomBytes(4).toString('hex')}`;
  const names = { seed: `${prefix}_seed`, service: `${prefix}_service`, floor: `${prefix}_floor` };
  const remove = () => onServer(baseUrl, async (client) => {
    for (const name of Object.values(names)) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  try {
    await onServer(baseUrl, (client) => client.query(`CREATE DATABASE ${names.seed}`));
    log(`seeding ${contacts} contacts into PostgreSQL database ${names.seed} ...`);
    const started = process.hrtime.bigint();
    const db = openDatabase(databaseUrl(baseUrl, names.seed));
    try {
      await migrateToLatest(db);
      await seedDatabase(db, loadModelFromFile(), { contacts });
      await db.knex.raw('ANALYZE');
    } finally {
      await db.knex.destroy();
    }
    const seedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    log(`seeded in ${seedSeconds.toFixed(1)} s`);
    await onServer(baseUrl, async (client) => {
      await client.query(`CREATE DATABASE ${names.service} TEMPLATE ${names.seed}`);
      await client.query(`CREATE DATABASE ${names.floor} TEMPLATE ${names.seed}`);
    });
    // statistics are not part of a template copy
    for (const name of [names.service, names.floor]) await onServer(databaseUrl(baseUrl, name), (client) => client.query('ANALYZE'));
    return { file: databaseUrl(baseUrl, names.service), floorFile: databaseUrl(baseUrl, names.floor), cached: false, seedSeconds, remove };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}

/** Whether a PostgreSQL server answers at this URL. */
export async function postgresReachable(baseUrl: string): Promise<boolean> {
  try {
    await onServer(baseUrl, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}
