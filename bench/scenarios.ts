/**
 * The benchmark scenarios: one request each (paths relative to the service root), how to compare the
 * service's answer with the floor's, and the target. Scenarios the service does not implement yet
 * carry `pending`: the runner probes them and reports "skipped: <pending>" until the service answers
 * 2xx, so they start being measured without changes here.
 */
import type { ScenarioParams } from './database';

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Relative to the service root, already URL-encoded. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * How the service's body is checked against the floor's before timing (verify.ts): `bytes` the same bytes;
 * `multipart` the same bytes once the random boundary is replaced; `write` the same bytes once the keys
 * (UUIDs) and timestamps the two servers generate are replaced; `none` service only.
 */
export type Compare = 'bytes' | 'multipart' | 'write' | 'none';

export interface ScenarioContext {
  readonly params: ScenarioParams;
  /** The service root (to resolve requests that depend on the service's answers, like next links). */
  readonly serviceRoot: string;
}

export interface Scenario {
  readonly name: string;
  /** --scenarios selects a scenario by its name or by this (page_first runs as part of page_deep). */
  readonly partOf?: readonly string[];
  /** Older names --scenarios still accepts (by_key is by_key_middle). */
  readonly aliases?: readonly string[];
  readonly description: string;
  readonly compare: Compare;
  /** Whether the raw floor answers it. */
  readonly floor: boolean;
  /** Scenarios with a floor: minimum service/floor req/s (median over the rounds). */
  readonly targetRatio?: number;
  /** Engines the scenario runs on (default both). */
  readonly engines?: readonly ('sqlite' | 'postgres')[];
  /** Why the service may not answer yet; the scenario is skipped while the service refuses it. */
  readonly pending?: string;
  /** Runs only on request (e.g. export_1m at --contacts 1000000); handled by its own runner. */
  readonly special?: 'export' | 'under-load';
  request(ctx: ScenarioContext): RequestSpec | Promise<RequestSpec>;
}

export const READ_TARGET = 0.5;
/** The 1000-insert change set may take at most 1.5× the floor's time: service/floor req/s ≥ 1/1.5. */
export const WRITE_TARGET = 1 / 1.5;
/** page_deep: deep-page latency over first-page latency. */
export const PAGE_DEEP_TARGET = 2;
/** page_deep benchmarks the page starting at this row. */
export const DEEP_ROW = 5000;
export const PAGE_SIZE = 100;

const get = (path: string): RequestSpec => ({ method: 'GET', path: encodeURI(path) });

/** bench/apply-scale.ts (issue 16: a Group By over all contacts in the time its SQL takes + 20 %); the floor answers both. */
export const APPLY_SCALE_QUERIES = [
  'Contacts?$apply=groupby((Company/Industry),aggregate($count as N))',
  'Contacts?$apply=groupby((BusinessAddress/State),aggregate($count as N))',
] as const;

/** One of those as a path below the service root, its `$apply` percent-encoded. */
export function applyQueryPath(query: string): string {
  const [set, apply] = query.split('?$apply=');
  return `${set}?$apply=${encodeURIComponent(apply)}`;
}

/** OData string literal inside a URL: quotes doubled, then percent-encoded. */
function literal(value: string): string {
  return `'${encodeURIComponent(value.replace(/'/g, "''"))}'`;
}

function relative(root: string, url: string): string {
  if (!url.startsWith(root + '/')) throw new Error(`next link ${url} is not under ${root}`);
  return url.slice(root.length + 1);
}

/** Follows @odata.nextLink from the first page until the page that starts at `row`; returns its relative URL. */
export async function resolvePage(root: string, first: string, row: number): Promise<string> {
  let path = first;
  for (let at = 0; at < row; at += PAGE_SIZE) {
    const res = await fetch(`${root}/${path}`);
    const body = (await res.json()) as { value?: unknown[]; '@odata.nextLink'?: string };
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    if (body.value?.length !== PAGE_SIZE) throw new Error(`GET ${path}: expected the default page size ${PAGE_SIZE}, got ${body.value?.length} rows`);
    const next = body['@odata.nextLink'];
    if (!next) throw new Error(`GET ${path}: no @odata.nextLink before row ${row}`);
    path = relative(root, next);
  }
  return path;
}

