/**
 * Runs of requests inside a change set that differ only in their bodies: the same method, URL and
 * headers (a client creating a thousand notes sends a thousand such POSTs). The handler may take a
 * run as one unit and do the work the requests share (parse the URL, authorize, resolve the target,
 * negotiate the answer's format) once; each request still gets its own body read and checked, its
 * own write, its own answer, and `$<id>` references to the requests answered before it.
 */
import type { ApiRequest, ApiResponse } from '../http/api-request';
import type { BatchPart } from './batch-types';

/** What a handler of runs is given. */
export interface RequestRun {
  /** what the requests share: method, path, query, headers, caller (no body) */
  readonly shared: ApiRequest;
  readonly size: number;
  /** request i's body, its `$<id>` references resolved against the requests answered before it */
  body(i: number): Pick<ApiRequest, 'body' | 'json'>;
  /** request i's answer, in order; false: stop here (it failed, and the change set is rolled back) */
  answer(i: number, response: ApiResponse): Promise<boolean>;
}

/**
 * Takes a run as one unit: true once it has answered its requests in order (up to one that failed), false
 * when it declines the run before answering any (then each request runs on its own).
 */
export type RunHandler<S> = (run: RequestRun, services: S) => Promise<boolean>;

/** Shorter runs go one request at a time: what a run saves is per request, its set-up is not free. */
export const MIN_RUN = 4;

/** How many parts from `from` on form a run (1: the part stands alone). Only POSTs to a URL of their own. */
export function runLengthAt(parts: readonly BatchPart[], from: number): number {
  const first = parts[from];
  if (!runnable(first)) return 1;
  let to = from + 1;
  while (to < parts.length && sameShape(first, parts[to])) to++;
  return to - from;
}

function runnable(part: BatchPart): boolean {
  return part.method.toUpperCase() === 'POST' && !part.url.startsWith('$') && (part.dependsOn === undefined || part.dependsOn.length === 0);
}

function sameShape(a: BatchPart, b: BatchPart): boolean {
  return b.method === a.method && b.url === a.url && (b.dependsOn === undefined || b.dependsOn.length === 0)
    && (b.json === undefined) === (a.json === undefined) && sameHeaders(a.headers, b.headers);
}

/** The same headers, but for the body's length (clients that send one per part give each body its own). */
function sameHeaders(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let count = 0;
  for (const name in a) {
    if (name === BODY_LENGTH) continue;
    if (a[name] !== b[name]) return false;
    count++;
  }
  let others = 0;
  for (const name in b) if (name !== BODY_LENGTH) others++;
  return others === count;
}

const BODY_LENGTH = 'content-length';
