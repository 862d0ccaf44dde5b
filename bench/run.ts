/**
 * `npm run bench`: seeds (or reuses) a SQLite database at the requested scale, starts the OData service
 * (compiled, production settings) and the raw floor in child processes, checks that they agree, drives
 * each scenario with autocannon, prints a table and writes bench/results/<date>-<commit>.json.
 * Exits non-zero when any timed request was not 2xx. See bench/README.md.
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONTACTS, EXPORT_SCALE, parseArgs, type BenchOptions } from './args';
import { AUTH_SCENARIOS, authCompareTable, runAuthCompare } from './auth-compare';
import { prepareDatabase, readScenarioParams, type ScenarioParams } from './database';
import { runExport } from './export';
import { measure, type LoadResult } from './load';
import { buildService, startFloor, startService, type ChildServer } from './processes';
import {
  consoleTable, exportTable, gitCommit, machineFacts, mb, writeReport, type BenchReport, type ExportResult, type ScenarioRow,
} from './report';
import { HEAVY_READ, PAGE_DEEP_TARGET, selectScenarios, type Scenario } from './scenarios';
import { runByKeyUnderLoad, underLoadTable, type UnderLoadResult } from './under-load';
import { compareAnswers, ok, send } from './verify';
import { runWorkersScaling } from './workers-scaling';

const log = (line: string): void => console.log(line);
const errorsOf = (r?: LoadResult): number => (r ? r.non2xx + r.errors : 0);

interface Servers {
  readonly service: ChildServer;
  readonly floor: ChildServer;
}

async function runScenario(s: Scenario, servers: Servers, params: ScenarioParams, options: BenchOptions, failures: string[]): Promise<ScenarioRow> {
  const base = { name: s.name, description: s.description };
  const spec = await s.request({ params, serviceRoot: servers.service.root });
  const probe = await send(servers.service.root, spec);
  if (!ok(probe)) {
    if (s.pending) return { ...base, status: 'skipped', note: s.pending, method: spec.method, path: spec.path, warnings: [`service answered ${probe.status}`] };
    failures.push(`${s.name}: the service answered ${probe.status} before timing: ${probe.text.slice(0, 300)}`);
    return { ...base, status: 'failed', note: `service ${probe.status}`, method: spec.method, path: spec.path, warnings: [] };
  }
  const warnings: string[] = [];
  if (s.floor) {
    const floorProbe = await send(servers.floor.root, spec);
    if (!ok(floorProbe)) {
      failures.push(`${s.name}: the floor answered ${floorProbe.status}: ${floorProbe.text.slice(0, 300)}`);
      return { ...base, status: 'failed', note: `floor ${floorProbe.status}`, method: spec.method, path: spec.path, warnings };
    }
    warnings.push(...compareAnswers(s.compare, probe, floorProbe));
    for (const w of warnings) log(`  WARNING ${s.name}: ${w}`);
  }
  const settings = { duration: options.duration, connections: options.connections };
  const service = await measure(servers.service, spec, settings);
  const floor = s.floor ? await measure(servers.floor, spec, settings) : undefined;
  for (const [who, r] of [['service', service], ['floor', floor]] as const) {
    if (r && errorsOf(r) > 0) failures.push(`${s.name}: ${who} had ${r.non2xx} non-2xx responses and ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
  }
  const ratio = floor ? service.rps / floor.rps : undefined;
  const target = s.targetRatio !== undefined && ratio !== undefined ? `>= ${Number(s.targetRatio.toFixed(2))}` : undefined;
  const row: ScenarioRow = {
    ...base, status: 'ok', method: spec.method, path: spec.path, service, floor, ratio, target,
    meetsTarget: target !== undefined && ratio !== undefined ? ratio >= (s.targetRatio ?? 0) : undefined, warnings,
  };
  log(`  ${s.name.padEnd(18)} service ${service.rps.toFixed(0).padStart(6)} req/s p50 ${service.p50Ms.toFixed(1)} ms`
    + (floor ? ` | floor ${floor.rps.toFixed(0).padStart(6)} req/s p50 ${floor.p50Ms.toFixed(1)} ms | ratio ${ratio?.toFixed(2)}` : ''));
  return row;
}

async function runExports(s: Scenario, servers: Servers, params: ScenarioParams): Promise<ExportResult[]> {
  const spec = await s.request({ params, serviceRoot: servers.service.root });
  const results: ExportResult[] = [];
  for (const server of [servers.service, servers.floor]) {
    log(`  export_1m: reading ${params.contacts} contacts from the ${server.name} ...`);
    results.push(await runExport(server, spec.path));
  }
  return results;
}

function pageDeepSummary(rows: readonly ScenarioRow[]): BenchReport['pageDeep'] {
  const first = rows.find((r) => r.name === 'page_first')?.service;
  const deep = rows.find((r) => r.name === 'page_deep')?.service;
  if (!first || !deep) return undefined;
  const deepOverFirstP50 = deep.p50Ms / first.p50Ms;
  return { deepOverFirstP50, deepOverFirstMean: deep.meanMs / first.meanMs, target: PAGE_DEEP_TARGET, meetsTarget: deepOverFirstP50 <= PAGE_DEEP_TARGET };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const scenarios = selectScenarios(options.scenarios);
  // the commit of the code that is built, read before anything else can change the tree
  const { commit, dirty } = gitCommit();
  log('building the service (tsc -p tsconfig.build.json) ...');
  buildService(log);
  const db = await prepareDatabase(options.contacts, log);
  const failures: string[] = [];
  const date = new Date().toISOString();
  const settings = {
    contacts: options.contacts, duration: options.duration, connections: options.connections, scenarios: scenarios.map((s) => s.name),
    mode: options.workersScaling ? 'workers-scaling' : options.authCompare ? 'auth-compare' : 'service-vs-floor', pageSize: 100, logLevel: 'warn', databaseCached: db.cached,
  };
  try {
    const params = readScenarioParams(db.file);
    log(`database ${db.file} (${params.contacts} contacts${db.cached ? ', from cache' : ''}); by_key ${params.contactId}; `
      + `any_lambda group '${params.groupName}' (${params.groupMembers} members); filter_order matches ${params.filterOrderMatches}`);
    log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; ${options.duration} s x ${options.connections} connections per run`);
    if (options.workersScaling) {
      const scaling = await runWorkersScaling(options, db.file, params, scenarios, log);
      failures.push(...scaling.failures);
      const report: BenchReport = {
        date, commit, dirty, machine: machineFacts(), settings: { ...settings, workerCounts: options.workerCounts }, rows: [],
        workersScaling: { workers: scaling.workers, rows: scaling.rows, geometricMean: scaling.geometricMean }, failed: failures.length > 0, failures,
      };
      log(`\nwrote ${writeReport(options.out, report, '-workers')}`);
      return;
    }
    if (options.authCompare) {
      const compared = await runAuthCompare(options, db.file, db.floorFile, params, scenarios, log);
      failures.push(...compared.failures);
      log(`\n${authCompareTable(compared.rows)}`);
      const report: BenchReport = {
        date, commit, dirty, machine: machineFacts(), settings: { ...settings, scenarios: settings.scenarios.filter((n) => AUTH_SCENARIOS.includes(n)) },
        rows: [], authCompare: { user: compared.user, rows: compared.rows, warnings: compared.warnings }, failed: failures.length > 0, failures,
      };
      const scale = options.contacts === DEFAULT_CONTACTS ? '' : `-${options.contacts}-contacts`;
      log(`\nwrote ${path.relative(process.cwd(), writeReport(options.out, report, `${scale}-auth`))}`);
      return;
    }
    const servers: Servers = { service: await startService(db.file), floor: await startFloor(db.floorFile, params.modelVersion) };
    log(`service ${servers.service.root} (pid ${servers.service.pid}), floor ${servers.floor.root} (pid ${servers.floor.pid})`);
    const rows: ScenarioRow[] = [];
    let exports: ExportResult[] | undefined;
    let byKeyUnderLoad: UnderLoadResult[] | undefined;
    let memory: Record<string, number> | undefined;
    try {
      for (const s of scenarios) {
        if (s.special === 'under-load') {
          const spec = await s.request({ params, serviceRoot: servers.service.root });
          byKeyUnderLoad = await runByKeyUnderLoad(db.file, spec, HEAVY_READ, { duration: options.duration, connections: options.connections }, log);
          for (const r of byKeyUnderLoad) {
            const errors = [r.alone, r.loaded].reduce((n, x) => n + errorsOf(x), 0);
            if (errors > 0) failures.push(`${s.name} (read processes ${r.readProcesses}): ${errors} by-key requests were not 2xx`);
          }
          continue;
        }
        if (s.special === 'export') {
          if (options.contacts >= EXPORT_SCALE || options.forceExport) exports = await runExports(s, servers, params);
          else rows.push({ name: s.name, description: s.description, status: 'skipped', note: `runs with --contacts ${EXPORT_SCALE}`, warnings: [] });
          continue;
        }
        rows.push(await runScenario(s, servers, params, options, failures));
      }
      memory = { servicePeakRssBytes: servers.service.peakRss(), floorPeakRssBytes: servers.floor.peakRss() };
    } finally {
      await servers.service.stop();
      await servers.floor.stop();
    }
    const pageDeep = pageDeepSummary(rows);
    log('');
    log(consoleTable(rows));
    if (pageDeep) log(`\npage_deep: deep/first p50 latency ${pageDeep.deepOverFirstP50.toFixed(2)} (mean ${pageDeep.deepOverFirstMean.toFixed(2)}), target <= ${PAGE_DEEP_TARGET}: ${pageDeep.meetsTarget ? 'ok' : 'MISS'}`);
    if (exports) log(`\nexport_1m:\n${exportTable(exports)}`);
    if (byKeyUnderLoad) log(`\nby_key_under_load (heavy read: ${decodeURI(HEAVY_READ.path)}):\n${underLoadTable(byKeyUnderLoad)}`);
    if (memory) log(`\npeak RSS: service ${mb(memory.servicePeakRssBytes ?? 0)}, floor ${mb(memory.floorPeakRssBytes ?? 0)}`);
    const misses = rows.filter((r) => r.meetsTarget === false).map((r) => r.name);
    if (misses.length) log(`under target: ${misses.join(', ')}`);
    const report: BenchReport = {
      date, commit, dirty, machine: machineFacts(), settings, rows, pageDeep, export: exports, byKeyUnderLoad, memory, failed: failures.length > 0, failures,
    };
    // a run at another scale, or of some scenarios only, never replaces the full default run's file
    const suffix = `${options.contacts === DEFAULT_CONTACTS ? '' : `-${options.contacts}-contacts`}${options.scenarios ? '-some' : ''}`;
    log(`\nwrote ${path.relative(process.cwd(), writeReport(options.out, report, suffix))}`);
  } finally {
    db.remove();
    if (failures.length) {
      console.error(`\nBENCH FAILED:\n  ${failures.join('\n  ')}`);
      process.exitCode = 1;
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