/** A multipart/mixed $batch of GET requests (OData 4.01 Protocol §11.7.2), relative URLs. */
function multipartBatch(urls: readonly string[]): RequestSpec {
  const boundary = 'batch_bench';
  const parts = urls.map((url, i) => `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: ${i + 1}\r\n\r\n`
    + `GET ${url} HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n`);
  return { method: 'POST', path: '$batch', headers: { 'content-type': `multipart/mixed;boundary=${boundary}` }, body: `${parts.join('')}--${boundary}--\r\n` };
}

function jsonBatch(requests: readonly object[]): RequestSpec {
  return { method: 'POST', path: '$batch', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ requests }) };
}

function changeset(size: number): RequestSpec {
  return jsonBatch(Array.from({ length: size }, (_, i) => ({
    id: String(i + 1), atomicityGroup: 'g1', method: 'POST', url: 'Notes',
    headers: { 'content-type': 'application/json' }, body: { Text: `bench note ${i + 1}`, IsPrivate: false },
  })));
}

const FIRST_PAGE = 'Contacts?$orderby=LastName';

/**
 * by_key_under_load's heavy read: contacts named B… that share a group with someone whose first name is
 * their last name. It matches none, so every candidate is checked (1.6 s at 20 000 contacts on SQLite).
 */
