/**
 * `npm run bench`: per engine (SQLite, PostgreSQL), seeds (or reuses) the data at the requested scale,
 * starts the OData service (compiled, production settings) and the bare node:http floor in child
 * processes, checks that their bodies are the same bytes, measures each scenario in interleaved rounds,
 * prints a table per engine and writes bench/results/<date>-<commit>.json.
 * Exits non-zero when any timed request was not 2xx or a body differed. See bench/README.md.
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONTACTS, EXPORT_SCALE, parseArgs, type BenchOptions } from './args';
import { AUTH_SCENARIOS, authCompareTable, runAuthCompare } from './auth-compare';
import { postgresReachable, prepareDatabase, preparePostgres, readScenarioParams, type BenchDatabase, type ScenarioParams } from './database';
import { runExport } from './export';
import { measurePair, measureRounds, type LoadResult } from './load';
import { buildService, startFloor, startService, type ChildServer, type Engine } from './processes';
import {
  memoryLine,
  consoleTable, exportTable, gitCommit, machineFacts, mb, writeReport,
  type BenchReport, type EngineReport, type ExportResult, type MemoryCheck, type PageDeepSummary, type ScenarioRow,
} from './report';
import { HEAVY_READ, PAGE_DEEP_TARGET, selectScenarios, serviceModelVersion, WRITE_TARGET, type Scenario } from './scenarios';
import { runProfiles, type ProfileSummary } from './profile';
import { runByKeyUnderLoad, underLoadTable, type UnderLoadResult } from './under-load';
import { ONE_CLIENT_SCENARIO, oneClientLine, timeOneClient, type OneClientTiming } from './one-client';
import { compareAnswers, ok, send, VERIFY_HOST } from './verify';
import { runWorkersScaling } from './workers-scaling';

const log = (line: string): void => console.log(line);
const errorsOf = (r?: LoadResult): number => (r ? r.non2xx + r.errors : 0);
/** Issue 15: peak RSS under 250 MB through export_1m and through ten concurrent 1,000-part change sets. */
const RSS_LIMIT_BYTES = 250 * 1024 * 1024;

interface Servers {
  readonly service: ChildServer;
  readonly floor: ChildServer;
}

