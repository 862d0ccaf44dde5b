/**
 * SQLite reads off the event loop: better-sqlite3 runs a statement synchronously, so one slow read
 * would hold up every other request. Reads outside transactions go to a few child processes, each
 * with its own connection to the same file (WAL: readers do not block the writer or each other).
 *
 * Processes rather than worker threads because a statement must be cancellable: better-sqlite3 has
 * no interrupt (and this build omits the progress callback), and a terminated worker thread only
 * stops once the native statement returns, minutes later for the worst queries. A process is
 * killed at once, with its statement, and a fresh one takes its place.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makerFor, rowObjects } from './row-objects';

export type ReadRow = Record<string, unknown>;

/** main → read process */
export interface ReadRequest {
  readonly id: number;
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

/**
 * read process → main: rows as arrays in `columns` order, as JSON text when that carries every value
 * exactly; `cpuMs`: the CPU time the statement took in the read process (the trip to it not included)
 */
export type ReadReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'json'; readonly id: number; readonly columns: readonly string[]; readonly text: string; readonly cpuMs: number }
  | { readonly kind: 'arrays'; readonly id: number; readonly columns: readonly string[]; readonly values: readonly unknown[][]; readonly cpuMs: number }
  | { readonly kind: 'error'; readonly id: number; readonly message: string; readonly code?: string };

/** A read ran past the statement time budget; its process was killed. */
export class StatementTimeoutError extends Error {
  constructor(readonly budgetMs: number) {
    super(`statement cancelled after ${budgetMs} ms`);
  }
}

/** A failure reported by SQLite in a read process, with SQLite's code (as better-sqlite3 gives it inline). */
export class ReadProcessError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

interface Job {
  readonly request: ReadRequest;
  resolve(rows: ReadRow[], cpuMs: number): void;
  reject(err: Error): void;
}

interface Reader {
  readonly child: ChildProcess;
  /** settles when the process can take statements, or has exited */
  readonly started: Promise<void>;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

export interface ReadPoolOptions {
  readonly file: string;
  readonly processes: number;
  /** 0: no limit */
  readonly statementTimeoutMs: number;
  /** a statement last measured at most this many ms runs inline even while the processes are busy (INLINE_ALWAYS_MS) */
  readonly inlineAlwaysMs: number;
}

export class ReadPool {
  readonly statementTimeoutMs: number;
  private readonly readers = new Set<Reader>();
  private readonly queue: Job[] = [];
  /** runMeasured's statements (text and parameters) → the CPU time their last run took, in ms */
  private readonly measured = new Map<string, number>();
  /** statements runMeasured ran inline (on the service's connection) so far */
  private inlineRuns = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ReadPoolOptions) {
    this.statementTimeoutMs = options.statementTimeoutMs;
    for (let i = 0; i < options.processes; i++) this.spawn();
  }

  /**
   * A read statement whose cost its shape does not bound. It runs in a read process until one run has
   * shown its cost; after that it runs `inline` (on the service's own connection, holding the event loop)
   * while its last run, wherever it ran, took at most `inlineAlwaysMs` (default INLINE_ALWAYS_MS) of CPU (less than the trip costs
   * the event loop itself), or at most `budgetMs` while no other read is running or waiting in the
   * processes (under a concurrent load their parallelism is worth more than the trip), and the service's
   * connection is free (`inline` answers undefined when a write transaction holds it: the read then goes
   * to a process rather than wait behind the writer). The trip to a read process (message out, rows
   * back as JSON, two wake-ups) costs ~0.3 ms of latency and 100-300 us of CPU on a quiet machine, more
   * than a small statement itself; past the budget its statement is killed. A read process reports
   * CPU time rather than wall time: on a loaded machine a 0.1 ms statement can take 10 ms of wall time,
   * descheduled; a first run that read its pages from disk left them in the OS cache for the next. An
   * inline run is timed by the wall clock (an upper bound of its CPU: a loaded machine sends it back to
   * a process, which measures it again). Keyed by text and parameters: the same text with other values
   * can cost anything, so a statement with new values pays the trip once.
   */
  async runMeasured(sql: string, bindings: readonly unknown[], budgetMs: number, inline: () => ReadRow[] | undefined): Promise<ReadRow[]> {
    const key = measureKey(sql, bindings);
    const last = this.measured.get(key);
    if (last !== undefined && (last <= this.options.inlineAlwaysMs || (last <= budgetMs && this.idle()))) {
      // wall time: the statement runs synchronously here, so it bounds the CPU it took from above and
      // costs no system call (process.cpuUsage() twice was ~6 % of a small read's CPU)
      const started = performance.now();
      const rows = inline();
      if (rows !== undefined) {
        this.inlineRuns++;
        this.remember(key, performance.now() - started);
        return rows;
      }
    }
    const answer = await this.timed(sql, bindings);
    this.remember(key, answer.cpuMs);
    return answer.rows;
  }