export const HEAVY_READ = get("Contacts/$count?$filter=startswith(LastName,'B') and Groups/any(g:g/Contacts/any(c:c/FirstName eq $it/LastName))");

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'by_key_first', description: 'the first contact in key order, by key', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: ({ params }) => get(`Contacts(${params.firstContactId})`),
  },
  {
    name: 'by_key_middle', aliases: ['by_key'], description: 'the contact in the middle of the key order, by key', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: ({ params }) => get(`Contacts(${params.contactId})`),
  },
  {
    name: 'list_top50', description: '50 full contacts', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get('Contacts?$top=50'),
  },
  {
    name: 'filter_order', description: 'startswith + complex property filter, 2-key order, $select', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get("Contacts?$filter=startswith(LastName,'S') and BusinessAddress/State eq 'CA'&$orderby=LastName,FirstName&$top=50&$select=Id,FullName,EmailAddress"),
  },
  {
    name: 'expand_2lvl', description: 'opportunities with Stage and its Process', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get('Opportunities?$top=20&$select=Id,Name,Amount&$expand=Stage($select=Name;$expand=Process($select=Name))'),
  },
  {
    name: 'expand_collection', description: 'companies with their first 5 contacts', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get('Companies?$top=20&$select=Id,Name&$expand=Contacts($select=FullName;$top=5)'),
  },
  {
    name: 'count', description: 'Contacts/$count', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get('Contacts/$count'),
  },
  {
    name: 'any_lambda', description: 'contacts in a group (any over a link table)', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: ({ params }) => ({ method: 'GET', path: `Contacts?$filter=Groups/any(g:g/Name%20eq%20${literal(params.groupName)})&$top=50&$select=Id,FullName` }),
  },
  {
    name: 'any_groups', description: 'contacts in the seeded dynamic group (static links plus Criteria matches)', compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get("Contacts?$filter=Groups/any(g:g/Name eq 'California Contacts')&$top=50"),
  },
  {
    name: 'nested_lambda', description: 'any inside any reading the outer variable (issue 13: was 92-201 s at 2 000 contacts)', compare: 'none', floor: false,
    request: () => get('Contacts?$filter=Activities/any(x:$it/Notes/any(y:x/Recurrence/Interval mul 6 ge 6))&$top=31&$select=Id,FullName'),
  },
  {
    name: 'page_first', partOf: ['page_deep', 'page_deep_skip'], description: `first page of ${FIRST_PAGE}`, compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: () => get(FIRST_PAGE),
  },
  {
    name: 'page_deep', description: `the page starting at row ${DEEP_ROW} (next links from ${FIRST_PAGE})`, compare: 'bytes', floor: true, targetRatio: READ_TARGET,
    request: async ({ serviceRoot }) => ({ method: 'GET', path: await resolvePage(serviceRoot, encodeURI(FIRST_PAGE), DEEP_ROW) }),
  },
  {
    name: 'page_deep_skip', description: `100 contacts from row ${DEEP_ROW} by LastName through $skip (clients paging without next links)`, compare: 'bytes', floor: true,
    targetRatio: READ_TARGET, request: () => get(`Contacts?$orderby=LastName&$skip=${DEEP_ROW}&$top=${PAGE_SIZE}`),
  },
  {
    name: 'apply_groupby', description: 'opportunities grouped by stage: sum of Amount and count (floor: GROUP BY)', compare: 'bytes', floor: true,
    targetRatio: READ_TARGET, pending: '$apply is being built',
    request: () => get('Opportunities?$apply=groupby((StageId),aggregate(Amount with sum as Total,$count as Count))'),
  },
  {
    name: 'apply_nav_groupby', description: 'contacts counted by Company/Industry (floor: LEFT JOIN + GROUP BY)', compare: 'bytes', floor: true,
    targetRatio: READ_TARGET, pending: '$apply is being built',
    request: () => get('Contacts?$apply=groupby((Company/Industry),aggregate($count as Count))'),
  },
  {
    name: 'batch_read_10', description: 'multipart $batch of 10 reads (5 by key, 5 lists of 10; floor: one transaction)', compare: 'multipart', floor: true,
    targetRatio: READ_TARGET,
    request: ({ params }) => multipartBatch(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `Contacts(${params.contactId})` : 'Contacts?$top=10&$select=Id,FullName'))),
  },
  {
    name: 'batch_write_changeset_100', description: '$batch: one change set creating 100 notes', compare: 'write', floor: true,
    request: () => changeset(100),
  },
  {
    name: 'batch_write_changeset_1000', description: '$batch: one change set creating 1000 notes (floor: one better-sqlite3 transaction)',
    compare: 'write', floor: true, targetRatio: WRITE_TARGET, request: () => changeset(1000),
  },
  {
    name: 'by_key_under_load', description: 'by-key latency alone and while a heavy read runs, SQLite reads in the service process vs in read processes',
    compare: 'none', floor: false, special: 'under-load', engines: ['sqlite'],
    request: ({ params }) => get(`Contacts(${params.contactId})`),
  },
  {
    name: 'export_1m', description: 'read all Contacts through next links (rows/s, peak RSS)', compare: 'none', floor: true, special: 'export',
    request: () => get('Contacts'),
  },
];

export function selectScenarios(names: readonly string[] | undefined): Scenario[] {
  if (!names) return [...SCENARIOS];
  const known = new Set(SCENARIOS.flatMap((s) => [s.name, ...s.aliases ?? []]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => [s.name, ...s.aliases ?? []].some((n) => names.includes(n)) || (s.partOf ?? []).some((n) => names.includes(n)));
}

/** The model version the service writes into its $skiptoken (the floor must write the same), read from a next link. */
export async function serviceModelVersion(root: string): Promise<string> {
  const res = await fetch(`${root}/${encodeURI(FIRST_PAGE)}`);
  const body = (await res.json()) as { '@odata.nextLink'?: string };
  const token = /\$skiptoken=([^&]+)/.exec(body['@odata.nextLink'] ?? '')?.[1];
  if (!token) throw new Error(`GET ${FIRST_PAGE}: no next link with a $skiptoken (status ${res.status})`);
  const decoded = JSON.parse(Buffer.from(decodeURIComponent(token), 'base64url').toString('utf8')) as { m?: unknown };
  if (typeof decoded.m !== 'string') throw new Error(`the service's $skiptoken has no model version: ${JSON.stringify(decoded)}`);
  return decoded.m;
}
