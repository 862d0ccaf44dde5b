/**
 * Batches run asynchronously (`Prefer: respond-async`): the work is detached from the request, so
 * it finishes even when the client goes away; the status monitor reads its result here. Results
 * are kept in this process for a while after they finish (see README: one process's memory).
 */
import { randomUUID } from 'node:crypto';

export interface FinishedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

type Job = { state: 'running'; started: number } | { state: 'done'; finished: number; response: FinishedResponse };

export class AsyncJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly keepMs: number = 60 * 60 * 1000, private readonly maxJobs: number = 1000) {}

  /** Starts `work` detached from any request; returns the job id. */
  start(work: () => Promise<FinishedResponse>, onError: (err: unknown) => FinishedResponse): string {
    this.prune();
    const id = randomUUID();
    this.jobs.set(id, { state: 'running', started: Date.now() });
    void work().catch(onError).then((response) => {
      this.jobs.set(id, { state: 'done', finished: Date.now(), response });
    });
    return id;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Resolves when every running job has finished (for an orderly shutdown). */
  async drain(pollMs = 20): Promise<void> {
    while ([...this.jobs.values()].some((j) => j.state === 'running')) await new Promise((r) => setTimeout(r, pollMs));
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, job] of this.jobs) if (job.state === 'done' && now - job.finished > this.keepMs) this.jobs.delete(id);
    while (this.jobs.size >= this.maxJobs) {
      const oldestDone = [...this.jobs].find(([, j]) => j.state === 'done');
      if (!oldestDone) break;
      this.jobs.delete(oldestDone[0]);
    }
  }
}
