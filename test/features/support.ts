/**
 * Small helpers shared by the feature tests: reading whole tables in a engine-neutral shape,
 * following @odata.nextLink, and a deterministic PRNG. Expected answers are computed from these
 * rows in plain JS, never through the service.
 */
import type { TestService } from '../helpers/service';

export type Row = Record<string, unknown>;

export const CONTACT_TYPES = ['Client', 'PastClient', 'Prospect', 'Vendor', 'Other'] as const;
export const OPPORTUNITY_STATUS = ['Open', 'Won', 'Lost', 'Inactive'] as const;

/** A DateTimeOffset as ISO 8601 UTC with milliseconds, whether the driver gave text or a Date. */
export const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));

/** Database values normalised: Date → ISO text, 0/1 booleans → boolean (for the named columns), numeric text → number. */
export function normalise(row: Row, booleans: readonly string[] = [], numbers: readonly string[] = []): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) out[k] = v.toISOString();
    else if (booleans.includes(k)) out[k] = v === null ? null : v === true || v === 1 || v === '1';
    else if (numbers.includes(k)) out[k] = v === null ? null : Number(v);
    else out[k] = v;
  }
  return out;
}

export async function tableRows(svc: TestService, table: string, booleans: readonly string[] = [], numbers: readonly string[] = []): Promise<Row[]> {
  const rows: Row[] = await svc.knex(table).select('*');
  return rows.map((r) => normalise(r, booleans, numbers));
}

/** The relative path (below the service root) of an absolute link the service returned. */
export function relative(svc: TestService, link: string): string {
  if (!link.startsWith(svc.url)) throw new Error(`${link} does not start with ${svc.url}`);
  return link.slice(svc.url.length);
}

export interface Page {
  readonly status: number;
  readonly body: { value: Row[]; '@odata.nextLink'?: string; '@odata.count'?: number | string };
  readonly headers: Headers;
}

/** Follows @odata.nextLink from `path` to the last page; returns every page. */
export async function allPages(svc: TestService, path: string, headers?: Record<string, string>, maxPages = 200): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    if (pages.length >= maxPages) throw new Error(`more than ${maxPages} pages from ${path}`);
    const res = await svc.get(next, headers);
    if (res.status !== 200) throw new Error(`${next} → ${res.status} ${res.text}`);
    const body = res.json<Page['body']>();
    pages.push({ status: res.status, body, headers: res.headers });
    next = body['@odata.nextLink'] === undefined ? undefined : relative(svc, body['@odata.nextLink']);
  }
  return pages;
}

export const idsOf = (rows: readonly Row[]): string[] => rows.map((r) => String(r.Id));
export const sortedIds = (rows: readonly Row[]): string[] => idsOf(rows).sort();

/** A deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const enc = encodeURIComponent;
