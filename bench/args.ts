/** Command-line flags of `npm run bench`. */
import { readFlags } from '../src/cli-flags';
import type { Engine } from './processes';

export interface BenchOptions {
  readonly contacts: number;
  /** Seconds of one timed round of one server. */
  readonly seconds: number;
  /** Interleaved service/floor rounds per scenario. */
  readonly rounds: number;
  readonly connections: number;
  /** Scenario names to run; undefined runs all. */
  readonly scenarios?: readonly string[];
  readonly engines: readonly Engine[];
  /** A database on the PostgreSQL server to connect to for creating and dropping the bench's own databases. */
  readonly pgUrl: string;
  readonly workersScaling: boolean;
  /** Worker counts compared by --workers-scaling. */
  readonly workerCounts: readonly number[];
  /** by_key and list_top50 without sign-in, as a Standard user with a Bearer token and with HTTP Basic, and on the floor. */
  readonly authCompare: boolean;
  /** Runs export_1m at any scale (it runs by itself with --contacts 1000000). */
  readonly forceExport: boolean;
  /** Instead of service-vs-floor: each scenario against a fresh service under node --cpu-prof, summarised. */
  readonly profile: boolean;
  readonly out: string;
}

export const USAGE = `usage: npm run bench -- [--engine sqlite|postgres|both] [--scenarios a,b] [--rounds R] [--seconds S] [--connections C]
                            [--contacts N] [--pg-url URL] [--workers-scaling] [--workers-list 1,2] [--auth-compare] [--profile] [--export] [--out DIR]`;

export const EXPORT_SCALE = 1_000_000;
export const DEFAULT_CONTACTS = 20_000;
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function engines(value: string): Engine[] {
  const list = value === 'both' ? ['sqlite', 'postgres'] : value.split(',').map((s) => s.trim());
  for (const e of list) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--engine takes sqlite, postgres or both, not ${e}\n${USAGE}`);
  return list as Engine[];
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  let contacts = DEFAULT_CONTACTS;
  let seconds = 5;
  let rounds = 3;
  let connections = 10;
  let scenarios: string[] | undefined;
  let engineList: Engine[] = ['sqlite', 'postgres'];
  let pgUrl = process.env.ODATA_BENCH_PG_URL ?? DEFAULT_PG_URL;
  let workersScaling = false;
  let workerCounts = [1, 2];
  let authCompare = false;
  let forceExport = false;
  let profile = false;
  let out = 'bench/results';
  for (const flag of readFlags(argv, USAGE)) {
    const positive = () => flag.integer(1);
    const value = () => flag.value();
    switch (flag.name) {
      case '--contacts': contacts = positive(); break;
      case '--seconds': case '--duration': seconds = positive(); break;
      case '--rounds': rounds = positive(); break;
      case '--connections': connections = positive(); break;
      case '--scenarios': scenarios = value().split(',').map((s) => s.trim()).filter((s) => s !== ''); break;
      case '--engine': engineList = engines(value()); break;
      case '--pg-url': pgUrl = value(); break;
      case '--workers-scaling': workersScaling = true; break;
      case '--workers-list': workerCounts = value().split(',').map(Number); break;
      case '--auth-compare': authCompare = true; break;
      case '--export': forceExport = true; break;
      case '--profile': profile = true; break;
      case '--out': out = value(); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${flag.name}\n${USAGE}`);
    }
  }
  if (workerCounts.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--workers-list needs positive integers\n${USAGE}`);
  return { contacts, seconds, rounds, connections, scenarios, engines: engineList, pgUrl, workersScaling, workerCounts, authCompare, forceExport, profile, out };
}

/** `--name value` of a bench script's command line; without it the fallback, else an error naming the flag. */
export function scriptOption(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

/** Wall milliseconds of one piece of work. */
export async function timedMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
