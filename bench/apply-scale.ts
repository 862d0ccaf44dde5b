/**
 * Issue 16, performance: "at 100,000 contacts, a Group By over all contacts answers in the time the SQL
 * takes, plus at most 20 %". Seeds a database as the bench does (bench/database.ts), captures the one SQL
 * statement (and its parameters) the service sends for each query from an in-process service's Knex
 * 'query' events, then compares the wall time of sequential HTTP requests to the compiled service
 * (bench/processes.ts, production settings; Power Query's Accept-Encoding) with the time of the same
 * statement, prepared, run directly with better-sqlite3 or pg, and with the same GET to the bench's bare floor
 * (bench/floor: node:http, its own GROUP BY, the service's bytes): what HTTP itself costs on this machine
 * beside the statement. Medians, and minimums (on a shared machine the least disturbed run is the closest
 * to the cost itself).
 *
 *   npx tsx bench/apply-scale.ts --engine sqlite|postgres --contacts 100000 [--runs 15] [--pg-url URL] [--sqlite-read-processes N]
 *     [--database FILE|URL]   an already seeded database (not seeded, not removed; a SQLite file is used in place)
 *     [--warmup PAIRS]        untimed pairs first (default 2; the service's code is still being optimized by V8
 *                             for a few dozen requests, so a longer warm-up measures the steady state)
 *
 * Besides wall times it prints CPU per request: the service's process tree (service and read processes,
 * from /proc, 10 ms ticks summed over the runs) and, on SQLite, the direct statement's (this process).
 */
import BetterSqlite3 from 'better-sqlite3';
import http from 'node:http';
import zlib from 'node:zlib';
import pg from 'pg';
import { readFlags } from '../src/cli-flags';
import { withOverrides } from '../src/config';
import { configureSqliteConnection } from '../src/db/sqlite-connection';
import { startService as startInProcess } from '../src/server';
import { DEFAULT_PG_URL } from './args';
import { prepareDatabase, preparePostgres, type BenchDatabase } from './database';
import { buildService, startFloor, startService, type Engine } from './processes';
import { APPLY_SCALE_QUERIES as QUERIES, applyQueryPath as encode, serviceModelVersion } from './scenarios';

/** pairs run before the timed ones, unless --warmup says otherwise */
const WARMUP = 2;

type Binding = string | number | bigint | boolean | null;
interface Statement { readonly sql: string; readonly bindings: readonly Binding[] }

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const minimum = (xs: readonly number[]) => Math.min(...xs);

/**
 * One GET on a kept-alive connection, as Power Query sends it (Accept-Encoding: gzip, deflate); the
 * body decoded. node:http rather than fetch: fetch's own work per request (~0.7 ms) is the client's.
 */
function getJson(agent: http.Agent, url: string): Promise<{ status: number; body: { value?: unknown[] }; timing: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers: { accept: 'application/json', 'accept-encoding': 'gzip, deflate' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const coding = res.headers['content-encoding'];
        const text = (coding === 'gzip' ? zlib.gunzipSync(raw) : coding === 'deflate' ? zlib.inflateSync(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { value?: unknown[] }, timing: String(res.headers['server-timing'] ?? '') });
      });
    }).on('error', reject);
  });
}

/**
 * Runs `a`, `b` and `c` in turn (after warm-up), so all see the same load from the rest of the machine;
 * wall ms of each run, and CPU seconds: `a`'s in this process, `b`'s as `bCpu` counts it (the service tree).
 */