  private timed(sql: string, bindings: readonly unknown[]): Promise<{ readonly rows: ReadRow[]; readonly cpuMs: number }> {
    if (this.closed) return Promise.reject(new ReadProcessError('the database is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, sql, bindings }, resolve: (rows, cpuMs) => resolve({ rows, cpuMs }), reject });
      if (this.readers.size < this.options.processes) this.spawn();
      this.dispatch();
    });
  }

  /** no read running in a process, none waiting */
  private idle(): boolean {
    if (this.queue.length > 0) return false;
    for (const reader of this.readers) if (reader.job !== undefined) return false;
    return true;
  }

  private remember(key: string, ms: number): void {
    this.measured.delete(key);
    if (this.measured.size >= MEASURED_STATEMENTS) this.measured.delete(this.measured.keys().next().value as string);
    this.measured.set(key, ms);
  }

  /** How busy the processes are (the metrics' pool gauge); `inline`: statements runMeasured ran inline so far. */
  use(): { readonly busy: number; readonly idle: number; readonly queued: number; readonly max: number; readonly inline: number } {
    let busy = 0;
    for (const reader of this.readers) if (reader.job !== undefined) busy++;
    return { busy, idle: this.readers.size - busy, queued: this.queue.length, max: this.options.processes, inline: this.inlineRuns };
  }

  /** Resolves once every process is ready (or gone): the service listens after this. */
  async started(): Promise<void> {
    await Promise.all([...this.readers].map((reader) => reader.started));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ReadProcessError('the database is closed'));
    await Promise.all([...this.readers].map((reader) => this.stop(reader)));
  }

  private spawn(): void {
    const child = fork(READ_PROCESS_MODULE, [this.options.file], {
      serialization: 'advanced',
      execArgv: READ_PROCESS_EXEC_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settle = (): void => undefined;
    const reader: Reader = { child, ready: false, started: new Promise<void>((resolve) => { settle = resolve; }) };
    this.readers.add(reader);
    child.on('message', (reply: ReadReply) => {
      if (reply.kind === 'ready') settle();
      this.receive(reader, reply);
    });
    child.on('error', () => undefined); // 'exit' follows and settles the reader's job
    child.on('exit', () => {
      settle();
      this.exited(reader);
    });
  }

  private receive(reader: Reader, reply: ReadReply): void {
    switch (reply.kind) {
      case 'ready':
        reader.ready = true;
        break;
      case 'json': case 'arrays': case 'error': {
        const job = reader.job;
        if (job === undefined || job.request.id !== reply.id) return;
        this.finish(reader);
        if (reply.kind === 'error') job.reject(new ReadProcessError(reply.message, reply.code));
        else job.resolve(rowObjects(makerFor(reply.columns), reply.kind === 'json' ? JSON.parse(reply.text) as unknown[][] : reply.values), reply.cpuMs);
        break;
      }
    }
    this.dispatch();
  }

  private dispatch(): void {
    for (const reader of this.readers) {
      if (this.queue.length === 0) return;
      if (!reader.ready || reader.job !== undefined) continue;
      const job = this.queue.shift()!;
      reader.job = job;
      if (this.statementTimeoutMs > 0) reader.timer = setTimeout(() => this.timeOut(reader), this.statementTimeoutMs);
      reader.child.send(job.request);
    }
  }

  private timeOut(reader: Reader): void {
    const job = reader.job;
    if (job === undefined) return;
    this.finish(reader);
    this.readers.delete(reader);
    reader.child.kill('SIGKILL');
    job.reject(new StatementTimeoutError(this.statementTimeoutMs));
    if (!this.closed) this.spawn();
  }

  private exited(reader: Reader): void {
    const wasReady = reader.ready;
    reader.ready = false;
    const job = reader.job;
    this.finish(reader);
    if (!this.readers.delete(reader)) return; // killed on purpose: already replaced
    job?.reject(new ReadProcessError('the read process stopped while running the statement'));
    if (this.closed) return;
    if (!wasReady && ![...this.readers].some((r) => r.ready)) {
      // it could not even start: say so to the waiting requests rather than retrying for ever
      for (const waiting of this.queue.splice(0)) waiting.reject(new ReadProcessError('the read process could not open the database'));
      return;
    }
    this.spawn();
  }

  private finish(reader: Reader): void {
    if (reader.timer !== undefined) clearTimeout(reader.timer);
    reader.timer = undefined;
    reader.job = undefined;
  }

  private stop(reader: Reader): Promise<void> {
    this.readers.delete(reader);
    reader.job?.reject(new ReadProcessError('the database is closed'));
    this.finish(reader);
    if (reader.child.exitCode !== null || reader.child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      reader.child.once('exit', () => resolve());
      reader.child.kill('SIGKILL');
    });
  }
}

