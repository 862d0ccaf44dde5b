/** Runs the Knex migrations from a static list of imported modules (no directory scan), so it works from .ts and from compiled .js alike. */
import type { Knex } from 'knex';
import type { Database } from './connect';
import * as coreSchema from '../../migrations/20261123000001_core_schema';
import * as exactDecimal from '../../migrations/20261204000001_exact_decimal';
import * as asyncJobs from '../../migrations/20261204000002_async_jobs';
import * as dynamicGroups from '../../migrations/20261204000003_dynamic_groups';
import * as auth from '../../migrations/20261204000004_auth';
import * as auditFields from '../../migrations/20261204000005_audit_fields';
import * as rateLimit from '../../migrations/20261204000006_rate_limit';

interface NamedMigration {
  readonly name: string;
  readonly migration: Knex.Migration;
}

/** In apply order; names are what knex_migrations records, so never rename one. */
const MIGRATIONS: readonly NamedMigration[] = [
  { name: '20261123000001_core_schema', migration: coreSchema },
  { name: '20261204000001_exact_decimal', migration: exactDecimal },
  { name: '20261204000002_async_jobs', migration: asyncJobs },
  { name: '20261204000003_dynamic_groups', migration: dynamicGroups },
  { name: '20261204000004_auth', migration: auth },
  { name: '20261204000005_audit_fields', migration: auditFields },
  { name: '20261204000006_rate_limit', migration: rateLimit },
];

const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (m) => m.name,
  getMigration: (m) => Promise.resolve(m.migration),
};

export async function migrateToLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest({ migrationSource });
}

/** Undoes every applied migration (drops the model's tables); used by `seed --reset` on PostgreSQL. */
export async function rollbackAll(db: Database): Promise<void> {
  await db.knex.migrate.rollback({ migrationSource }, true);
}
