/**
 * Knex migration: the rate limiter's token buckets (src/limits/bucket-store.ts), one row per caller
 * (a user, or an address for anonymous calls), so every worker and node draws on the same bucket.
 * PostgreSQL only: on SQLite the buckets live in a file of their own beside the database (one writer
 * per file: here every request would wait for any open write transaction). Times are epoch milliseconds.
 */
import type { Knex } from 'knex';
import { engineOfKnex } from '../src/db/schema';

export const RATE_BUCKETS_TABLE = 'odata_rate_buckets';

export async function up(knex: Knex): Promise<void> {
  if (engineOfKnex(knex) !== 'postgres') return;
  await knex.schema.createTable(RATE_BUCKETS_TABLE, (t) => {
    t.string('bucket_key', 200).primary();
    // tokens left after the last request (negative: a batch larger than the burst took more than was there)
    t.double('level').notNullable();
    t.bigInteger('updated_ms').notNullable();
    // whether the last request was granted (what the one statement per request answers)
    t.smallint('granted').notNullable();
    t.index(['updated_ms'], 'ix_odata_rate_buckets_updated_ms');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(RATE_BUCKETS_TABLE);
}
