/**
 * Runs the parts of a batch in order through the same handler as single requests. A change set
 * runs in one transaction (the handler gets services bound to it): the first failing member rolls
 * it back and becomes its only answer. `$<id>` references resolve to the entity an earlier part
 * created or addressed; outside change sets the batch stops at the first failure unless the client
 * asked to continue on error.
 */
import type { Knex } from 'knex';
import { gatherBody, type ApiRequest, type ApiResponse } from '../http/api-request';
import type { BatchAnswers, BatchItem, BatchPart, PartResponse, ResponseItem } from './batch-types';
import { MIN_RUN, runLengthAt, type RunHandler } from './request-runs';

export interface BatchServices {
  readonly knex: Knex;
}

export interface BatchRun<S extends BatchServices> {
  readonly services: S;
  /** the handler of single requests (injected: batch/ does not reach back into http/) */
  readonly handle: (req: ApiRequest, services: S) => Promise<ApiResponse>;
  /** takes a change set's run of same-shape requests as one unit (request-runs.ts); absent: each runs through `handle` */
  readonly handleRun?: RunHandler<S>;
  /** absolute service root URL, e.g. http://host/odata */
  readonly serviceRoot: string;
  /** headers of the batch request that every part inherits (identity) */
  readonly inherited: Readonly<Record<string, string>>;
  readonly continueOnError: boolean;
  /** the batch request's id, shared by its parts (logs) */
  readonly requestId?: string;
  /** the batch's caller: every part runs as them */
  readonly caller?: ApiRequest['caller'];
}

/** Thrown inside a change set's transaction to roll it back; carries the failing member's answer. */
class ChangeSetFailed extends Error {
  constructor(readonly response: PartResponse) {
    super('change set failed');
  }
}

/** Runs the batch and answers with every part's (or failed change set's) answer, as ResponseItems. */
export async function executeBatch<S extends BatchServices>(items: readonly BatchItem[], run: BatchRun<S>): Promise<ResponseItem[]> {
  const collected = new CollectedAnswers();
  await executeBatchInto(items, run, collected);
  return collected.items;
}

/** Runs the batch, handing each answer to `answers` as soon as it is known (a change set's members' as they run). */
export async function executeBatchInto<S extends BatchServices>(items: readonly BatchItem[], run: BatchRun<S>, answers: BatchAnswers): Promise<void> {
  const entityUrls = new Map<string, string>();
  const failed = new Set<string>();
  for (const item of items) {
    if (item.kind === 'request') {
      const response = await runPart(item.part, run, run.services, entityUrls, failed);
      answers.response(response);
      if (response.status >= 400) {
        if (item.part.id !== undefined) failed.add(item.part.id);
        if (!run.continueOnError) break;
      }
      continue;
    }
    const committed = await runChangeSet(item, run, entityUrls, failed, answers);
    if (!committed) {
      failed.add(item.id);
      for (const p of item.parts) if (p.id !== undefined) failed.add(p.id);
      if (!run.continueOnError) break;
    }
  }
}

/** Keeps the answers as ResponseItems (a caller that reads them rather than sending them on). */
class CollectedAnswers implements BatchAnswers {
  readonly items: ResponseItem[] = [];
  private open: { id: string; responses: PartResponse[] } | undefined;
  response(response: PartResponse): void {
    this.items.push({ kind: 'response', response });
  }
  openChangeSet(id: string): void {
    this.open = { id, responses: [] };
  }
  member(response: PartResponse): void {
    this.open?.responses.push(response);
  }
  closeChangeSet(): void {
    if (this.open) this.items.push({ kind: 'changeset', id: this.open.id, responses: this.open.responses });
    this.open = undefined;
  }
  dropChangeSet(): void {
    this.open = undefined;
  }
}

