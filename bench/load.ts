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
  /** Highest sampled RSS during the run, bytes (summed over the server's processes). */
  readonly peakRssBytes: number;
  /** Highest sampled ownMemory() (top process's RSS + its children's private memory), and RSS of its top process alone, bytes. */
  readonly peakOwnBytes?: number;
  readonly peakMainRssBytes?: number;
  /** Length of the timed run (all rounds together for a merged result). */
  readonly seconds: number;
  /** CPU time (user + system) of the server's processes per request, microseconds. */
  readonly cpuUsPerRequest: number;
}

export interface RoundSettings {
  readonly rounds: number;
  /** Seconds per round and server. */
  readonly seconds: number;
  readonly connections: number;
}

/** Service and floor measured alternately: the rounds merged per server, and the service/floor req/s ratio of every round. */
export interface PairResult {
  readonly service: LoadResult;
  readonly floor: LoadResult;
  readonly roundRatios: readonly number[];
  /** Median of the per-round ratios, and their spread (NaN when no round finished a request on both servers). */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The rounds of one server as one result: requests and time summed, latency percentiles over every response. */
function merge(runs: readonly LoadResult[], times: Latencies): LoadResult {
  const sum = (f: (r: LoadResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const requests = sum((r) => r.requests);
  const seconds = sum((r) => r.seconds);
  return {
    requests, rps: requests / seconds, meanMs: times.mean(), p50Ms: times.percentile(50), p99Ms: times.percentile(99),
    non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors), timeouts: sum((r) => r.timeouts), statusCodes,
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)), seconds,
    peakOwnBytes: Math.max(...runs.map((r) => r.peakOwnBytes ?? 0)), peakMainRssBytes: Math.max(...runs.map((r) => r.peakMainRssBytes ?? 0)),
    cpuUsPerRequest: sum((r) => r.cpuUsPerRequest * r.requests) / Math.max(1, requests),
  };
}

/**
 * Noise control on shared machines: a 1 s warm-up of each, then `rounds` short runs of each server,
 * interleaved (service first in odd rounds, floor first in even ones), so a disturbance hits one round
 * of a pair rather than one server's whole measurement.
 */
export async function measurePair(service: ChildServer, serviceSpec: RequestSpec, floor: ChildServer, floorSpec: RequestSpec,
  settings: RoundSettings, onRound?: (round: number, service: LoadResult, floor: LoadResult) => void): Promise<PairResult> {
  const load = { connections: settings.connections, duration: settings.seconds };
  await runLoad(service, serviceSpec, { connections: settings.connections, duration: WARM_UP_SECONDS });
  await runLoad(floor, floorSpec, { connections: settings.connections, duration: WARM_UP_SECONDS });
  const serviceTimes = new Latencies();
  const floorTimes = new Latencies();
  const serviceRuns: LoadResult[] = [];
  const floorRuns: LoadResult[] = [];
  const roundRatios: number[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    let s: LoadResult;
    let f: LoadResult;
    if (round % 2 === 0) {
      s = await runLoad(service, serviceSpec, load, serviceTimes);
      f = await runLoad(floor, floorSpec, load, floorTimes);
    } else {
      f = await runLoad(floor, floorSpec, load, floorTimes);
      s = await runLoad(service, serviceSpec, load, serviceTimes);
    }
    serviceRuns.push(s);
    floorRuns.push(f);
    roundRatios.push(s.rps / f.rps);
    onRound?.(round + 1, s, f);
  }
  // a round in which either server finished no request (a request slower than the round) has no ratio
  const valid = roundRatios.filter((r) => Number.isFinite(r) && r > 0);
  return {
    service: merge(serviceRuns, serviceTimes), floor: merge(floorRuns, floorTimes), roundRatios,
    ratio: valid.length ? median(valid) : NaN, ratioMin: valid.length ? Math.min(...valid) : NaN, ratioMax: valid.length ? Math.max(...valid) : NaN,
  };
}

/** A service-only scenario: warm-up, then the same rounds back to back. */
export async function measureRounds(server: ChildServer, spec: RequestSpec, settings: RoundSettings): Promise<LoadResult> {
  await runLoad(server, spec, { connections: settings.connections, duration: WARM_UP_SECONDS });
  const times = new Latencies();
  const runs: LoadResult[] = [];
  for (let round = 0; round < settings.rounds; round++) runs.push(await runLoad(server, spec, { connections: settings.connections, duration: settings.seconds }, times));
  return merge(runs, times);
}

const RSS_SAMPLE_MS = 100;
const WARM_UP_SECONDS = 1;

/** Response times in ms, growable. */
export class Latencies {
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

/** Peak ownMemory() and peak RSS of the top process, sampled like sampleRss. */
/** Peak memory with pages shared between the service's processes counted once, and the main process's RSS. */
export function sampleShares(server: ChildServer): { stop(): { own: number; mainRss: number } } {
  const peak = { own: server.ownMemory(), mainRss: server.mainRss() };
  const sample = () => { peak.own = Math.max(peak.own, server.ownMemory()); peak.mainRss = Math.max(peak.mainRss, server.mainRss()); };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  return { stop: () => { clearInterval(timer); sample(); return peak; } };
}

export function sampleRss(server: ChildServer): { stop(): number } {
  let peak = server.rss();
  const timer = setInterval(() => { peak = Math.max(peak, server.rss()); }, RSS_SAMPLE_MS);
  return { stop: () => { clearInterval(timer); return Math.max(peak, server.rss()); } };
}

/** One autocannon run; every response time is also added to `into` when given (rounds merged). */
export async function runLoad(server: ChildServer, spec: RequestSpec, settings: LoadSettings, into?: Latencies): Promise<LoadResult> {
  const sampler = sampleRss(server);
  const shares = sampleShares(server);
  const cpuBefore = server.cpuSeconds();
  const instance = autocannon({
    url: `${server.root}/${spec.path}`, method: spec.method, headers: spec.headers ? { ...spec.headers } : undefined, body: spec.body,
    connections: settings.connections, duration: settings.duration, timeout: 30,
  });
  // autocannon's own histogram keeps whole milliseconds; keep every response time for sub-ms percentiles.
  const times = new Latencies();
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    times.add(responseTime);
    into?.add(responseTime);
  });
  const result = await instance;
  const cpuSeconds = server.cpuSeconds() - cpuBefore;
  const peakRssBytes = sampler.stop();
  const { own: peakOwnBytes, mainRss: peakMainRssBytes } = shares.stop();
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests, rps: requests / result.duration, meanMs: times.mean(), p50Ms: times.percentile(50), p99Ms: times.percentile(99),
    non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, statusCodes, peakRssBytes, peakOwnBytes, peakMainRssBytes, seconds: result.duration,
    cpuUsPerRequest: requests > 0 ? (cpuSeconds * 1e6) / requests : NaN,
  };
}


/** A short untimed run first (JIT, statement caches), then the timed one. */
export async function measure(server: ChildServer, spec: RequestSpec, settings: LoadSettings): Promise<LoadResult> {
  await runLoad(server, spec, { connections: settings.connections, duration: WARM_UP_SECONDS });
  return runLoad(server, spec, settings);
}