async function timedInterleaved(runs: number, warmup: number, a: () => Promise<unknown>, b: () => Promise<unknown>, c: () => Promise<unknown>, bCpu: () => number): Promise<{ times: [number[], number[], number[]]; cpu: [number, number] }> {
  for (let i = 0; i < warmup; i++) { await a(); await b(); await c(); }
  const times: [number[], number[], number[]] = [[], [], []];
  const cpu: [number, number] = [0, 0];
  const wall = async (run: () => Promise<unknown>): Promise<number> => {
    const started = process.hrtime.bigint();
    await run();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (let i = 0; i < runs; i++) {
    const own = process.cpuUsage();
    times[0].push(await wall(a));
    const used = process.cpuUsage(own);
    cpu[0] += (used.user + used.system) / 1e6;
    const before = bCpu();
    times[1].push(await wall(b));
    cpu[1] += bCpu() - before;
    times[2].push(await wall(c));
  }
  return { times, cpu };
}

/** The statement reading "Contacts" each query sends, from an in-process service (no read processes, so Knex sees it). */
async function captureStatements(database: string): Promise<Statement[]> {
  const svc = await startInProcess(withOverrides({ database, port: 0, host: '127.0.0.1', logLevel: 'silent', seedContacts: 0, auth: 'off', rateLimit: 'off', sqliteReadProcesses: 0 }));
  try {
    const out: Statement[] = [];
    for (const query of QUERIES) {
      const seen: Statement[] = [];
      const listener = (q: { sql: string; bindings?: readonly Binding[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      svc.db.knex.on('query', listener);
      try {
        const res = await fetch(`${svc.url}/${encode(query)}`);
        const body = await res.text();
        if (!res.ok) throw new Error(`${query}: ${res.status} ${body.slice(0, 300)}`);
      } finally {
        svc.db.knex.off('query', listener);
      }
      const mine = seen.filter((s) => s.sql.includes('"Contacts"'));
      if (mine.length !== 1) throw new Error(`${query}: expected one statement over "Contacts", saw ${mine.length}`);
      out.push(mine[0]);
    }
    return out;
  } finally {
    await svc.close();
  }
}

/** `?` placeholders (outside quotes) → `$n`, as knex's pg client does. */
function positional(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sql) {
    if (quote) { if (ch === quote) quote = null; out += ch; continue; }
    if (ch === '\'' || ch === '"') { quote = ch; out += ch; continue; }
    out += ch === '?' ? `$${++n}` : ch;
  }
  return out;
}

/** A direct runner of the statement (prepared), returning its row count; `close` ends it. */
async function directRunner(engine: Engine, database: string, statement: Statement): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const db = new BetterSqlite3(database, { readonly: true });
    configureSqliteConnection(db);
    const prepared = db.prepare(statement.sql);
    return { run: async () => prepared.all(...statement.bindings).length, close: async () => { db.close(); } };
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  const text = /\$1\b/.test(statement.sql) ? statement.sql : positional(statement.sql);
  const query = { name: `apply_scale_${Math.abs(hash(text))}`, text, values: [...statement.bindings] };
  return { run: async () => (await client.query(query)).rowCount ?? 0, close: () => client.end() };
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

async function main(): Promise<void> {
  const usage = 'usage: npx tsx bench/apply-scale.ts --engine sqlite|postgres [--contacts 100000] [--runs 15] [--pg-url URL] [--sqlite-read-processes N] [--database FILE|URL] [--warmup PAIRS]';
  let engine: Engine = 'sqlite';
  let contacts = 100_000;
  let runs = 15;
  let pgUrl = DEFAULT_PG_URL;
  let existing: string | undefined;
  let warmup = WARMUP;
  /** passed to the service; unset keeps its default (production settings) */
  const serviceFlags: string[] = [];
  for (const flag of readFlags(process.argv.slice(2), usage)) {
    switch (flag.name) {
      case '--engine': {
        const v = flag.value();
        if (v !== 'sqlite' && v !== 'postgres') throw new Error(`--engine takes sqlite or postgres\n${usage}`);
        engine = v;
        break;
      }
      case '--contacts': contacts = flag.integer(1); break;
      case '--runs': runs = flag.integer(1); break;
      case '--pg-url': pgUrl = flag.value(); break;
      case '--database': existing = flag.value(); break;
      case '--warmup': warmup = flag.integer(0); break;
      case '--sqlite-read-processes': serviceFlags.push(flag.name, String(flag.integer(0))); break;
      default: throw new Error(`unknown option ${flag.name}\n${usage}`);
    }
  }

  buildService(log);
  const database: BenchDatabase = existing !== undefined
    ? { file: existing, floorFile: existing, cached: true, seedSeconds: 0, remove: () => undefined }
    : engine === 'sqlite' ? await prepareDatabase(contacts, log) : await preparePostgres(contacts, pgUrl, log);
  try {
    const statements = await captureStatements(database.file);
    const service = await startService(database.file, 1, serviceFlags);
    // the physical limit beside it: bare node:http, the floor's own GROUP BY, the same bytes (test/bench/floor-bytes)
    const floor = await startFloor(engine, database.file, await serviceModelVersion(service.root));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const floorAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const lines: string[] = [];
    try {
      for (const [i, query] of QUERIES.entries()) {
        const statement = statements[i];
        log(`${query}\n  SQL: ${statement.sql}\n  parameters: ${JSON.stringify(statement.bindings)}`);
        let groups = 0;
        let sqlRows = 0;
        /** each answer's Server-Timing header (the warm-up's first, dropped below) */
        const stages: string[] = [];
        const direct = await directRunner(engine, database.file, statement);
        let times: [number[], number[], number[]];
        let cpu: [number, number];
        try {
          ({ times, cpu } = await timedInterleaved(runs, warmup, async () => { sqlRows = await direct.run(); }, async () => {
            const { status, body, timing } = await getJson(agent, `${service.root}/${encode(query)}`);
            if (status !== 200) throw new Error(`${query}: ${status}`);
            groups = body.value?.length ?? 0;
            stages.push(timing);
          }, async () => {
            const { status } = await getJson(floorAgent, `${floor.root}/${encode(query)}`);
            if (status !== 200) throw new Error(`${query}: the floor answered ${status}`);
          }, () => service.cpuSeconds()));
        } finally {
          await direct.close();
        }
        if (sqlRows !== groups) log(`  WARNING: SQL gave ${sqlRows} rows, HTTP ${groups} groups`);
        const overhead = (sql: number, answer: number) => `${(((answer - sql) / sql) * 100).toFixed(1)} %`;
        const [sqlMs, httpMs, floorMs] = times.map(median);
        const [sqlMin, httpMin, floorMin] = times.map(minimum);
        const [sqlCpu, serviceCpu] = cpu.map((seconds) => ((seconds * 1000) / runs).toFixed(1));
        const timed = stages.slice(-runs);
        const stage = (name: string) => median(timed.map((t) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(t)?.[1] ?? NaN))).toFixed(2);
        lines.push(`| ${engine} | \`${query}\` | ${groups} | ${sqlMs.toFixed(1)} | ${httpMs.toFixed(1)} | ${overhead(sqlMs, httpMs)} | ${sqlMin.toFixed(1)} | ${httpMin.toFixed(1)} | ${overhead(sqlMin, httpMin)} | ${engine === 'sqlite' ? sqlCpu : '-'} | ${serviceCpu} | ${stage('db')} / ${stage('total')} | ${floorMs.toFixed(1)} / ${floorMin.toFixed(1)} | ${overhead(sqlMs, floorMs)} | ${(floorMs / httpMs).toFixed(2)} |`);
      }
    } finally {
      agent.destroy();
      floorAgent.destroy();
      await floor.stop();
      await service.stop();
    }
    process.stdout.write(`${contacts} contacts, ${runs} sequential runs each, SQL, service and floor in turn (after ${warmup} warm-up runs); median, and minimum (the run least disturbed by the machine's other work)\n`);
    process.stdout.write('| engine | query | groups | SQL ms | HTTP ms | overhead | SQL min ms | HTTP min ms | overhead (min) | SQL CPU ms/run | service CPU ms/req | Server-Timing db / total ms (median) | floor HTTP ms median / min | floor overhead | service / floor req/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await database.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