async function runScenario(s: Scenario, servers: Servers, params: ScenarioParams, options: BenchOptions, failures: string[], engine: Engine): Promise<ScenarioRow> {
  const base = { name: s.name, description: s.description };
  const spec = await s.request({ params, serviceRoot: servers.service.root });
  const where = `${engine} ${s.name}`;
  const probe = await send(servers.service.root, spec, VERIFY_HOST);
  if (!ok(probe)) {
    if (s.pending) return { ...base, status: 'skipped', note: `service answers ${probe.status}`, method: spec.method, path: spec.path, warnings: [probe.text.slice(0, 300)] };
    failures.push(`${where}: the service answered ${probe.status} before timing: ${probe.text.slice(0, 300)}`);
    return { ...base, status: 'failed', note: `service ${probe.status}`, method: spec.method, path: spec.path, warnings: [] };
  }
  const warnings: string[] = [];
  if (s.floor) {
    const floorProbe = await send(servers.floor.root, spec, VERIFY_HOST);
    if (!ok(floorProbe)) {
      failures.push(`${where}: the floor answered ${floorProbe.status}: ${floorProbe.text.slice(0, 300)}`);
      return { ...base, status: 'failed', note: `floor ${floorProbe.status}`, method: spec.method, path: spec.path, warnings };
    }
    warnings.push(...compareAnswers(s.compare, probe, floorProbe));
    if (warnings.length && s.pending) {
      return { ...base, status: 'skipped', note: `service answers ${probe.status} but not the floor's body (${s.pending})`, method: spec.method, path: spec.path, warnings };
    }
    for (const w of warnings) {
      log(`  BODY DIFFERS ${s.name}: ${w}`);
      failures.push(`${where}: ${w}`);
    }
  }
  const settings = { rounds: options.rounds, seconds: options.seconds, connections: options.connections };
  let service: LoadResult;
  let floor: LoadResult | undefined;
  let ratios: Pick<ScenarioRow, 'ratio' | 'ratioMin' | 'ratioMax' | 'roundRatios'> = {};
  if (s.floor) {
    const pair = await measurePair(servers.service, spec, servers.floor, spec, settings, (round, sr, fr) => log(
      `  ${s.name.padEnd(26)} round ${round}: service ${sr.rps.toFixed(0).padStart(6)} req/s, floor ${fr.rps.toFixed(0).padStart(6)} req/s, ratio ${(sr.rps / fr.rps).toFixed(2)}`));
    service = pair.service;
    floor = pair.floor;
    ratios = { ratio: pair.ratio, ratioMin: pair.ratioMin, ratioMax: pair.ratioMax, roundRatios: pair.roundRatios };
  } else {
    service = await measureRounds(servers.service, spec, settings);
  }
  for (const [who, r] of [['service', service], ['floor', floor]] as const) {
    if (r && errorsOf(r) > 0) failures.push(`${where}: ${who} had ${r.non2xx} non-2xx responses and ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
  }
  const { ratio } = ratios;
  const differs = warnings.length > 0;
  if (ratio !== undefined && !Number.isFinite(ratio)) {
    // a setting too short for the scenario, not a fault of either server: the row says so, the run does not fail
    warnings.push('no round in which both servers finished a request: raise --seconds');
  }
  const target = s.targetRatio !== undefined && ratio !== undefined ? `>= ${Number(s.targetRatio.toFixed(2))}` : undefined;
  log(`  ${s.name.padEnd(26)} service ${service.rps.toFixed(0).padStart(6)} req/s p50 ${service.p50Ms.toFixed(1)} ms`
    + (floor ? ` | floor ${floor.rps.toFixed(0).padStart(6)} req/s p50 ${floor.p50Ms.toFixed(1)} ms | median ratio ${ratio?.toFixed(2)}` : ''));
  return {
    ...base, status: differs || (ratio !== undefined && !Number.isFinite(ratio)) ? 'failed' : 'ok',
    note: differs ? 'body differs from the floor' : ratio !== undefined && !Number.isFinite(ratio) ? 'no complete round (raise --seconds)' : undefined, method: spec.method, path: spec.path, service, floor, ...ratios, target,
    meetsTarget: target !== undefined && ratio !== undefined && Number.isFinite(ratio) ? ratio >= (s.targetRatio ?? 0) : undefined, warnings,
  };
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

function pageDeepSummaries(rows: readonly ScenarioRow[]): PageDeepSummary[] {
  const first = rows.find((r) => r.name === 'page_first')?.service;
  if (!first) return [];
  return rows.filter((r) => (r.name === 'page_deep' || r.name === 'page_deep_skip') && r.service).map((r) => {
    const deep = r.service as LoadResult;
    const deepOverFirstP50 = deep.p50Ms / first.p50Ms;
    return { scenario: r.name, deepOverFirstP50, deepOverFirstMean: deep.meanMs / first.meanMs, target: PAGE_DEEP_TARGET, meetsTarget: deepOverFirstP50 <= PAGE_DEEP_TARGET };
  });
}

function memoryCheck(during: string, service: number, floor: number | undefined, shares?: Pick<LoadResult, 'peakOwnBytes' | 'peakMainRssBytes'>): MemoryCheck {
  const own = shares?.peakOwnBytes || undefined;
  return {
    during, servicePeakRssBytes: service, floorPeakRssBytes: floor, servicePeakOwnBytes: own, serviceMainPeakRssBytes: shares?.peakMainRssBytes,
    limitBytes: RSS_LIMIT_BYTES, meetsTarget: (own ?? service) < RSS_LIMIT_BYTES,
  };
}

async function prepare(engine: Engine, options: BenchOptions): Promise<BenchDatabase | string> {
  if (engine === 'sqlite') return prepareDatabase(options.contacts, log);
  if (!(await postgresReachable(options.pgUrl))) return `PostgreSQL unreachable at ${options.pgUrl} (--pg-url or ODATA_BENCH_PG_URL)`;
  return preparePostgres(options.contacts, options.pgUrl, log);
}

async function runEngine(engine: Engine, options: BenchOptions, all: readonly Scenario[], failures: string[]): Promise<EngineReport> {
  log(`\n=== ${engine} ===`);
  const db = await prepare(engine, options);
  if (typeof db === 'string') {
    log(`skipped: ${db}`);
    return { engine, status: 'skipped', note: db, rows: [], pageDeep: [], memoryChecks: [] };
  }
  const scenarios = all.filter((s) => !s.engines || s.engines.includes(engine));
  try {
    const params = await readScenarioParams(engine, db.file);
    const service = await startService(db.file);
    let floor: ChildServer | undefined;
    try {
      const modelVersion = await serviceModelVersion(service.root);
      floor = await startFloor(engine, db.floorFile, modelVersion);
      const servers: Servers = { service, floor };
      const data = { ...params, modelVersion, seedSeconds: db.seedSeconds, cachedSeed: db.cached };
      log(`data: ${params.contacts} contacts; by_key_first ${params.firstContactId}, by_key_middle ${params.contactId}; any_lambda group '${params.groupName}' `
        + `(${params.groupMembers} members); filter_order matches ${params.filterOrderMatches}; model version ${modelVersion}`);
      log(`service ${service.root} (pid ${service.pid}), floor ${floor.root} (pid ${floor.pid}); ${options.rounds} rounds x ${options.seconds} s per server, `
        + `${options.connections} connections`);
      const rows: ScenarioRow[] = [];
      let exports: ExportResult[] | undefined;
      let byKeyUnderLoad: UnderLoadResult[] | undefined;
      let oneClient: OneClientTiming | undefined;
      const timed = scenarios.find((s) => s.name === ONE_CLIENT_SCENARIO && s.floor);
      if (timed) {
        // before any scenario writes, while both databases hold the same rows (a write scenario's load rounds insert
        // as many rows as each server manages, the floor's more)
        log(`  ${timed.name}: one client, one request at a time ...`);
        oneClient = await timeOneClient(timed.name, service, floor, await timed.request({ params, serviceRoot: service.root }), Number((1 / (timed.targetRatio ?? WRITE_TARGET)).toFixed(2)));
      }
      for (const s of scenarios) {
        if (s.special === 'under-load') {
          const spec = await s.request({ params, serviceRoot: service.root });
          byKeyUnderLoad = await runByKeyUnderLoad(db.file, spec, HEAVY_READ, { duration: options.seconds, connections: options.connections }, log);
          for (const r of byKeyUnderLoad) {
            const errors = [r.alone, r.loaded].reduce((n, x) => n + errorsOf(x), 0);
            if (errors > 0) failures.push(`${engine} ${s.name} (read processes ${r.readProcesses}): ${errors} by-key requests were not 2xx`);
          }
          continue;
        }
        if (s.special === 'export') {
          if (options.contacts >= EXPORT_SCALE || options.forceExport) exports = await runExports(s, servers, params);
          else rows.push({ name: s.name, description: s.description, status: 'skipped', note: `runs with --contacts ${EXPORT_SCALE} (or --export)`, warnings: [] });
          continue;
        }
        rows.push(await runScenario(s, servers, params, options, failures, engine));
      }
      const memoryChecks: MemoryCheck[] = [];
      const changeSets = rows.find((r) => r.name === 'batch_write_changeset_1000' && r.service);
      if (changeSets?.service) memoryChecks.push(memoryCheck(`${options.connections} concurrent 1000-part change sets`, changeSets.service.peakRssBytes, changeSets.floor?.peakRssBytes, changeSets.service));
      const serviceExport = exports?.find((e) => e.server === 'service');
      if (serviceExport) memoryChecks.push(memoryCheck(`export_1m (${serviceExport.rows} rows)`, serviceExport.peakRssBytes, exports?.find((e) => e.server === 'floor')?.peakRssBytes, { peakOwnBytes: serviceExport.peakOwnBytes, peakMainRssBytes: serviceExport.peakMainRssBytes }));
      return {
        engine, status: 'ok', data, rows, pageDeep: pageDeepSummaries(rows), memoryChecks, export: exports, byKeyUnderLoad, oneClient,
        memory: { servicePeakRssBytes: service.peakRss(), floorPeakRssBytes: floor.peakRss() },
      };
    } finally {
      await service.stop();
      await floor?.stop();
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    failures.push(`${engine}: ${message}`);
    log(`${engine} FAILED: ${message}`);
    return { engine, status: 'failed', note: message, rows: [], pageDeep: [], memoryChecks: [] };
  } finally {
    await db.remove();
  }
}

function printEngine(r: EngineReport, options: BenchOptions): void {
  log(`\n=== ${r.engine}: service vs bare floor (${options.rounds} rounds x ${options.seconds} s, ${options.connections} connections, `
    + `${String(r.data?.contacts ?? options.contacts)} contacts) ===`);
  if (r.status !== 'ok') {
    log(`${r.status}: ${r.note ?? ''}`);
    return;
  }
  const d = r.data ?? {};
  log(`data: ${String(d.contacts)} contacts (same deterministic seed on both engines); by_key_first ${String(d.firstContactId)}, by_key_middle ${String(d.contactId)}; `
    + `any_lambda group '${String(d.groupName)}' (${String(d.groupMembers)} members); filter_order matches ${String(d.filterOrderMatches)}`);
  for (const row of r.rows) if (row.path) log(`  ${row.name.padEnd(26)} ${row.method} ${decodeURIComponent(row.path)}`);
  log('');
  log(consoleTable(r.rows));
  for (const p of r.pageDeep) {
    log(`${p.scenario}: deep/first p50 latency ${p.deepOverFirstP50.toFixed(2)} (mean ${p.deepOverFirstMean.toFixed(2)}), target <= ${p.target}: ${p.meetsTarget ? 'ok' : 'MISS'}`);
  }
  for (const m of r.memoryChecks) {
    log(memoryLine(m));
  }
  if (r.oneClient) log(oneClientLine(r.oneClient));
  if (r.export) log(`export_1m:\n${exportTable(r.export)}`);
  if (r.byKeyUnderLoad) log(`by_key_under_load (heavy read: ${decodeURI(HEAVY_READ.path)}):\n${underLoadTable(r.byKeyUnderLoad)}`);
  if (r.memory) log(`peak RSS over the whole run: service ${mb(r.memory.servicePeakRssBytes ?? 0)}, floor ${mb(r.memory.floorPeakRssBytes ?? 0)}`);
  const misses = r.rows.filter((x) => x.meetsTarget === false).map((x) => `${x.name} (${x.ratio?.toFixed(2)})`);
  if (r.oneClient?.meetsTarget === false) misses.push(`${r.oneClient.scenario} with one client (${r.oneClient.serviceOverFloor.toFixed(2)} times the floor's time)`);
  if (misses.length) log(`under target: ${misses.join(', ')}`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const scenarios = selectScenarios(options.scenarios);
  // the commit of the code that is built, read before anything else can change the tree
  const { commit, dirty } = gitCommit();
  log('building the service (tsc -p tsconfig.build.json) ...');
  buildService(log);
  const failures: string[] = [];
  const date = new Date().toISOString();
  const mode = options.workersScaling ? 'workers-scaling' : options.authCompare ? 'auth-compare' : options.profile ? 'profile' : 'service-vs-floor';
  const settings = {
    contacts: options.contacts, rounds: options.rounds, seconds: options.seconds, connections: options.connections, engines: options.engines,
    scenarios: scenarios.map((s) => s.name), mode, pageSize: 100, logLevel: 'warn',
  };
  log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; ${options.rounds} rounds x ${options.seconds} s per server and scenario, `
    + `${options.connections} connections`);
  const scale = options.contacts === DEFAULT_CONTACTS ? '' : `-${options.contacts}-contacts`;
  try {
    if (options.workersScaling || options.authCompare) {
      // both compare the service with itself (and, signed in, with the floor) on SQLite
      const db = await prepareDatabase(options.contacts, log);
      try {
        const params = await readScenarioParams('sqlite', db.file);
        const base = { date, commit, dirty, machine: machineFacts(), engines: [] };
        if (options.workersScaling) {
          const scaling = await runWorkersScaling(options, db.file, params, scenarios, log);
          failures.push(...scaling.failures);
          const report: BenchReport = { ...base, settings: { ...settings, workerCounts: options.workerCounts },
            workersScaling: { workers: scaling.workers, rows: scaling.rows, geometricMean: scaling.geometricMean }, failed: failures.length > 0, failures };
          log(`\nwrote ${writeReport(options.out, report, '-workers')}`);
          return;
        }
        const compared = await runAuthCompare(options, db.file, db.floorFile, params, scenarios, log);
        failures.push(...compared.failures);
        log(`\n${authCompareTable(compared.rows)}`);
        const report: BenchReport = { ...base, settings: { ...settings, scenarios: settings.scenarios.filter((n) => AUTH_SCENARIOS.includes(n)) },
          authCompare: { user: compared.user, rows: compared.rows, warnings: compared.warnings }, failed: failures.length > 0, failures };
        log(`\nwrote ${path.relative(process.cwd(), writeReport(options.out, report, `${scale}-auth`))}`);
        return;
      } finally {
        db.remove();
      }
    }
    if (options.profile) {
      const profiles: ProfileSummary[] = [];
      const stamp = `${date.slice(0, 10)}-${commit.slice(0, 7)}`;
      for (const engine of options.engines) {
        log(`\n=== ${engine}: profiles ===`);
        const db = await prepare(engine, options);
        if (typeof db === 'string') {
          log(`skipped: ${db}`);
          continue;
        }
        try {
          const params = await readScenarioParams(engine, db.file);
          profiles.push(...await runProfiles(engine, db.file, scenarios, params, { seconds: options.seconds, connections: options.connections, out: options.out, stamp }, log));
        } finally {
          await db.remove();
        }
      }
      const report: BenchReport = { date, commit, dirty, machine: machineFacts(), settings, engines: [], profiles, failed: failures.length > 0, failures };
      log(`\nwrote ${path.relative(process.cwd(), writeReport(options.out, report, `${scale}-profile`))}`);
      return;
    }
    const engines: EngineReport[] = [];
    for (const engine of options.engines) engines.push(await runEngine(engine, options, scenarios, failures));
    for (const r of engines) printEngine(r, options);
    const report: BenchReport = { date, commit, dirty, machine: machineFacts(), settings, engines, failed: failures.length > 0, failures };
    // a run at another scale, of some scenarios or of one engine only, never replaces the full default run's file
    const partial = options.scenarios || options.engines.length < 2 ? `-${options.engines.join('-')}${options.scenarios ? '-some' : ''}` : '';
    log(`\nwrote ${path.relative(process.cwd(), writeReport(options.out, report, `${scale}${partial}`))}`);
  } finally {
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
