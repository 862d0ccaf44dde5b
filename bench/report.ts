/** Result rows, the console table, the markdown table and the JSON file bench/results/<date>-<commit>.json. */
import { oneClientLine, type OneClientTiming } from './one-client';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuthCompareRow } from './auth-compare';
import type { LoadResult } from './load';
import type { ProfileSummary } from './profile';
import type { UnderLoadResult } from './under-load';

export interface ScenarioRow {
  readonly name: string;
  readonly description: string;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly note?: string;
  readonly method?: string;
  readonly path?: string;
  readonly service?: LoadResult;
  readonly floor?: LoadResult;
  /** service req/s over floor req/s: the median of the rounds' ratios */
  readonly ratio?: number;
  /** the spread of the rounds' ratios */
  readonly ratioMin?: number;
  readonly ratioMax?: number;
  readonly roundRatios?: readonly number[];
  readonly target?: string;
  readonly meetsTarget?: boolean;
  readonly warnings: readonly string[];
}

export interface ExportResult {
  readonly server: string;
  readonly rows: number;
  readonly pages: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** RSS summed over the server's processes */
  readonly peakRssBytes: number;
  /** pages shared between its processes counted once (the service's read processes share the node binary's) */
  readonly peakOwnBytes: number;
  readonly peakMainRssBytes: number;
}

export interface ScalingRow {
  readonly name: string;
  /** workers → req/s */
  readonly rps: Readonly<Record<string, number>>;
  readonly p50Ms: Readonly<Record<string, number>>;
  readonly scaling: number;
}

export interface PageDeepSummary {
  readonly scenario: string;
  readonly deepOverFirstP50: number;
  readonly deepOverFirstMean: number;
  readonly target: number;
  readonly meetsTarget: boolean;
}

/** One memory check as a line of text (console and markdown). */
export function memoryLine(c: MemoryCheck): string {
  const shares = c.servicePeakOwnBytes ? `; shared pages once ${mb(c.servicePeakOwnBytes)}, main process alone ${mb(c.serviceMainPeakRssBytes ?? 0)}` : '';
  return `peak RSS through ${c.during}: service ${mb(c.servicePeakRssBytes)} (RSS summed over its processes${shares})`
    + `${c.floorPeakRssBytes ? `, floor ${mb(c.floorPeakRssBytes)}` : ''} (target < ${mb(c.limitBytes)}${c.servicePeakOwnBytes ? ' with shared pages once' : ''}: ${c.meetsTarget ? 'ok' : 'MISS'})`;
}

export interface MemoryCheck {
  /** what ran while the service's RSS was sampled */
  readonly during: string;
  readonly servicePeakRssBytes: number;
  readonly floorPeakRssBytes?: number;
  /**
   * The service's peak memory with shared pages counted once (its main process's RSS + its read
   * processes' private memory) and its main process's own peak RSS; when measured, the target is
   * judged on the first (an RSS sum counts the node binary and libraries again for every read process).
   */
  readonly servicePeakOwnBytes?: number;
  readonly serviceMainPeakRssBytes?: number;
  readonly limitBytes: number;
  readonly meetsTarget: boolean;
}

/** One engine's service-vs-floor run. */
export interface EngineReport {
  readonly engine: 'sqlite' | 'postgres';
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly note?: string;
  /** data scale and the parameters the scenarios were built from */
  readonly data?: Readonly<Record<string, unknown>>;
  readonly rows: readonly ScenarioRow[];
  readonly pageDeep: readonly PageDeepSummary[];
  readonly memoryChecks: readonly MemoryCheck[];
  readonly export?: readonly ExportResult[];
  /** by_key_under_load: one entry per read-process setting */
  readonly byKeyUnderLoad?: readonly UnderLoadResult[];
  /** the 1000-insert change set timed with one client (one-client.ts) */
  readonly oneClient?: OneClientTiming;
  readonly memory?: Readonly<Record<string, number>>;
}

export interface BenchReport {
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly machine: { readonly cpuModel: string; readonly cpus: number; readonly totalMemoryBytes: number; readonly node: string; readonly os: string };
  readonly settings: Readonly<Record<string, unknown>>;
  /** service vs bare floor, per engine */
  readonly engines: readonly EngineReport[];
  readonly workersScaling?: { readonly workers: readonly number[]; readonly rows: readonly ScalingRow[]; readonly geometricMean: number };
  /** --auth-compare: each scenario without sign-in, as a Standard user (Bearer, Basic), and on the floor */
  readonly authCompare?: { readonly user: string; readonly rows: readonly AuthCompareRow[]; readonly warnings: readonly string[] };
  /** --profile: per engine and scenario, where the service's CPU time went */
  readonly profiles?: readonly ProfileSummary[];
  readonly failed: boolean;
  readonly failures: readonly string[];
}

