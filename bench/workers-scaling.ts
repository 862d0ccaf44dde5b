/**
 * `--workers-scaling`: the read scenarios against the service with 1 and with 2 (see --workers-list)
 * node:cluster workers on the same database; prints req/s per worker count and the scaling ratio.
 */
import type { BenchOptions } from './args';
import type { ScenarioParams } from './database';
import { measure } from './load';
import { startService } from './processes';
import { scalingTable, type ScalingRow } from './report';
import type { RequestSpec, Scenario } from './scenarios';
import { ok, send } from './verify';

export interface ScalingResult {
  readonly workers: readonly number[];
  readonly rows: readonly ScalingRow[];
  readonly geometricMean: number;
  readonly failures: readonly string[];
}

export async function runWorkersScaling(options: BenchOptions, database: string, params: ScenarioParams,
  scenarios: readonly Scenario[], log: (line: string) => void): Promise<ScalingResult> {
  const reads = scenarios.filter((s) => !s.pending && !s.special && s.targetRatio !== undefined);
  const rps = new Map<string, Record<string, number>>();
  const p50 = new Map<string, Record<string, number>>();
  const failures: string[] = [];
  for (const workers of options.workerCounts) {
    const service = await startService(database, workers);
    log(`service with ${workers} worker(s) on ${service.root} (pid ${service.pid})`);
    try {
      for (const s of reads) {
        const spec: RequestSpec = await s.request({ params, serviceRoot: service.root });
        const probe = await send(service.root, spec);
        if (!ok(probe)) {
          failures.push(`${s.name} (${workers} workers): ${probe.status} ${probe.text.slice(0, 200)}`);
          continue;
        }
        const r = await measure(service, spec, { duration: options.seconds, connections: options.connections });
        if (r.non2xx + r.errors > 0) failures.push(`${s.name} (${workers} workers): ${r.non2xx} non-2xx, ${r.errors} errors`);
        rps.set(s.name, { ...rps.get(s.name), [workers]: r.rps });
        p50.set(s.name, { ...p50.get(s.name), [workers]: r.p50Ms });
        log(`  ${s.name.padEnd(18)} ${workers}w ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(1)} ms`);
      }
    } finally {
      await service.stop();
    }
  }
  const first = String(options.workerCounts[0]);
  const last = String(options.workerCounts[options.workerCounts.length - 1]);
  const rows: ScalingRow[] = [...rps.entries()].map(([name, r]) => ({ name, rps: r, p50Ms: p50.get(name) ?? {}, scaling: (r[last] ?? NaN) / (r[first] ?? NaN) }));
  const finite = rows.map((r) => r.scaling).filter((x) => Number.isFinite(x) && x > 0);
  const geometricMean = finite.length ? Math.exp(finite.reduce((a, x) => a + Math.log(x), 0) / finite.length) : NaN;
  log('');
  log(scalingTable(options.workerCounts, rows, geometricMean));
  return { workers: options.workerCounts, rows, geometricMean, failures };
}
