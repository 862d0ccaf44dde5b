/**
 * Per-request stage times for the `Server-Timing` header (W3C Server Timing) and the latency
 * metrics. One small object per request; a stage costs two `performance.now()` calls.
 *
 * Stages: `auth` (credentials and rate limit), `parse` (URL → syntax tree), `plan` (EDM-resolved plan,
 * body validation), `db` (the plan's statements, a write's transaction), `serialize` (from the last
 * stage to the answer's head: rows → JSON), `total` (the request as the HTTP adapter saw it).
 */
import { performance } from 'node:perf_hooks';

export type Stage = 'auth' | 'parse' | 'plan' | 'db';

export class StageTiming {
  readonly started = performance.now();
  /** milliseconds per stage; -1: the request never reached it */
  auth = -1;
  parse = -1;
  plan = -1;
  db = -1;
  /** when the last stage ended (the next one runs from here; serialize runs from here to the answer's head) */
  private lastEnd: number;
  private ended = false;

  constructor() {
    this.lastEnd = this.started;
  }

  /** Adds the time since `since` (a `stageStart()` value) to `stage`. */
  add(stage: Stage, since: number): void {
    this.record(stage, since);
  }

  /** Adds the time since the previous stage ended to `stage`. */
  end(stage: Stage): void {
    this.record(stage, this.lastEnd);
  }

  private record(stage: Stage, since: number): void {
    const now = performance.now();
    this[stage] = (this[stage] < 0 ? 0 : this[stage]) + (now - since);
    this.lastEnd = now;
    this.ended = true;
  }

  /** The header value at the moment the answer's head is written. */
  header(): string {
    const now = performance.now();
    let value = '';
    if (this.auth >= 0) value += `auth;dur=${ms(this.auth)}, `;
    if (this.parse >= 0) value += `parse;dur=${ms(this.parse)}, `;
    if (this.plan >= 0) value += `plan;dur=${ms(this.plan)}, `;
    if (this.db >= 0) value += `db;dur=${ms(this.db)}, `;
    if (this.ended) value += `serialize;dur=${ms(now - this.lastEnd)}, `;
    return value + `total;dur=${ms(now - this.started)}`;
  }

  /** Seconds since the request began (the latency histogram's unit). */
  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

function ms(value: number): string {
  return value.toFixed(3);
}

/** A stage's start (pass it to `StageTiming.add`). */
export function stageStart(): number {
  return performance.now();
}