/** Runs a change set in one transaction; false when it was rolled back (its one answer given instead of its members'). */
async function runChangeSet<S extends BatchServices>(item: BatchItem & { kind: 'changeset' }, run: BatchRun<S>, entityUrls: Map<string, string>, failed: ReadonlySet<string>,
  answers: BatchAnswers): Promise<boolean> {
  const urls = new Map(entityUrls);
  answers.openChangeSet(item.id);
  try {
    await run.services.knex.transaction(async (trx) => {
      const services: S = Object.assign({}, run.services, { knex: trx });
      for (let i = 0; i < item.parts.length;) {
        const size = run.handleRun === undefined ? 1 : runLengthAt(item.parts, i);
        if (size >= MIN_RUN && await runAsOne(item.parts.slice(i, i + size), run.handleRun!, run, services, urls, item.id, answers)) {
          i += size;
          continue;
        }
        const response = await runPart(item.parts[i++], run, services, urls, failed);
        if (response.status >= 400) throw new ChangeSetFailed(Object.assign({}, response, { atomicityGroup: item.id }));
        answers.member(response);
      }
    });
  } catch (err) {
    answers.dropChangeSet();
    if (err instanceof ChangeSetFailed) answers.response(err.response);
    else {
      const message = err instanceof Error ? err.message : String(err);
      answers.response(errorPart(item.parts[0]?.id, 500, 'INTERNAL_ERROR', `The change set could not be committed: ${message}`, item.id));
    }
    return false;
  }
  answers.closeChangeSet();
  for (const [k, v] of urls) entityUrls.set(k, v);
  return true;
}

/**
 * Hands a run of same-shape parts to the run handler; false when it declined (nothing answered). A failed
 * part ends the run and rolls the change set back with that part's answer.
 */
async function runAsOne<S extends BatchServices>(parts: readonly BatchPart[], handleRun: RunHandler<S>, run: BatchRun<S>, services: S, entityUrls: Map<string, string>,
  group: string, answers: BatchAnswers): Promise<boolean> {
  const target = resolveUrl(parts[0].url, run.serviceRoot, entityUrls);
  if ('error' in target || target.path === '/$batch') return false;
  let answered = 0;
  let failure: PartResponse | undefined;
  const taken = await handleRun({
    shared: partRequest(parts[0], target, run),
    size: parts.length,
    body: (i) => bodyWithReferences(parts[i], entityUrls),
    answer: async (i, response) => {
      if (i !== answered) throw new Error(`a run's requests are answered in order: ${i} came where ${answered} was due`);
      answered++;
      const answer = await partAnswer(parts[i], response, target, run, entityUrls);
      if (answer.status >= 400) {
        failure = answer;
        return false;
      }
      answers.member(answer);
      return true;
    },
  }, services);
  if (failure !== undefined) throw new ChangeSetFailed(Object.assign({}, failure, { atomicityGroup: group }));
  if (taken && answered !== parts.length) throw new Error(`a run of ${parts.length} requests was answered up to ${answered}`);
  return taken;
}

async function runPart<S extends BatchServices>(part: BatchPart, run: BatchRun<S>, services: S, entityUrls: Map<string, string>, failed: ReadonlySet<string>): Promise<PartResponse> {
  const blocked = (part.dependsOn ?? []).find((d) => failed.has(d));
  if (blocked !== undefined) return errorPart(part.id, 424, 'FAILED_DEPENDENCY', `Not run: request or group "${blocked}" it depends on failed`);
  const target = resolveUrl(part.url, run.serviceRoot, entityUrls);
  if ('error' in target) return errorPart(part.id, 400, 'INVALID_BATCH', target.error);
  if (target.path === '/$batch') return errorPart(part.id, 400, 'INVALID_BATCH', 'A batch cannot contain another $batch');
  const request: ApiRequest = Object.assign(partRequest(part, target, run), bodyWithReferences(part, entityUrls));
  return partAnswer(part, await run.handle(request, services), target, run, entityUrls);
}

/** The part as a request, without its body. */
function partRequest<S extends BatchServices>(part: BatchPart, target: { path: string; query: string }, run: BatchRun<S>): ApiRequest {
  return {
    method: part.method, path: target.path, query: target.query, serviceRoot: run.serviceRoot, requestId: run.requestId, caller: run.caller,
    headers: inheritedHeaders(part.headers, run.inherited),
  };
}

/** The part's answer; a part that succeeded is what later `$<id>` references to it point at. */
async function partAnswer<S extends BatchServices>(part: BatchPart, response: ApiResponse, target: { path: string }, run: BatchRun<S>,
  entityUrls: Map<string, string>): Promise<PartResponse> {
  if (part.id !== undefined && response.status < 400) {
    const url = response.headers.Location ?? response.headers['OData-EntityId'] ?? `${run.serviceRoot}${target.path}`;
    entityUrls.set(part.id, url);
  }
  const body = response.body;
  return { id: part.id, status: response.status, headers: response.headers, body: body === undefined || typeof body === 'string' ? body : await gatherBody(body) };
}

