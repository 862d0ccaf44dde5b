/** Drives one request with autocannon and samples the server's resident memory every 100 ms meanwhile. */
import autocannon from 'autocannon';
import type { ChildServer } from './processes';
import type { RequestSpec } from './scenarios';

export interface LoadSettings {
  readonly duration: number;
  readonly connections: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Highest sampled RSS during the run, bytes. */
  readonly peakRssBytes: number;
}

const RSS_SAMPLE_MS = 100;

/** Response times in ms, growable. */
class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;
  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }
  mean(): number {
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += this.values[i];
    return this.n ? sum / this.n : NaN;
  }
  /** Nearest-rank percentile. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.values.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))];
  }
}

export function sampleRss(server: ChildServer): { stop(): number } {
  let peak = server.rss();
  const timer = setInterval(() => { peak = Math.max(peak, server.rss()); }, RSS_SAMPLE_MS);
  return { stop: () => { clearInterval(timer); return Math.max(peak, server.rss()); } };
}

export async function runLoad(server: ChildServer, spec: RequestSpec, settings: LoadSettings): Promise<LoadResult> {
  const sampler = sampleRss(server);
  const instance = autocannon({
    url: `${server.root}/${spec.path}`, method: spec.method, headers: spec.headers ? { ...spec.headers } : undefined, body: spec.body,
    connections: settings.connections, duration: settings.duration, timeout: 30,
  });
  // autocannon's own histogram keeps whole milliseconds; keep every response time for sub-ms percentiles.
  const times = new Latencies();
  instance.on('response', (_client, _status, _bytes, responseTime) => times.add(responseTime));
  const result = await instance;
  const peakRssBytes = sampler.stop();
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests, rps: requests / result.duration, meanMs: times.mean(), p50Ms: times.percentile(50), p99Ms: times.percentile(99),
    non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, statusCodes, peakRssBytes,
  };
}

const WARM_UP_SECONDS = 1;

/** A short untimed run first (JIT, statement caches), then the timed one. */
export async function measure(server: ChildServer, spec: RequestSpec, settings: LoadSettings): Promise<LoadResult> {
  await runLoad(server, spec, { connections: settings.connections, duration: WARM_UP_SECONDS });
  return runLoad(server, spec, settings);
}
