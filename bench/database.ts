/**
 * The benchmark database: a seeded SQLite file per scale, cached under bench/.cache/ (keyed by the
 * scale and a hash of the seed generator, migrations and model, so a changed generator reseeds),
 * copied into a fresh temp directory for each run. Also reads the scenario parameters from it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { loadModelFromFile } from '../src/edm/load-csdl';
import { seedDatabase } from '../src/seed/seed';

const ROOT = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(ROOT, 'bench', '.cache');
/** Inputs whose change invalidates a cached database. */
const SEED_INPUTS = ['src/seed', 'src/db', 'migrations', 'metadata'];

export interface BenchDatabase {
  /** The run's private copy (the service's). */
  readonly file: string;
  /** Another private copy of the same seeded data (the floor's), so one server's writes never slow the other. */
  readonly floorFile: string;
  readonly cached: boolean;
  readonly seedSeconds: number;
  remove(): void;
}

/** Values the scenarios need, read from the seeded data rather than guessed. */
export interface ScenarioParams {
  readonly contactId: string;
  readonly groupName: string;
  /** Contacts a group-membership filter on `groupName` matches. */
  readonly groupMembers: number;
  readonly contacts: number;
  /** Rows matching filter_order's filter (startswith(LastName,'S') and State eq 'CA'). */
  readonly filterOrderMatches: number;
  /** The model version the service puts into $skiptoken (the floor issues the same). */
  readonly modelVersion: string;
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

export function readScenarioParams(file: string): ScenarioParams {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const count = (db.prepare('SELECT COUNT(*) AS n FROM "Contacts"').get() as { n: number }).n;
    if (count === 0) throw new Error(`${file} has no contacts`);
    const contact = db.prepare('SELECT "Id" FROM "Contacts" ORDER BY "Id" LIMIT 1 OFFSET ?').get(Math.floor(count / 2)) as { Id: string };
    const group = db.prepare(`SELECT g."Name" AS name, COUNT(*) AS n FROM "Groups" g JOIN "Contact_Group" cg ON cg."GroupId" = g."Id"
      GROUP BY g."Id" ORDER BY n DESC, g."Name" LIMIT 1`).get() as { name: string; n: number } | undefined;
    if (!group) throw new Error(`${file} has no group with members`);
    const members = db.prepare(`SELECT COUNT(DISTINCT cg."ContactId") AS n FROM "Contact_Group" cg JOIN "Groups" g ON g."Id" = cg."GroupId"
      WHERE g."Name" = ?`).get(group.name) as { n: number };
    const matches = db.prepare(`SELECT COUNT(*) AS n FROM "Contacts" WHERE "LastName" >= 'S' AND "LastName" < 'T'
      AND "BusinessAddress_State" = 'CA'`).get() as { n: number };
    return {
      contactId: contact.Id, groupName: group.name, groupMembers: members.n, contacts: count,
      filterOrderMatches: matches.n, modelVersion: loadModelFromFile().version,
    };
  } finally {
    db.close();
  }
}
