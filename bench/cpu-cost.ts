/**
 * CPU per request of the service and of the bare floor, one request at a time: unlike req/s, CPU time
 * holds on a shared, loaded machine. Per scenario, after a warm-up, the two servers answer `--requests`
 * requests each in alternating blocks; the CPU time of each server's process tree (from /proc) is
 * divided by the requests it answered. Optionally (`--rss`) the peak RSS of each process of the service
 * through ten concurrent 1000-insert change sets.
 *
 *   npx tsx bench/cpu-cost.ts --engine sqlite --scenarios batch_write_changeset_1000,batch_read_10 --requests 20
 */
import fs from 'node:fs';
import { postgresReachable, prepareDatabase, preparePostgres, readScenarioParams, type BenchDatabase } from './database';
import { buildService, startFloor, startService, type ChildServer, type Engine } from './processes';
import { SCENARIOS, serviceModelVersion, type RequestSpec } from './scenarios';
import { ok, send } from './verify';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function cpuPerRequest(server: ChildServer, spec: RequestSpec, requests: number): Promise<{ cpuUs: number; wallMs: number }> {
  const cpu = server.cpuSeconds();
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const answer = await send(server.root, spec);
    if (!ok(answer)) throw new Error(`${server.name}: ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  return { cpuUs: ((server.cpuSeconds() - cpu) * 1e6) / requests, wallMs: Number(process.hrtime.bigint() - started) / 1e6 / requests };
}

/** Per process of the tree: pid, command tail and peak RSS (VmHWM) in MB. */
function treePeaks(pid: number): string[] {
  const out: string[] = [];
  const visit = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
      const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
      const rollup = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const own = (Number(/^Private_Clean:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) + Number(/^Private_Dirty:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)) / 1024;
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).map((a) => a.split('/').pop()).join(' ').slice(0, 60);
      out.push(`pid ${p} peak RSS ${hwm.toFixed(0)} MB, now RSS ${rss.toFixed(0)} MB, private ${own.toFixed(0)} MB: ${cmd}`);
      for (const child of fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) visit(Number(child));
    } catch { /* gone */ }
  };
  visit(pid);
  return out;
}

async function concurrentChangeSets(server: ChildServer, spec: RequestSpec, concurrent: number): Promise<void> {
  await Promise.all(Array.from({ length: concurrent }, async () => {
    const answer = await send(server.root, spec);
    if (!ok(answer)) throw new Error(`${server.name}: ${answer.status}`);
  }));
}

async function main(): Promise<void> {
  const engine = option('engine', 'sqlite') as Engine;
  const names = option('scenarios', 'batch_write_changeset_1000,batch_read_10').split(',');
  const requests = Number(option('requests', '20'));
  const blocks = Number(option('blocks', '3'));
  const contacts = Number(option('contacts', '20000'));
  buildService((line) => console.warn(line));
  const pgUrl = option('pg-url', process.env.ODATA_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  if (engine === 'postgres' && !(await postgresReachable(pgUrl))) throw new Error(`PostgreSQL unreachable at ${pgUrl}`);
  const db: BenchDatabase = engine === 'sqlite' ? await prepareDatabase(contacts, console.log) : await preparePostgres(contacts, pgUrl, console.log);
  const params = await readScenarioParams(engine, db.file);
  const service = await startService(db.file);
  const floor = await startFloor(engine, db.floorFile, await serviceModelVersion(service.root));
  try {
    for (const name of names) {
      const scenario = SCENARIOS.find((s) => s.name === name);
      if (!scenario) throw new Error(`no scenario ${name}`);
      const spec = await scenario.request({ params, serviceRoot: service.root });
      await cpuPerRequest(service, spec, Math.max(2, requests / 4));
      await cpuPerRequest(floor, spec, Math.max(2, requests / 4));
      const svc: number[] = [];
      const flr: number[] = [];
      const svcWall: number[] = [];
      const flrWall: number[] = [];
      for (let b = 0; b < blocks; b++) {
        const s = await cpuPerRequest(service, spec, requests);
        const f = await cpuPerRequest(floor, spec, requests);
        svc.push(s.cpuUs); flr.push(f.cpuUs); svcWall.push(s.wallMs); flrWall.push(f.wallMs);
      }
      const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
      console.log(`${name} (${engine}): CPU per request service ${med(svc).toFixed(0)} us, floor ${med(flr).toFixed(0)} us, floor/service ${(med(flr) / med(svc)).toFixed(2)}`
        + ` (blocks: ${svc.map((x, i) => (flr[i] / x).toFixed(2)).join(' ')}); wall one at a time: service ${med(svcWall).toFixed(1)} ms, floor ${med(flrWall).toFixed(1)} ms`);
    }
    if (process.argv.includes('--rss')) {
      const spec = await SCENARIOS.find((s) => s.name === 'batch_write_changeset_1000')!.request({ params, serviceRoot: service.root });
      for (let i = 0; i < 3; i++) await concurrentChangeSets(service, spec, 10);
      console.log('peak RSS through 3 x 10 concurrent 1000-part change sets, per process of the service:');
      for (const line of treePeaks(service.pid)) console.log(`  ${line}`);
      console.log(`  sum of peak RSS ${(service.peakRss() / 2 ** 20).toFixed(0)} MB, now with shared pages once ${(service.ownMemory() / 2 ** 20).toFixed(0)} MB`);
    }
  } finally {
    await service.stop();
    await floor.stop();
    await db.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
