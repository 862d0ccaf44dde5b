/**
 * Runs asynchronous requests (`Prefer: respond-async`) detached from the HTTP request that started
 * them, so the work finishes even when the client goes away, and keeps their state and results in
 * the database (AsyncJobStore), so a status monitor can be read from any process. This process
 * refreshes the heartbeat of the jobs it runs; one whose heartbeat stopped for `staleMs` belonged to
 * a process that died (or lost its database) and is answered as a failed result.
 */
import { randomUUID } from 'node:crypto';
import type { AsyncJobStore, FinishedResponse, RequestSummary } from '../db/async-job-store';

export type { FinishedResponse, RequestSummary } from '../db/async-job-store';

export interface AsyncJobTimings {
  /** how long a finished result can be read */
  readonly resultMs: number;
  /** how often a running job's heartbeat is refreshed */
  readonly heartbeatMs: number;
  /** a running job whose heartbeat is older than this is taken as abandoned */
  readonly staleMs: number;
  /**
   * expired results are deleted at most this often, when a job starts (a write already); reading a
   * monitor stays a read, except that the one expired result read is deleted
   */
  readonly purgeEveryMs: number;
}

export const DEFAULT_TIMINGS: AsyncJobTimings = { resultMs: 60 * 60 * 1000, heartbeatMs: 5000, staleMs: 30_000, purgeEveryMs: 60_000 };

export type JobStatus =
  | { readonly state: 'missing' }
  | { readonly state: 'running'; readonly request: RequestSummary }
  | { readonly state: 'done'; readonly request: RequestSummary; readonly response: FinishedResponse };

export class AsyncJobs {
  /** this process's name in the `owner` column: a new one at every start, so a restart never adopts old jobs */
  readonly owner = randomUUID();
  private readonly running = new Set<string>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastPurge = 0;

  constructor(private readonly store: AsyncJobStore, readonly timings: AsyncJobTimings = DEFAULT_TIMINGS) {}

  /** Records the job, then starts `work` detached from any request; resolves with the job id once the job can be monitored. */
  async start(request: RequestSummary, work: () => Promise<FinishedResponse>, onError: (err: unknown) => FinishedResponse): Promise<string> {
    const id = randomUUID();
    await this.store.create(id, request, this.owner, Date.now());
    this.running.add(id);
    this.keepHeartbeat();
    void this.purgeNowAndThen();
    void work().catch(onError).then(async (response) => {
      const now = Date.now();
      try {
        await this.store.finish(id, response, now, now + this.timings.resultMs);
      } catch {
        // the result could not be stored: the job's heartbeat stops with it, so it is reported as abandoned
      } finally {
        this.running.delete(id);
        this.keepHeartbeat();
      }
    });
    return id;
  }

  /** The job's state; an expired result is deleted and reported missing, an abandoned one gets `abandoned` as its result. */
  async status(id: string, abandoned: () => FinishedResponse): Promise<JobStatus> {
    const job = await this.store.get(id);
    const now = Date.now();
    if (!job) return { state: 'missing' };
    if (job.state === 'done') {
      if (job.expiresAt > now) return { state: 'done', request: job.request, response: job.response };
      await this.store.remove(id);
      return { state: 'missing' };
    }
    if (this.running.has(id) || job.heartbeatAt >= now - this.timings.staleMs) return { state: 'running', request: job.request };
    const response = abandoned();
    // Another process may settle it at the same moment: whichever result was stored is the answer.
    await this.store.finish(id, response, now, now + this.timings.resultMs);
    return this.status(id, abandoned);
  }

  async forget(id: string): Promise<void> {
    await this.store.remove(id);
  }

  /** Resolves when every job this process runs has finished (for an orderly shutdown). */
  async drain(pollMs = 20): Promise<void> {
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, pollMs));
    this.keepHeartbeat();
  }

  private keepHeartbeat(): void {
    if (this.running.size > 0 && this.heartbeatTimer === undefined) {
      this.heartbeatTimer = setInterval(() => {
        this.store.heartbeat(this.owner, Date.now()).catch(() => {
          // a missed beat is repeated at the next interval; staleMs allows several
        });
      }, this.timings.heartbeatMs);
      this.heartbeatTimer.unref();
    } else if (this.running.size === 0 && this.heartbeatTimer !== undefined) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
    }
  }

  private async purgeNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < this.timings.purgeEveryMs) return;
    this.lastPurge = now;
    try {
      await this.store.purge(now, now - this.timings.staleMs - this.timings.resultMs);
    } catch {
      // tried again at the next start or read after purgeEveryMs
    }
  }
}
