/**
 * The rate limiter's token buckets, shared by every worker and node. One statement per request: an
 * UPSERT that refills the bucket for the time since its last request, takes the request's cost if
 * the bucket holds enough, and returns the new level and the verdict.
 *
 * PostgreSQL: the table `odata_rate_buckets` in the service's database (migration
 * 20261204000006_rate_limit); ON CONFLICT DO UPDATE runs under the row's lock, so concurrent requests
 * never draw on the same tokens twice, and a long write transaction elsewhere blocks nothing.
 * SQLite: the same table in a file of its own beside the database (`<database>.rate-limit`), on a
 * connection of its own. SQLite has one writer per file: in the database file itself every request
 * would wait for any open write transaction (a long `$batch`, a mass update) of any process.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Engine } from '../db/connect';
import { RATE_BUCKETS_TABLE } from '../../migrations/20261204000006_rate_limit';

export interface BucketPolicy {
  /** tokens added per second */
  readonly ratePerSecond: number;
  /** the bucket's capacity */
  readonly burst: number;
}

export interface BucketState {
  readonly granted: boolean;
  /** tokens left after this request (negative after a batch larger than the burst) */
  readonly level: number;
}

export interface BucketStore {
  take(key: string, cost: number, now: number): Promise<BucketState>;
  close(): void;
}

/** Buckets untouched this long after they filled up again are deleted (an absent bucket is a full one). */
const SWEEP_EVERY_MS = 60_000;

/** The one statement; `:name` parameters (knex and better-sqlite3 both bind them by name). */
function upsertSql(engine: Engine): string {
  const least = engine === 'postgres' ? 'LEAST' : 'min';
  const greatest = engine === 'postgres' ? 'GREATEST' : 'max';
  const t = RATE_BUCKETS_TABLE;
  // typed parameters: PostgreSQL cannot infer the type of `$1 - $2`
  const [now, cost, burst, rate] = ['CAST(:now AS bigint)', 'CAST(:cost AS double precision)', 'CAST(:burst AS double precision)', 'CAST(:rate AS double precision)'];
  const refilled = `${least}(${burst}, ${t}.level + ${greatest}(0, ${now} - ${t}.updated_ms) * ${rate} / 1000.0)`;
  // a request costing more than the burst (a large $batch) needs a full bucket and leaves it in debt
  const enough = `${refilled} >= ${least}(${cost}, ${burst})`;
  return `INSERT INTO ${t} (bucket_key, level, updated_ms, granted) VALUES (:key, ${burst} - ${cost}, ${now}, 1)
    ON CONFLICT (bucket_key) DO UPDATE SET
      level = CASE WHEN ${enough} THEN ${refilled} - ${cost} ELSE ${refilled} END,
      updated_ms = ${greatest}(${t}.updated_ms, ${now}),
      granted = CASE WHEN ${enough} THEN 1 ELSE 0 END
    RETURNING level, granted`;
}

function sweepCutoff(policy: BucketPolicy, now: number): number {
  return now - Math.ceil((policy.burst / policy.ratePerSecond) * 1000) - SWEEP_EVERY_MS;
}

function stateOf(row: unknown): BucketState {
  if (typeof row !== 'object' || row === null || !('level' in row) || !('granted' in row)) throw new Error('the rate-limit statement returned no row');
  return { granted: Number(row.granted) === 1, level: Number(row.level) };
}

class PostgresBuckets implements BucketStore {
  private readonly sql = upsertSql('postgres');
  private lastSweep = 0;

  constructor(private readonly knex: Knex, private readonly policy: BucketPolicy) {}

  async take(key: string, cost: number, now: number): Promise<BucketState> {
    const result = await this.knex.raw(this.sql, { key, cost, now, burst: this.policy.burst, rate: this.policy.ratePerSecond }) as { rows: unknown[] };
    if (now - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = now;
      await this.knex(RATE_BUCKETS_TABLE).where('updated_ms', '<', sweepCutoff(this.policy, now)).delete();
    }
    return stateOf(result.rows[0]);
  }

  close(): void { /* the service's pool is closed with the service */ }
}

class SqliteBuckets implements BucketStore {
  private readonly connection: BetterSqlite3.Database;
  private readonly upsert: BetterSqlite3.Statement;
  private readonly sweep: BetterSqlite3.Statement;
  private lastSweep = 0;

  constructor(file: string, private readonly policy: BucketPolicy) {
    this.connection = new BetterSqlite3(file);
    this.connection.pragma('journal_mode = WAL');
    this.connection.pragma('synchronous = NORMAL');
    this.connection.pragma('busy_timeout = 2000');
    this.connection.exec(`CREATE TABLE IF NOT EXISTS ${RATE_BUCKETS_TABLE} (
      bucket_key varchar(200) PRIMARY KEY, level double precision NOT NULL, updated_ms bigint NOT NULL, granted smallint NOT NULL)`);
    this.upsert = this.connection.prepare(upsertSql('sqlite'));
    this.sweep = this.connection.prepare(`DELETE FROM ${RATE_BUCKETS_TABLE} WHERE updated_ms < ?`);
  }

  take(key: string, cost: number, now: number): Promise<BucketState> {
    const row: unknown = this.upsert.get({ key, cost, now, burst: this.policy.burst, rate: this.policy.ratePerSecond });
    if (now - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = now;
      this.sweep.run(sweepCutoff(this.policy, now));
    }
    return Promise.resolve(stateOf(row));
  }

  close(): void {
    this.connection.close();
  }
}

/** The buckets for a database URL (`postgres://…`, or an SQLite file whose sibling holds them). */
export function openBucketStore(engine: Engine, knex: Knex, databaseUrl: string, policy: BucketPolicy): BucketStore {
  if (engine === 'postgres') return new PostgresBuckets(knex, policy);
  const file = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  return new SqliteBuckets(file === ':memory:' ? ':memory:' : `${file}.rate-limit`, policy);
}
