/**
 * The rate limiter's token buckets, kept in the database so every worker and node shares them. One
 * statement per request: an UPSERT that refills the bucket for the time since its last request,
 * takes the request's cost if the bucket holds enough, and returns the new level and the verdict.
 * PostgreSQL runs ON CONFLICT DO UPDATE under the row's lock and SQLite has one writer at a time, so
 * concurrent requests never draw on the same tokens twice. The engines differ only in the names of
 * the two-argument minimum and maximum (below).
 */
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

const SCALAR = { sqlite: { least: 'min', greatest: 'max' }, postgres: { least: 'LEAST', greatest: 'GREATEST' } } as const;

/** Buckets untouched this long after they filled up again are deleted (an absent bucket is a full one). */
const SWEEP_EVERY_MS = 60_000;

export class BucketStore {
  private readonly sql: string;
  private lastSweep = 0;

  constructor(private readonly knex: Knex, engine: Engine, private readonly policy: BucketPolicy) {
    const { least, greatest } = SCALAR[engine];
    const t = RATE_BUCKETS_TABLE;
    // typed parameters: PostgreSQL cannot infer the type of `$1 - $2`
    const [now, cost, burst, rate] = ['CAST(:now AS bigint)', 'CAST(:cost AS double precision)', 'CAST(:burst AS double precision)', 'CAST(:rate AS double precision)'];
    const refilled = `${least}(${burst}, ${t}.level + ${greatest}(0, ${now} - ${t}.updated_ms) * ${rate} / 1000.0)`;
    // a request costing more than the burst (a large $batch) needs a full bucket and leaves it in debt
    const enough = `${refilled} >= ${least}(${cost}, ${burst})`;
    this.sql = `INSERT INTO ${t} (bucket_key, level, updated_ms, granted) VALUES (:key, ${burst} - ${cost}, ${now}, 1)
      ON CONFLICT (bucket_key) DO UPDATE SET
        level = CASE WHEN ${enough} THEN ${refilled} - ${cost} ELSE ${refilled} END,
        updated_ms = ${greatest}(${t}.updated_ms, ${now}),
        granted = CASE WHEN ${enough} THEN 1 ELSE 0 END
      RETURNING level, granted`;
  }

  async take(key: string, cost: number, now: number): Promise<BucketState> {
    const bindings = { key, cost, now, burst: this.policy.burst, rate: this.policy.ratePerSecond };
    const result: unknown = await this.knex.raw(this.sql, bindings);
    const row = firstRow(result);
    if (now - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = now;
      await this.sweep(now);
    }
    return { granted: Number(row.granted) === 1, level: Number(row.level) };
  }

  /** Deletes buckets that have been full again for a while (the table holds one row per address that ever called). */
  private async sweep(now: number): Promise<void> {
    const refillMs = Math.ceil((this.policy.burst / this.policy.ratePerSecond) * 1000);
    await this.knex(RATE_BUCKETS_TABLE).where('updated_ms', '<', now - refillMs - SWEEP_EVERY_MS).delete();
  }
}

/** knex.raw answers an array of rows on SQLite and a pg result (`rows`) on PostgreSQL. */
function firstRow(result: unknown): Record<string, unknown> {
  const rows = Array.isArray(result) ? result : (result as { rows?: unknown }).rows;
  if (!Array.isArray(rows) || rows.length !== 1 || typeof rows[0] !== 'object' || rows[0] === null) {
    throw new Error('the rate-limit statement returned no row');
  }
  return rows[0] as Record<string, unknown>;
}
