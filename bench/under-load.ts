/**
 * by_key_under_load: by-key latency alone and while heavy reads keep arriving, with SQLite reads in
 * the service process (`--sqlite-read-processes 0`, how every read ran before the read pool) and in
 * the read processes (the default). Service only: the floor has no heavy read to compare with.
 */
import { measure, runLoad, type LoadResult, type LoadSettings } from './load';
import { startService } from './processes';
import type { RequestSpec } from './scenarios';

export interface HeavyLoad {
  readonly requests: number;
  readonly meanMs: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

export interface UnderLoadResult {
  readonly readProcesses: number;
  readonly alone: LoadResult;
  readonly loaded: LoadResult;
  readonly heavy: HeavyLoad;
}

/** The heavy read is sent again as soon as it is answered, by `clients` clients, until stopped. */
function heavyLoop(root: string, spec: RequestSpec, clients: number): { stop(): Promise<HeavyLoad> } {
  let running = true;
  const times: number[] = [];
  const statusCodes: Record<string, number> = {};
  const client = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${root}/${spec.path}`);
      await res.arrayBuffer();
      times.push(performance.now() - started);
      statusCodes[res.status] = (statusCodes[res.status] ?? 0) + 1;
    }
  };
  const all = Promise.all(Array.from({ length: clients }, client));
  return {
    async stop() {
      running = false;
      await all;
      return { requests: times.length, meanMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), statusCodes };
    },
  };
}

export async function runByKeyUnderLoad(
  database: string, byKey: RequestSpec, heavy: RequestSpec, settings: LoadSettings, log: (line: string) => void,
): Promise<UnderLoadResult[]> {
  const results: UnderLoadResult[] = [];
  for (const readProcesses of [0, 2]) {
    const service = await startService(database, 1, ['--sqlite-read-processes', String(readProcesses)]);
    try {
      const alone = await measure(service, byKey, settings);
      const load = heavyLoop(service.root, heavy, 1);
      const loaded = await runLoad(service, byKey, settings);
      const heavyLoad = await load.stop();
      results.push({ readProcesses, alone, loaded, heavy: heavyLoad });
      log(`  by_key_under_load  read processes ${readProcesses}: by-key p50/p99 ${alone.p50Ms.toFixed(1)}/${alone.p99Ms.toFixed(1)} ms alone, `
        + `${loaded.p50Ms.toFixed(1)}/${loaded.p99Ms.toFixed(1)} ms under load (${loaded.rps.toFixed(0)} req/s; `
        + `${heavyLoad.requests} heavy reads, mean ${heavyLoad.meanMs.toFixed(0)} ms)`);
    } finally {
      await service.stop();
    }
  }
  return results;
}

export function underLoadTable(results: readonly UnderLoadResult[]): string {
  const header = ['read processes', 'alone p50 ms', 'alone p99 ms', 'loaded p50 ms', 'loaded p99 ms', 'loaded req/s', 'heavy reads', 'heavy mean ms'];
  const body = results.map((r) => [
    String(r.readProcesses), r.alone.p50Ms.toFixed(1), r.alone.p99Ms.toFixed(1), r.loaded.p50Ms.toFixed(1), r.loaded.p99Ms.toFixed(1),
    r.loaded.rps.toFixed(0), String(r.heavy.requests), r.heavy.meanMs.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [header, ...body].map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
}
