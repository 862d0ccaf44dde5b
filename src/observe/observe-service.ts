/**
 * Puts a running service under observation: its metrics (statement times from every database
 * connection it uses, pool use, rate-limit refusals, the model served), its readiness probe, and
 * under node:cluster the route to the primary's aggregated metrics.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect';
import { pendingMigrations } from '../db/migrate';
import { observeStatements } from '../db/statement-observer';
import type { EdmModel } from '../edm/model';
import type { RateLimiter } from '../limits/rate-limiter';
import { clusterMetricsOf } from './cluster-metrics';
import { ServiceMetrics, type PoolUse } from './metrics';
import type { OpsServices } from './ops-endpoints';

export interface ObservedService {
  readonly db: Database;
  /** the read replica's connections (ODATA_READ_REPLICA_URL), if any */
  readonly replica?: Knex;
  model(): EdmModel;
  readonly rateLimiter: RateLimiter;
}

export function observeService(service: ObservedService): OpsServices {
  const { db, replica } = service;
  const metrics = new ServiceMetrics({
    model: service.model,
    rateLimitRefusals: () => service.rateLimiter.refusals,
    pools: () => {
      const pools: PoolUse[] = [];
      const primary = poolUseOf('primary', db.knex);
      if (primary) pools.push(primary);
      const replicaUse = replica && poolUseOf('replica', replica);
      if (replicaUse) pools.push(replicaUse);
      if (db.reads) {
        const use = db.reads.use();
        pools.push({ pool: 'read-processes', used: use.busy, free: use.idle, pending: use.queued, max: use.max });
      }
      return pools;
    },
  });
  observeStatements(db.knex, (seconds, inReadProcess) => metrics.observeStatement(inReadProcess ? 'read-processes' : 'primary', seconds));
  if (replica) observeStatements(replica, (seconds) => metrics.observeStatement('replica', seconds));
  return {
    metrics,
    readiness: {
      database: async () => { await db.knex.raw('select 1'); },
      pendingMigrations: () => pendingMigrations(db.knex),
      model: service.model,
    },
    clusterMetrics: clusterMetricsOf(metrics.registries()),
  };
}

/** The part of tarn's pool (Knex's) the gauge reads. */
interface TarnPool {
  readonly max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function poolUseOf(pool: string, knex: Knex): PoolUse | undefined {
  const tarn = (knex.client as { pool?: TarnPool }).pool;
  if (tarn === undefined) return undefined;
  return { pool, used: tarn.numUsed(), free: tarn.numFree(), pending: tarn.numPendingAcquires(), max: tarn.max };
}
