/**
 * Prepared reads: what a GET of data makes before it touches the database — the parsed URL checked
 * and authorized, the plan, the negotiated format, the writer's context and the answer's fixed headers —
 * kept for the exact request that decides all of it, so a repeated read (a client polling an entity or
 * a page, the parts of a `$batch`) goes straight to its statement. The statement compiled from the plan
 * and the row writer are kept with the plan object (sql/compiled-reads.ts, serialize/entity-writer.ts).
 *
 * What decides a prepared read, and so its key:
 * - the model version: one cache per model object (a schema change brings a new model; the old cache
 *   goes with it);
 * - the caller: user id, role, teams and token scopes (authorization, record access and `Me` depend on
 *   them): two callers never share an entry;
 * - path and query as sent, the service root (context URLs, next links), `Accept` and `Prefer` (format,
 *   `omit-values`, `odata.maxpagesize`).
 * Nothing that depends on the data is kept: rows, counts and ETags are read on every request. A request
 * whose path names an alternate key (resolved by a lookup in the data) is never kept.
 *
 * Bounded: at most MAX_ENTRIES per model (the oldest goes first), keys of at most MAX_KEY_CHARS.
 */
import type { EdmModel } from '../edm/model';
import type { Plan } from '../plan/plan';
import type { RequestUser } from '../plan/request-context';
import type { JsonFormat } from '../serialize/format';
import type { WriterContext } from '../serialize/entity-writer';
import type { ApiRequest } from './api-request';

export type ReadRequestPlan = Plan & { readonly kind: 'read' };

export interface PreparedRead {
  readonly plan: ReadRequestPlan;
  /** `/$count` and `/$value`: text/plain */
  readonly textual: boolean;
  readonly format: JsonFormat;
  readonly writer: WriterContext;
  /** the answer's Content-Type */
  readonly type: string;
  /** `Preference-Applied`, when a preference was */
  readonly applied: Readonly<Record<string, string>>;
}

export const MAX_ENTRIES = 1000;
export const MAX_KEY_CHARS = 4096;

const byModel = new WeakMap<EdmModel, Map<string, PreparedRead>>();
const callerKeys = new WeakMap<RequestUser, string>();

/** No part of the key can hold a line feed (header values and request targets cannot), so the parts never run into each other. */
function callerKeyOf(user: RequestUser): string {
  let key = callerKeys.get(user);
  if (key === undefined) {
    key = `${user.id ?? ''}\n${user.role ?? ''}\n${user.teamIds.join(',')}\n${user.scopes.join(',')}`;
    callerKeys.set(user, key);
  }
  return key;
}

/** The key of a GET or HEAD request (HEAD answers as GET does, without the body); undefined: never kept. */
export function preparedReadKey(req: ApiRequest, user: RequestUser): string | undefined {
  const { headers } = req;
  const key = `${callerKeyOf(user)}\n${req.serviceRoot}\n${headers.accept ?? ''}\n${headers.prefer ?? ''}\n${req.path}\n${req.query}`;
  return key.length <= MAX_KEY_CHARS ? key : undefined;
}

export function preparedRead(model: EdmModel, key: string): PreparedRead | undefined {
  return byModel.get(model)?.get(key);
}

export function keepPreparedRead(model: EdmModel, key: string, read: PreparedRead): void {
  let reads = byModel.get(model);
  if (reads === undefined) byModel.set(model, (reads = new Map()));
  if (reads.size >= MAX_ENTRIES && !reads.has(key)) {
    const oldest = reads.keys().next();
    if (!oldest.done) reads.delete(oldest.value);
  }
  reads.set(key, read);
}

/** How many reads are kept for a model (tests check the bound). */
export function preparedReadCount(model: EdmModel): number {
  return byModel.get(model)?.size ?? 0;
}