/**
 * The most CPU an aggregation's statement (runMeasured) may take to run inline, holding the event loop:
 * it answers few rows, so the trip is most of its cost beyond the scan; a grouping of 100 000 contacts
 * by one indexed column takes ~4.5 ms; the same grouping through a join ~45 ms, which stays in a read process.
 */
export const INLINE_MEASURED_MS = 10;

/**
 * The most CPU any other read's statement may take to run inline: a filtered, sorted page of 50
 * (0.1-0.3 ms) runs inline; a page of 100 full contacts (~1.5 ms, most of it building rows the read
 * process can build in parallel with the service's serializing) stays in a read process.
 */
export const INLINE_READ_MS = 1;

/**
 * A statement measured at most this much CPU runs inline even while the read processes are busy: sending
 * it to one (the request out, the rows back as JSON, a wake-up each way) costs the event loop about as
 * much, and a busy process would keep it waiting behind a slow read.
 */
export const INLINE_ALWAYS_MS = 0.25;

/** CPU milliseconds (user and system) this process used since `started` (a `process.cpuUsage()`). */
export function cpuMsSince(started: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}
/** how many measured statements are remembered (the least recently run forgotten first) */
const MEASURED_STATEMENTS = 1000;

function measureKey(sql: string, bindings: readonly unknown[]): string {
  return bindings.length === 0 ? sql : `${sql}\u0000${JSON.stringify(bindings, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
}


// From the compiled service: the .js beside this file. From the sources (tests, tsx): the .ts through tsx.
const FROM_SOURCES = path.extname(__filename) === '.ts';
const READ_PROCESS_MODULE = path.join(__dirname, `read-process${FROM_SOURCES ? '.ts' : '.js'}`);
// A read process's objects die young (rows are sent and dropped): V8 still grew its young generation
// to 2 x 16 MB under load, 45 MB of each process's 115 MB peak RSS. 2 MB semi-spaces: 73 MB, same req/s.
const YOUNG_GENERATION_FLAGS = ['--max-semi-space-size=2'];
// read-process.ts collects its garbage when it falls idle (its rows are gone by then)
const READ_PROCESS_EXEC_ARGV = [...YOUNG_GENERATION_FLAGS, '--expose-gc', ...(FROM_SOURCES ? ['--require', require.resolve('tsx/cjs')] : [])];
