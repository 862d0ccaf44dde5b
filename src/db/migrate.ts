/** Runs the Knex migrations from a static list of imported modules (no directory scan), so it works from .ts and from compiled .js alike. */
import type { Knex } from 'knex';
import type { Database } from './connect';
import type { EdmModel } from '../edm/model';
import { loadModelFromFile } from '../edm/load-csdl';
import * as coreSchema from '../../migrations/20261123000001_core_schema';
import * as exactDecimal from '../../migrations/20261204000001_exact_decimal';
import * as asyncJobs from '../../migrations/20261204000002_async_jobs';
import * as dynamicGroups from '../../migrations/20261204000003_dynamic_groups';
import * as auth from '../../migrations/20261204000004_auth';
import * as auditFields from '../../migrations/20261204000005_audit_fields';
import * as rateLimit from '../../migrations/20261204000006_rate_limit';
import * as tagsCountries from '../../migrations/20261204000020_tags_countries';
import * as modelRecord from '../../migrations/20261204190000_model_record';
import * as indexNullsFirst from '../../migrations/20261204220000_index_nulls_first';

/** A migration module; the ones that read the model take the built-in model being served (default: metadata/crm.csdl.json). */
interface ModelMigration {
  up(knex: Knex, model?: EdmModel): Promise<void>;
  down?(knex: Knex, model?: EdmModel): Promise<void>;
  readonly config?: Knex.MigratorConfig & { transaction?: boolean };
}

interface NamedMigration {
  readonly name: string;
  readonly migration: ModelMigration;
}

/**
 * In apply order: knex runs a custom migration source's list as given (it sorts only directory
 * sources), so keep this list in name order. Names are what knex_migrations records, so never rename one.
 */
const MIGRATIONS: readonly NamedMigration[] = [
  { name: '20261123000001_core_schema', migration: coreSchema },
  { name: '20261204000001_exact_decimal', migration: exactDecimal },
  { name: '20261204000002_async_jobs', migration: asyncJobs },
  { name: '20261204000003_dynamic_groups', migration: dynamicGroups },
  { name: '20261204000004_auth', migration: auth },
  { name: '20261204000005_audit_fields', migration: auditFields },
  { name: '20261204000006_rate_limit', migration: rateLimit },
  { name: '20261204000020_tags_countries', migration: tagsCountries },
  { name: '20261204190000_model_record', migration: modelRecord },
  { name: '20261204220000_index_nulls_first', migration: indexNullsFirst },
];

/** The migrations with `model` bound: the initial one builds the tables of the model to serve. */
function migrationSource(model: EdmModel): Knex.MigrationSource<NamedMigration> {
  return {
    getMigrations: () => Promise.resolve([...MIGRATIONS]),
    getMigrationName: (m) => m.name,
    getMigration: (m) => {
      const { up, down, config } = m.migration;
      return Promise.resolve({
        up: (knex: Knex) => up(knex, model),
        ...(down ? { down: (knex: Knex) => down(knex, model) } : {}),
        ...(config ? { config } : {}),
      });
    },
  };
}

/**
 * Runs the Knex migrations (history: what the releases before the model record needed). Model
 * changes after that reach the database through src/db/model-migrator.ts.
 */
export async function migrateToLatest(db: Database, model: EdmModel = loadModelFromFile()): Promise<void> {
  await db.knex.migrate.latest({ migrationSource: migrationSource(model) });
}

/** The migrations this code has that the database has not recorded (the readiness probe's check). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const applied = new Set((await knex('knex_migrations').select('name') as { name: string }[]).map((row) => row.name));
  return MIGRATIONS.map((m) => m.name).filter((name) => !applied.has(name));
}

/** Undoes every applied migration (drops the model's tables); used by `seed --reset` on PostgreSQL. */
export async function rollbackAll(db: Database, model: EdmModel = loadModelFromFile()): Promise<void> {
  await db.knex.migrate.rollback({ migrationSource: migrationSource(model) }, true);
}
