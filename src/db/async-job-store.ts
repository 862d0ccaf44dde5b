/**
 * Asynchronous requests and their results, kept in the database (table odata_async_jobs) so that
 * every process on the same database answers a status monitor. A running job is owned by the
 * process that runs it, which refreshes `heartbeat_at` while it works; a running job whose heartbeat
 * has stopped belonged to a process that died and is turned into a failed result (see README).
 */
import type { Knex } from 'knex';
import { ASYNC_JOBS_TABLE } from '../../migrations/20261204000002_async_jobs';

export interface FinishedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer | undefined;
}

export interface RequestSummary {
  readonly method: string;
  readonly url: string;
  /** the caller's user id (only they can read the monitor); null when anonymous */
  readonly requestedBy: string | null;
}

export type StoredJob =
  | { readonly state: 'running'; readonly id: string; readonly request: RequestSummary; readonly owner: string; readonly heartbeatAt: number }
  | { readonly state: 'done'; readonly id: string; readonly request: RequestSummary; readonly expiresAt: number; readonly response: FinishedResponse };

interface JobRow {
  id: string;
  state: string;
  request_method: string;
  request_url: string;
  requested_by: string | null;
  owner: string;
  heartbeat_at: number | string;
  expires_at: number | string | null;
  response_status: number | null;
  response_headers: string | null;
  response_body: Buffer | null;
}

/** Longest request URL kept in the summary (the job needs only enough to be recognised). */
const MAX_SUMMARY_URL = 2000;

export class AsyncJobStore {
  constructor(private readonly knex: Knex) {}

  async create(id: string, request: RequestSummary, owner: string, now: number): Promise<void> {
    await this.knex(ASYNC_JOBS_TABLE).insert({
      id, state: 'running', request_method: request.method.slice(0, 16), request_url: request.url.slice(0, MAX_SUMMARY_URL), requested_by: request.requestedBy,
      owner, created_at: now, heartbeat_at: now,
    });
  }

  /** Stores the result of a job that is still running; false when it is gone (cancelled, or expired). */
  async finish(id: string, response: FinishedResponse, now: number, expiresAt: number, onlyIfRunning = true): Promise<boolean> {
    const query = this.knex(ASYNC_JOBS_TABLE).where({ id });
    if (onlyIfRunning) query.andWhere({ state: 'running' });
    const changed = await query.update({
      state: 'done', finished_at: now, expires_at: expiresAt,
      response_status: response.status, response_headers: JSON.stringify(response.headers),
      response_body: response.body === undefined ? null : Buffer.from(response.body),
    });
    return changed > 0;
  }

  async get(id: string): Promise<StoredJob | undefined> {
    const row = await this.knex<JobRow>(ASYNC_JOBS_TABLE).where({ id }).first();
    return row ? jobOf(row) : undefined;
  }

  async remove(id: string): Promise<void> {
    await this.knex(ASYNC_JOBS_TABLE).where({ id }).delete();
  }

  /** Marks the running jobs of one process as alive. */
  async heartbeat(owner: string, now: number): Promise<void> {
    await this.knex(ASYNC_JOBS_TABLE).where({ owner, state: 'running' }).update({ heartbeat_at: now });
  }

  /** Deletes expired results, and running jobs whose process stopped longer ago than `abandonedBefore`. */
  async purge(now: number, abandonedBefore: number): Promise<number> {
    return this.knex(ASYNC_JOBS_TABLE)
      .where((q) => q.where('state', 'done').andWhere('expires_at', '<=', now))
      .orWhere((q) => q.where('state', 'running').andWhere('heartbeat_at', '<', abandonedBefore))
      .delete();
  }
}

function jobOf(row: JobRow): StoredJob {
  const request: RequestSummary = { method: row.request_method, url: row.request_url, requestedBy: row.requested_by };
  if (row.state === 'running') return { state: 'running', id: row.id, request, owner: row.owner, heartbeatAt: Number(row.heartbeat_at) };
  const headers: unknown = JSON.parse(row.response_headers ?? '{}');
  return {
    state: 'done', id: row.id, request, expiresAt: Number(row.expires_at),
    response: {
      status: row.response_status ?? 500,
      headers: isStringRecord(headers) ? headers : {},
      body: row.response_body === null ? undefined : Buffer.from(row.response_body),
    },
  };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
