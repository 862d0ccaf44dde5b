/**
 * Knex migration: the table of asynchronous requests (`Prefer: respond-async`) and their results, so
 * any process on the database answers a status monitor (several workers or nodes, after a restart).
 * Times are epoch milliseconds in a bigint on both engines.
 */
import type { Knex } from 'knex';

export const ASYNC_JOBS_TABLE = 'odata_async_jobs';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(ASYNC_JOBS_TABLE, (t) => {
    t.string('id', 36).primary();
    t.string('state', 16).notNullable();
    t.string('request_method', 16).notNullable();
    t.text('request_url').notNullable();
    // Users.Id of the caller (no foreign key: a result outlives nothing it does not need); null when anonymous
    t.string('requested_by', 36).nullable();
    t.string('owner', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    t.bigInteger('finished_at').nullable();
    t.bigInteger('expires_at').nullable();
    t.integer('response_status').nullable();
    t.text('response_headers').nullable();
    t.binary('response_body').nullable();
    t.index(['expires_at'], 'ix_odata_async_jobs_expires_at');
    t.index(['state', 'heartbeat_at'], 'ix_odata_async_jobs_state_heartbeat_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(ASYNC_JOBS_TABLE);
}
