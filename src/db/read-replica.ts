/**
 * `ODATA_READ_REPLICA_URL`: a PostgreSQL standby that takes the reads outside transactions (the
 * OData GETs). Writes, transactions, sign-in lookups, rate-limit buckets, async jobs and the model
 * record stay on the primary: they must see the newest committed state.
 */
import type { Knex } from 'knex';
import { engineOf, openDatabase } from './connect';

/** The name the replica's connections carry in pg_stat_activity. */
export const REPLICA_APPLICATION_NAME = 'odata-read-replica';

/** The replica's URL with its application_name, or undefined when none is set; throws on a setting that cannot work. */
export function readReplicaUrlOf(replicaUrl: string, database: string): string | undefined {
  if (replicaUrl === '') return undefined;
  if (engineOf(replicaUrl) !== 'postgres') throw new Error('ODATA_READ_REPLICA_URL must be a postgres:// URL');
  if (engineOf(database) !== 'postgres') throw new Error('ODATA_READ_REPLICA_URL needs a PostgreSQL ODATA_DATABASE (SQLite reads already run in read processes)');
  const url = new URL(replicaUrl);
  if (!url.searchParams.has('application_name')) url.searchParams.set('application_name', REPLICA_APPLICATION_NAME);
  return url.toString();
}

export function openReadReplica(url: string, statementTimeoutMs: number): Knex {
  return openDatabase(url, { statementTimeoutMs }).knex;
}