function git(args: readonly string[]): string {
  try {
    return execFileSync('git', args, { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function gitCommit(): { commit: string; dirty: boolean } {
  return { commit: git(['rev-parse', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '' };
}

export function machineFacts(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown', cpus: cpus.length, totalMemoryBytes: os.totalmem(), node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

const num = (n: number | undefined, digits = 0): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const spread = (r: ScenarioRow): string => (r.ratioMin === undefined || r.ratioMax === undefined || !Number.isFinite(r.ratioMin) ? '' : `${num(r.ratioMin, 2)}-${num(r.ratioMax, 2)}`);

function cells(r: ScenarioRow): string[] {
  if (r.status === 'skipped') return [r.name, `skipped: ${r.note ?? ''}`];
  const errors = (x?: LoadResult) => (x ? x.non2xx + x.errors : 0);
  const short = r.meetsTarget === false && r.ratio !== undefined && Number.isFinite(r.ratio) && r.target ? `, short by ${num(Number(r.target.replace('>= ', '')) - r.ratio, 3)}` : '';
  const target = r.target ? `${r.meetsTarget ? 'ok' : 'MISS'} (${r.target}${short})` : '';
  return [
    r.name, num(r.service?.rps), num(r.service?.p50Ms, 1), num(r.service?.p99Ms, 1),
    num(r.floor?.rps), num(r.floor?.p50Ms, 1), num(r.floor?.p99Ms, 1), num(r.ratio, 2), spread(r),
    String(errors(r.service) + errors(r.floor)), r.status === 'failed' ? `FAILED: ${r.note ?? ''}` : target,
  ];
}

const HEADER = ['scenario', 'svc req/s', 'svc p50 ms', 'svc p99 ms', 'floor req/s', 'floor p50 ms', 'floor p99 ms', 'svc/floor', 'spread', 'errors', 'target'];

export function consoleTable(rows: readonly ScenarioRow[]): string {
  const body = rows.map(cells);
  const measured = body.filter((_, i) => rows[i].status !== 'skipped');
  const widths = HEADER.map((h, i) => Math.max(h.length, ...measured.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[], skipped: boolean) => (skipped
    ? `${r[0].padEnd(widths[0])}  ${r[1]}`
    : r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  return [line(HEADER, false), ...body.map((r, i) => line(r, rows[i].status === 'skipped'))].join('\n');
}

export function markdownTable(rows: readonly ScenarioRow[]): string {
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const c = cells(r);
    out.push(r.status === 'skipped' ? `| ${c[0]} | ${c[1]} |${' |'.repeat(HEADER.length - 2)}` : `| ${c.join(' | ')} |`);
  }
  return out.join('\n');
}

export function exportTable(results: readonly ExportResult[]): string {
  return results.map((e) => `${e.server.padEnd(8)} ${e.rows} rows in ${e.pages} pages, ${e.seconds.toFixed(1)} s = ${e.rowsPerSecond.toFixed(0)} rows/s, peak RSS ${mb(e.peakRssBytes)}`).join('\n');
}

export function scalingTable(workers: readonly number[], rows: readonly ScalingRow[], geometricMean: number): string {
  const header = ['scenario', ...workers.map((w) => `${w}w req/s`), ...workers.map((w) => `${w}w p50 ms`), `x${workers[workers.length - 1]}/x${workers[0]}`];
  const body = rows.map((r) => [r.name, ...workers.map((w) => num(r.rps[w])), ...workers.map((w) => num(r.p50Ms[w], 1)), num(r.scaling, 2)]);
  body.push(['geometric mean', ...workers.map(() => ''), ...workers.map(() => ''), num(geometricMean, 2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [header, ...body].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export { mb };

/** Writes <out>/<YYYY-MM-DD>-<shortcommit>[-suffix].json and returns its path. */
export function writeReport(out: string, report: BenchReport, suffix = ''): string {
  fs.mkdirSync(out, { recursive: true });
  const short = report.commit === 'unknown' ? 'nocommit' : report.commit.slice(0, 7);
  const file = path.join(out, `${report.date.slice(0, 10)}-${short}${suffix}.json`);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  fs.renameSync(tmp, file);
  if (report.engines.length) fs.writeFileSync(file.replace(/\.json$/, '.md'), markdownReport(report));
  return file;
}

/** The service-vs-floor tables as markdown, with the machine and settings, ready for bench/README.md. */
export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const settings = report.settings;
  const out = [
    `Commit ${report.commit.slice(0, 7)}${report.dirty ? ' (with uncommitted changes)' : ''}, ${report.date}; ${m.cpus} x ${m.cpuModel}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GB, `
      + `Node ${m.node}, ${m.os}; ${String(settings.rounds)} rounds x ${String(settings.seconds)} s per server, ${String(settings.connections)} connections, `
      + `${String(settings.contacts)} contacts. svc/floor: median of the rounds' req/s ratios; spread: their min-max.`,
  ];
  for (const e of report.engines) {
    out.push('', `### ${e.engine}`, '');
    if (e.status !== 'ok') {
      out.push(`${e.status}: ${e.note ?? ''}`);
      continue;
    }
    const d = e.data ?? {};
    out.push(`Data: ${String(d.contacts)} contacts; by_key_first ${String(d.firstContactId)}, by_key_middle ${String(d.contactId)}; any_lambda group `
      + `'${String(d.groupName)}' (${String(d.groupMembers)} members); filter_order matches ${String(d.filterOrderMatches)}.`, '');
    out.push(markdownTable(e.rows), '');
    for (const p of e.pageDeep) out.push(`- ${p.scenario}: deep/first p50 ${num(p.deepOverFirstP50, 2)} (target <= ${p.target}: ${p.meetsTarget ? 'ok' : 'MISS'})`);
    for (const c of e.memoryChecks) {
      out.push(`- ${memoryLine(c)}`);
    }
    if (e.oneClient) out.push(`- ${oneClientLine(e.oneClient)}`);
  }
  return out.join('\n') + '\n';
}
