/**
 * Knex migration: sign-in and tokens. `Users.Password` (a one-way hash) and the `AccessTokens` entity
 * set come from the model: a database created from it already has them, an older one gets them here.
 * `odata_auth_tokens` holds the access and refresh tokens `POST /auth/token` issues (SHA-256 hashes
 * only, looked up by primary key on every request, so a revocation holds at once on every worker and
 * node); `odata_auth_failures` counts failed sign-ins per user name and per address.
 */
import type { Knex } from 'knex';
import { createTableFromSpec, describeExpectedSchema, engineOfKnex } from '../src/db/schema';
import { loadModelFromFile } from '../src/edm/load-csdl';
import type { EdmModel } from '../src/edm/model';

export const AUTH_TOKENS_TABLE = 'odata_auth_tokens';
export const AUTH_FAILURES_TABLE = 'odata_auth_failures';

export async function up(knex: Knex, model: EdmModel = loadModelFromFile()): Promise<void> {
  const engine = engineOfKnex(knex);
  const expected = describeExpectedSchema(model);
  if (!(await knex.schema.hasColumn('Users', 'Password'))) {
    await knex.schema.alterTable('Users', (t) => (engine === 'postgres' ? t.string('Password', 1000) : t.text('Password')).nullable());
  }
  const tokens = expected.get('AccessTokens');
  if (tokens && !(await knex.schema.hasTable('AccessTokens'))) await createTableFromSpec(knex, tokens);
  await knex.schema.createTable(AUTH_TOKENS_TABLE, (t) => {
    t.string('token_hash', 64).primary();
    t.string('kind', 16).notNullable();
    if (engine === 'postgres') t.uuid('user_id').notNullable(); else t.specificType('user_id', 'text(36)').notNullable();
    t.string('chain_id', 36).notNullable();
    t.string('scopes', 100).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at').nullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['user_id'], `ix_${AUTH_TOKENS_TABLE}_user_id`);
    t.index(['chain_id'], `ix_${AUTH_TOKENS_TABLE}_chain_id`);
    t.foreign('user_id', `fk_${AUTH_TOKENS_TABLE}_user_id`).references('Id').inTable('Users').onDelete('CASCADE');
  });
  await knex.schema.createTable(AUTH_FAILURES_TABLE, (t) => {
    t.string('subject', 200).primary();
    t.integer('failures').notNullable();
    t.bigInteger('last_failure_at').notNullable();
    t.bigInteger('locked_until').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(AUTH_FAILURES_TABLE);
  await knex.schema.dropTableIfExists(AUTH_TOKENS_TABLE);
}
