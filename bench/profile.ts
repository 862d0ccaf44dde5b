/**
 * `--profile`: where the service's time goes, per scenario. For each selected scenario a fresh service runs
 * under `node --cpu-prof` (SQLite or PostgreSQL, the same data as the service-vs-floor run), gets a 1 s
 * warm-up and one timed run of --seconds, and is stopped; its V8 CPU profile (whole life) is kept in
 * `<out>/profiles/<date>-<commit>-<engine>-<scenario>.cpuprofile` (open it in Chrome DevTools) and summarised
 * here over the timed run only: self time by function and by area (src/http, src/sql, express, knex, GC, ...).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioParams } from './database';
import { runLoad, type LoadResult } from './load';
import { startService, type Engine } from './processes';
import type { Scenario } from './scenarios';
import { ok, send } from './verify';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  /** microseconds between samples (the first from the profile's start) */
  readonly timeDeltas?: readonly number[];
}

/** The part of a profile to count, in microseconds from its start (the timed run: start-up and warm-up left out). */
export interface SampleWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

export interface ProfileSummary {
  readonly scenario: string;
  readonly engine: Engine;
  readonly file: string;
  readonly load: LoadResult;
  /** share of samples (0..1), busy samples only (idle left out) */
  readonly byArea: readonly { readonly area: string; readonly share: number }[];
  readonly topFunctions: readonly { readonly name: string; readonly share: number }[];
}

const AREAS: readonly [RegExp, string][] = [
  [/\/src\/http\//, 'src/http'], [/\/src\/uri\//, 'src/uri'], [/\/src\/plan\//, 'src/plan'], [/\/src\/sql\//, 'src/sql'],
  [/\/src\/serialize\//, 'src/serialize'], [/\/src\/batch\//, 'src/batch'], [/\/src\/write\//, 'src/write'], [/\/src\/auth\//, 'src/auth'],
  [/\/src\/db\//, 'src/db'], [/\/src\//, 'src (other)'], [/node_modules\/(express|router|body-parser|finalhandler|send|serve-static)\//, 'express + router'],
  [/node_modules\/knex\//, 'knex'], [/node_modules\/(pg|pg-[a-z]+)\//, 'pg'], [/node_modules\/better-sqlite3\//, 'better-sqlite3 (JS side)'],
  [/node_modules\/pino/, 'pino'], [/node_modules\//, 'node_modules (other)'], [/^node:/, 'node core'],
];

function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  return AREAS.find(([re]) => re.test(url))?.[1] ?? 'other';
}

export function summarise(profile: CpuProfile, window?: SampleWindow, top = 15): Pick<ProfileSummary, 'byArea' | 'topFunctions'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length) {
    let t = 0;
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      hits.set(samples[i], (hits.get(samples[i]) ?? 0) + 1);
    }
  } else {
    for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    const area = areaOf(node);
    if (area === 'idle') continue;
    busy += count;
    areas.set(area, (areas.get(area) ?? 0) + count);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(src|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + count);
  }
  const share = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => ({ k, share: busy ? n / busy : 0 }));
  return {
    byArea: share(areas).map(({ k, share: s }) => ({ area: k, share: s })),
    topFunctions: share(functions).slice(0, top).map(({ k, share: s }) => ({ name: k, share: s })),
  };
}

export async function runProfiles(engine: Engine, database: string, scenarios: readonly Scenario[], params: ScenarioParams,
  settings: { seconds: number; connections: number; out: string; stamp: string }, log: (line: string) => void): Promise<ProfileSummary[]> {
  const dir = path.resolve(settings.out, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const out: ProfileSummary[] = [];
  for (const s of scenarios.filter((x) => !x.special)) {
    const name = `${settings.stamp}-${engine}-${s.name}.cpuprofile`;
    const file = path.join(dir, name);
    fs.rmSync(file, { force: true });
    const spawned = performance.now();
    const service = await startService(database, 1, [], {}, 'service (profiled)', ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name]);
    let load: LoadResult;
    let window: SampleWindow;
    try {
      const spec = await s.request({ params, serviceRoot: service.root });
      const probe = await send(service.root, spec);
      if (!ok(probe)) {
        log(`  ${s.name}: service answered ${probe.status}, not profiled`);
        continue;
      }
      await runLoad(service, spec, { connections: settings.connections, duration: 1 });
      // the profile starts a little after the spawn, so this window starts a little late: never in the warm-up
      const from = performance.now();
      load = await runLoad(service, spec, { connections: settings.connections, duration: settings.seconds });
      window = { fromUs: (from - spawned) * 1000, toUs: (performance.now() - spawned) * 1000 };
    } finally {
      await service.stop();
    }
    if (!fs.existsSync(file)) {
      log(`  ${s.name}: no profile written (${file})`);
      continue;
    }
    const summary = { scenario: s.name, engine, file: path.relative(process.cwd(), file), load, ...summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, window) };
    out.push(summary);
    log(profileText(summary));
  }
  return out;
}

const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)} %`;

export function profileText(p: ProfileSummary): string {
  return [
    `\n${p.engine} ${p.scenario}: ${p.load.rps.toFixed(0)} req/s, p50 ${p.load.p50Ms.toFixed(1)} ms, CPU ${p.load.cpuUsPerRequest.toFixed(0)} us/request; profile ${p.file}`,
    '  self time by area (busy samples):',
    ...p.byArea.slice(0, 14).map((a) => `    ${pct(a.share)}  ${a.area}`),
    '  top functions (self):',
    ...p.topFunctions.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
