/**
 * Child processes under test: the OData service (compiled, `node dist/src/main.js`) and the bare floor
 * (bench/floor/server.ts through tsx). Waits for readiness, samples resident memory from /proc, stops
 * them with SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../src/runtime-flags';

const ROOT = path.resolve(__dirname, '..');
const READY_TIMEOUT_MS = 60_000;

export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  /** Service root, e.g. http://127.0.0.1:41234/odata */
  readonly root: string;
  /** Resident set size now, in bytes, summed over the process and its children (cluster workers). */
  rss(): number;
  /** Peak resident set size (VmHWM) so far, summed likewise. */
  peakRss(): number;
  /**
   * The top process's RSS plus the private memory (USS: Private_Clean + Private_Dirty) of its children
   * now: the pages the children share with it (the node binary and libraries, ~44 MB per read
   * process) counted once, as they are resident once. (PSS would also split those pages with every
   * other node process on the machine, and so depend on what else runs.)
   */
  ownMemory(): number;
  /** Resident set size of the top process alone (the service without its read processes). */
  mainRss(): number;
  /** CPU time (user + system) used so far, in seconds, summed likewise: unlike req/s, it holds when other load shares the cores. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Compiles the service to dist/ (production-like: plain node, no transpiler at run time). */
export function buildService(warn: (line: string) => void): void {
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  const before = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  const result = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status === 0) return;
  // tsc still emits on type errors (e.g. another engineer's work in progress); run that, but say so.
  const emitted = fs.existsSync(main) && fs.statSync(main).mtimeMs > before;
  if (!emitted) throw new Error(`tsc -p tsconfig.build.json failed:\n${result.stdout}${result.stderr}`);
  warn(`WARNING: tsc reported type errors; benchmarking the emitted JavaScript anyway:\n${result.stdout.trim()}`);
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Private_Clean + Private_Dirty from /proc/<pid>/smaps_rollup (Linux 4.14+), bytes; the process's RSS where that is missing. */
function privateBytes(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const clean = /^Private_Clean:\s+(\d+) kB/m.exec(text);
    const dirty = /^Private_Dirty:\s+(\d+) kB/m.exec(text);
    if (clean && dirty) return (Number(clean[1]) + Number(dirty[1])) * 1024;
  } catch {
    // no smaps_rollup: fall back to RSS
  }
  return statusField(pid, 'VmRSS');
}

const CLOCK_TICKS_PER_SECOND = 100;

function cpuTicks(pid: number): number {
  try {
    // fields after the parenthesised command name (which may hold spaces): utime and stime are the 12th and 13th
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0;
  }
}

function processTree(pid: number): number[] {
  const out = [pid];
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    for (const c of children.split(/\s+/).filter((x) => x !== '')) out.push(...processTree(Number(c)));
  } catch {
    // the process is gone or /proc is not Linux's
  }
  return out;
}

async function waitReady(root: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const res = await fetch(`${root}/`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${root} not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output()}`);
}

async function startChild(name: string, args: readonly string[], port: number, env: Readonly<Record<string, string>> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, NODE_ENV: 'production' } });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);
  const root = `http://127.0.0.1:${port}/odata`;
  try {
    await waitReady(root, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const sum = (field: 'VmRSS' | 'VmHWM') => processTree(pid).reduce((n, p) => n + statusField(p, field), 0);
  return {
    name, pid, root,
    rss: () => sum('VmRSS'),
    peakRss: () => sum('VmHWM'),
    ownMemory: () => statusField(pid, 'VmRSS') + processTree(pid).slice(1).reduce((n, p) => n + privateBytes(p), 0),
    mainRss: () => statusField(pid, 'VmRSS'),
    cpuSeconds: () => processTree(pid).reduce((n, p) => n + cpuTicks(p), 0) / CLOCK_TICKS_PER_SECOND,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      // 30 s: a process under --cpu-prof writes its profile while exiting
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/**
 * The service in production settings: warn-level logging (no per-request lines), no seeding; no rate limit
 * and no sign-in unless `settings` turn them on (the floor has neither; later flags win, so `--auth on` does);
 * `env` adds environment settings that have no flag (ODATA_ADMIN_PASSWORD).
 */
export async function startService(database: string, workers = 1, settings: readonly string[] = [], env: Readonly<Record<string, string>> = {},
  name = workers > 1 ? `service x${workers}` : 'service', nodeOptions: readonly string[] = []): Promise<ChildServer> {
  const port = await freePort();
  // the V8 settings `npm start` gives the service (src/runtime-flags.ts)
  const args = [...SERVICE_NODE_FLAGS, ...nodeOptions, path.join(ROOT, 'dist', 'src', 'main.js'), '--database', database, '--port', String(port), '--host', '127.0.0.1',
    '--log-level', 'warn', '--seed-contacts', '0', '--workers', String(workers), '--rate-limit', 'off', '--auth', 'off', ...settings];
  return startChild(name, args, port, env);
}

export type Engine = 'sqlite' | 'postgres';

/** The bare node:http floor (bench/floor/server.ts) on a SQLite file or a PostgreSQL URL. */
export async function startFloor(engine: Engine, database: string, modelVersion: string): Promise<ChildServer> {
  const port = await freePort();
  const args = ['-r', 'tsx/cjs', path.join(ROOT, 'bench', 'floor', 'server.ts'), '--engine', engine, '--database', database, '--port', String(port),
    '--model-version', modelVersion];
  return startChild('floor', args, port);
}
