/** Reads and writes the model record and the schema changes a database holds (tables: migrations/20261204190000_model_record.ts). */
import type { Knex } from 'knex';
import { MODEL_TABLE, SCHEMA_CHANGES_TABLE, SCHEMA_LOCK_TABLE } from '../../migrations/20261204190000_model_record';
import type { EdmModel } from '../edm/model';
import { parseSchemaChange, type SchemaChange } from '../edm/schema-change';
import type { TableSpec } from './schema';

export interface ModelRecord {
  readonly version: number;
  readonly digest: string;
  readonly storage: ReadonlyMap<string, TableSpec>;
}

/** Takes the schema lock for the rest of the transaction (a row lock on PostgreSQL, the write lock on SQLite). */
export async function lockSchema(trx: Knex.Transaction): Promise<void> {
  await trx(SCHEMA_LOCK_TABLE).where('id', 1).increment('taken', 1);
}

export async function latestModelRecord(q: Knex | Knex.Transaction): Promise<ModelRecord | undefined> {
  const [row] = await q(MODEL_TABLE).select('version', 'digest', 'storage').orderBy('version', 'desc').limit(1) as { version: number | string; digest: string; storage: string }[];
  if (!row) return undefined;
  const tables = JSON.parse(row.storage) as TableSpec[];
  return { version: Number(row.version), digest: row.digest, storage: new Map(tables.map((t) => [t.name, t])) };
}

/** The highest recorded model version (0: none). */
export async function latestModelVersion(q: Knex | Knex.Transaction): Promise<number> {
  const [row] = await q(MODEL_TABLE).max({ v: 'version' }) as { v: number | string | null }[];
  return versionOf(row?.v);
}

const VERSION_SQL = `SELECT max("version") AS v FROM "${MODEL_TABLE}"`;

/** The driver connections the poll talks to directly: better-sqlite3 (synchronous) and pg. */
interface PolledConnection {
  prepare?(sql: string): { get(): { v: number | string | null } | undefined };
  query?(sql: string): Promise<{ rows: { v: number | string | null }[] }>;
}

interface PooledClient {
  acquireConnection(): Promise<PolledConnection>;
  releaseConnection(connection: PolledConnection): Promise<void>;
}

/**
 * `latestModelVersion` for the background poll: on a pooled connection, straight through the
 * driver, so the poll is not one of the statements Knex reports (its `query` events are a request's).
 */
export async function pollModelVersion(knex: Knex): Promise<number> {
  const client = knex.client as unknown as PooledClient;
  const connection = await client.acquireConnection();
  try {
    if (connection.prepare) return versionOf(connection.prepare(VERSION_SQL).get()?.v);
    if (connection.query) return versionOf((await connection.query(VERSION_SQL)).rows[0]?.v);
    throw new Error('unknown database driver');
  } finally {
    await client.releaseConnection(connection);
  }
}

function versionOf(v: number | string | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export async function schemaChanges(q: Knex | Knex.Transaction): Promise<SchemaChange[]> {
  const rows = await q(SCHEMA_CHANGES_TABLE).select('change').orderBy('id') as { change: string }[];
  return rows.map((r) => parseSchemaChange(r.change));
}

export async function recordModel(trx: Knex.Transaction, version: number, model: EdmModel, storage: ReadonlyMap<string, TableSpec>): Promise<void> {
  await trx(MODEL_TABLE).insert({
    version, digest: model.version, csdl: JSON.stringify(model.csdl), storage: JSON.stringify([...storage.values()]), applied_at: Date.now(),
  });
}

export async function recordSchemaChange(trx: Knex.Transaction, id: number, change: SchemaChange): Promise<void> {
  await trx(SCHEMA_CHANGES_TABLE).insert({ id, change: JSON.stringify(change), applied_at: Date.now() });
}
