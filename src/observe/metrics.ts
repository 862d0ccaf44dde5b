/**
 * The service's Prometheus metrics (prom-client). One registry per running service (a test process
 * may run two nodes) plus one per process for the runtime's own metrics (CPU, memory, event loop,
 * GC), merged when scraped. Every label value comes from a bounded set: entity sets and singletons
 * named by the model (anything else is `other`), the standard methods, HTTP statuses.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdmModel } from '../edm/model';

export interface PoolUse {
  /** which connections: `primary` (Knex pool), `replica` (read replica), `read-processes` (SQLite) */
  readonly pool: string;
  readonly used: number;
  readonly free: number;
  readonly pending: number;
  readonly max: number;
}

/** What the collectors read when scraped (nothing is pushed per request for these). */
export interface MetricsSources {
  model(): EdmModel;
  pools(): readonly PoolUse[];
  rateLimitRefusals(): number;
}

export type StatementPool = 'primary' | 'replica' | 'read-processes';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type RequestLabels = 'entity_set' | 'method' | 'status';

interface RequestSeries {
  readonly count: Counter.Internal;
  readonly latency: Histogram.Internal<RequestLabels>;
}

let runtimeRegistry: Registry | undefined;

/** The runtime's metrics, collected once per process however many services it runs. */
export function runtimeMetrics(): Registry {
  if (runtimeRegistry === undefined) {
    runtimeRegistry = new Registry();
    collectDefaultMetrics({ register: runtimeRegistry });
  }
  return runtimeRegistry;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<RequestLabels>;
  private readonly latency: Histogram<RequestLabels>;
  private readonly batchParts: Counter<string>;
  private readonly statements: Histogram<'pool'>;
  private readonly statementsByPool: Record<StatementPool, Histogram.Internal<'pool'>>;
  /** label children by `entity set, method, status`: one hash lookup per request instead of two label hashes */
  private readonly series = new Map<string, RequestSeries>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'odata_requests_total', help: 'HTTP requests answered, by entity set (or endpoint), method and status',
      labelNames: ['entity_set', 'method', 'status'], registers,
    });
    this.latency = new Histogram({
      name: 'odata_request_duration_seconds', help: 'Time from a request\'s arrival until its answer was written, by entity set (or endpoint), method and status',
      labelNames: ['entity_set', 'method', 'status'], buckets: LATENCY_BUCKETS, registers,
    });
    this.batchParts = new Counter({ name: 'odata_batch_parts_total', help: 'Requests inside $batch requests (change-set members included)', registers });
    this.statements = new Histogram({
      name: 'odata_db_statement_duration_seconds', help: 'Time the service waited for one SQL statement, by where it ran',
      labelNames: ['pool'], buckets: STATEMENT_BUCKETS, registers,
    });
    this.statementsByPool = {
      primary: this.statements.labels('primary'), replica: this.statements.labels('replica'), 'read-processes': this.statements.labels('read-processes'),
    };
    new Gauge({
      name: 'odata_db_pool_connections', help: 'Database connections (SQLite read processes) by pool and state: used, free, pending (callers waiting), max',
      labelNames: ['pool', 'state'], registers,
      collect() {
        this.reset();
        for (const use of sources.pools()) {
          this.labels(use.pool, 'used').set(use.used);
          this.labels(use.pool, 'free').set(use.free);
          this.labels(use.pool, 'pending').set(use.pending);
          this.labels(use.pool, 'max').set(use.max);
        }
      },
    });
    new Counter({
      name: 'odata_rate_limit_refusals_total', help: 'Requests refused by the rate limiter (429)', registers,
      collect() {
        this.reset();
        this.inc(sources.rateLimitRefusals());
      },
    });
    new Gauge({
      name: 'odata_model_info', help: 'The model this process serves (value 1; the version is the label)',
      labelNames: ['version'], registers, aggregator: 'max',
      collect() {
        this.reset();
        this.labels(sources.model().version).set(1);
      },
    });
  }

  /** One answered request; `entitySet` is already a bounded label (see `resourceLabel`). */
  observeRequest(entitySet: string, method: string, status: number, seconds: number): void {
    const verb = METHODS.has(method) ? method : 'OTHER';
    const key = `${entitySet} ${verb} ${status}`;
    let series = this.series.get(key);
    if (series === undefined) {
      const labels = { entity_set: entitySet, method: verb, status: String(status) };
      series = { count: this.requests.labels(labels), latency: this.latency.labels(labels) };
      this.series.set(key, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  observeBatchParts(parts: number): void {
    this.batchParts.inc(parts);
  }

  observeStatement(pool: StatementPool, seconds: number): void {
    this.statementsByPool[pool].observe(seconds);
  }

  /** This service's metrics and the process's, in the Prometheus text format. */
  async text(): Promise<string> {
    return Registry.merge([runtimeMetrics(), this.registry]).metrics();
  }

  /** The registries a cluster worker hands its primary for aggregation. */
  registries(): Registry[] {
    return [runtimeMetrics(), this.registry];
  }
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * The `entity_set` label of a request path below the service root: the entity set or singleton it
 * starts with (its name as the model spells it), or an endpoint (`$metadata`, `$batch`, `$async`, the
 * service document `/`), or `other`. Never the raw URL: the label's values stay as few as the model's sets.
 */
export function resourceLabel(model: EdmModel, path: string): string {
  let end = 1;
  while (end < path.length && path[end] !== '/' && path[end] !== '(' && path[end] !== '?') end++;
  let first = path.slice(1, end);
  if (first === '') return '/';
  if (first.startsWith('$')) return ENDPOINTS.has(first) ? first : 'other';
  if (first.includes('%')) {
    try { first = decodeURIComponent(first); } catch { return 'other'; }
  }
  if (model.entitySets.has(first) || model.singletons.has(first) || model.operationImports.has(first)) return first;
  const lower = first.toLowerCase();
  for (const names of [model.entitySets.keys(), model.singletons.keys(), model.operationImports.keys()]) {
    for (const name of names) if (name.toLowerCase() === lower) return name;
  }
  return 'other';
}

const ENDPOINTS: ReadonlySet<string> = new Set(['$metadata', '$batch', '$async', '$batch-status', '$crossjoin', '$all', '$root', '$entity']);