function inheritedHeaders(own: Readonly<Record<string, string>>, inherited: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return Object.keys(inherited).length === 0 ? own : Object.assign({}, own, inherited);
}

function errorPart(id: string | undefined, status: number, code: string, message: string, atomicityGroup?: string): PartResponse {
  return {
    id, status, atomicityGroup, headers: { 'Content-Type': 'application/json;odata.metadata=minimal', 'OData-Version': '4.0' },
    body: JSON.stringify({ error: { code, message, details: [] } }),
  };
}

/** A part's URL (absolute, root-relative, service-relative or `$<id>/…`) → path below the service root and query. */
export function resolveUrl(url: string, serviceRoot: string, entityUrls: ReadonlyMap<string, string>): { path: string; query: string } | { error: string } {
  let rest = url;
  const ref = url.startsWith('$') ? /^\$([^/?]+)(.*)$/.exec(url) : null;
  if (ref && !['batch', 'metadata', 'count', 'crossjoin', 'all', 'entity', 'root', 'id'].includes(ref[1])) {
    const target = entityUrls.get(ref[1]);
    if (!target) return { error: `'${url}' refers to $${ref[1]}, which no earlier request of this change set created or addressed` };
    rest = target + ref[2];
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    if (!rest.startsWith(serviceRoot + '/') && rest !== serviceRoot) return { error: `'${url}' is not a URL of this service (${serviceRoot})` };
    rest = rest.slice(serviceRoot.length);
  } else if (rest.startsWith('/')) {
    const root = new URL(serviceRoot);
    if (!rest.startsWith(root.pathname + '/')) return { error: `'${url}' is not below the service root ${root.pathname}` };
    rest = rest.slice(root.pathname.length);
  } else {
    rest = '/' + rest;
  }
  const q = rest.indexOf('?');
  return q < 0 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** The part's body with `$<id>` references (as `@odata.bind` / `@odata.id` values) resolved to entity URLs. */
function bodyWithReferences(part: BatchPart, entityUrls: ReadonlyMap<string, string>): Pick<ApiRequest, 'body' | 'json'> {
  if (part.json !== undefined) return { json: entityUrls.size === 0 || !hasReferenceKey(part.json.value) ? part.json : { value: swapReferences(part.json.value, entityUrls) } };
  if (!part.body || entityUrls.size === 0 || !/json/i.test(part.headers['content-type'] ?? '')) return { body: part.body };
  if (!part.body.includes('"$') || !part.body.includes('@odata.')) return { body: part.body };
  let json: unknown;
  try {
    json = JSON.parse(part.body.toString('utf8'));
  } catch {
    return { body: part.body };
  }
  return { body: Buffer.from(JSON.stringify(swapReferences(json, entityUrls)), 'utf8') };
}

/** Whether a JSON value has an `@odata.bind` / `@odata.id` member anywhere (most bodies have none). */
function hasReferenceKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasReferenceKey);
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) {
    if (key.endsWith('@odata.bind') || key === '@odata.id' || hasReferenceKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** `value` with references swapped; the same object where nothing refers to an earlier part. */
function swapReferences(value: unknown, entityUrls: ReadonlyMap<string, string>): unknown {
  const swap = (v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    const m = /^\$([^/?]+)(.*)$/.exec(v);
    const target = m ? entityUrls.get(m[1]) : undefined;
    return target ? target + m![2] : v;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(walk);
      return items.some((x, i) => x !== v[i]) ? items : v;
    }
    if (typeof v !== 'object' || v === null) return v;
    let changed = false;
    const entries = Object.entries(v as Record<string, unknown>).map(([k, x]): [string, unknown] => {
      const y = k.endsWith('@odata.bind') || k === '@odata.id' ? (Array.isArray(x) ? x.map(swap) : swap(x)) : walk(x);
      if (y !== x && !(Array.isArray(x) && Array.isArray(y) && y.every((e, i) => e === x[i]))) changed = true;
      return [k, y];
    });
    return changed ? Object.fromEntries(entries) : v;
  };
  return walk(value);
}
