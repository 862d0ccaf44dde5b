/**
 * SQLite: which reads run on the service's own connection instead of a read process. The trip to a
 * read process (message out, structured clone of the rows back) costs about 1 ms of latency and
 * roughly halves the throughput of a small read (bench/README.md); a statement whose work its shape
 * bounds costs less than that trip and cannot stall the event loop for long, so it runs inline:
 *
 * - a key lookup: `Contacts(<key>)` or one of its properties (one index probe);
 * - a page in key order with nothing but the key to filter on (`Contacts?$top=50`, and its next pages
 *   through `$skiptoken`): it reads the page's rows and stops; at most INLINE_PAGE_ROWS rows, no
 *   `$skip` or `$count`, and no record-access predicate on the table (rows the caller may not see
 *   would be read and skipped, without bound);
 * - either of them with single-valued expansions through a foreign key of the row
 *   (`Opportunities?$top=20&$expand=Stage($expand=Process)`): each level is one probe of the target's
 *   key per row of the level above, so the work stays bounded by the page (no `$filter` inside, no
 *   record-access predicate on the target: a hidden target is then simply absent, not searched for);
 * - `/$count` without `$filter`, `$search` or a record-access predicate, on a table whose last such
 *   count was at most INLINE_COUNT_ROWS rows (SQLite counts through its smallest index: ~0.5 ms per
 *   100 000 rows). The first count of a table, and every count of a larger one, goes to a read process.
 *
 * Everything else (filters, sorts on other columns, expands, aggregation) goes to a read process,
 * where a statement past its time budget can be killed, until a run has measured it cheap: the same
 * statement with the same values then runs inline while no other read is waiting and the connection is
 * free (db/read-pool.ts, runMeasured; INLINE_READ_MS, an aggregation INLINE_MEASURED_MS).
 */
import type { RecordAccess } from '../auth/access';
import type { ExpandPlan, Plan, PlanExpr, ReadPlan } from '../plan/plan';

type ReadRequestPlan = Plan & { kind: 'read' };

export const INLINE_PAGE_ROWS = 100;
export const INLINE_COUNT_ROWS = 100_000;

/** rows counted per table, per read pool (so per database), by the last count without a filter */
const countedRows = new WeakMap<object, Map<string, number>>();

export function runsInline(plan: ReadRequestPlan, access: RecordAccess, pool: object): boolean {
  switch (plan.shape.kind) {
    case 'entity': case 'property': return isKeyLookup(plan, access);
    case 'collection': return isKeyOrderPage(plan.read, access);
    case 'count': {
      if (!isWholeTable(plan.read, access)) return false;
      const known = countedRows.get(pool)?.get(plan.read.table);
      return known !== undefined && known <= INLINE_COUNT_ROWS;
    }
    case 'references': return false;
  }
}

/** Remembers the size of a table after a count that covered all of it (see runsInline). */
export function noteCount(plan: ReadRequestPlan, access: RecordAccess, pool: object, rows: number): void {
  if (plan.shape.kind !== 'count' || !isWholeTable(plan.read, access)) return;
  let tables = countedRows.get(pool);
  if (tables === undefined) countedRows.set(pool, (tables = new Map()));
  tables.set(plan.read.table, rows);
}

/** `Contacts(<key>)` or one of its properties: one row found through the primary key. */
function isKeyLookup(plan: ReadRequestPlan, access: RecordAccess): boolean {
  const { where, expand } = plan.read;
  if (where.length !== 1 || !plain(plan.read) || !expand.every((e) => isKeyProbe(e, access))) return false;
  const only = where[0];
  return only.kind === 'compare' && only.op === 'eq' && only.right.kind === 'literal' && isKeyColumn(only.left, plan.read);
}

function isKeyOrderPage(read: ReadPlan, access: RecordAccess): boolean {
  const limit = Math.min(read.top ?? Infinity, read.pageSize ?? Infinity);
  return isWholeTable(read, access) && limit <= INLINE_PAGE_ROWS && read.skip === undefined && !read.count
    && read.orderby.length === 1 && isKeyColumn(read.orderby[0].expr, read) && read.expand.every((e) => isKeyProbe(e, access));
}

/**
 * A single-valued expansion whose statement finds at most one target row per parent through the
 * target's primary key (`WHERE "Id" IN (<the parents' foreign keys>)`), and whose own expansions do too.
 */
function isKeyProbe(e: ExpandPlan, access: RecordAccess): boolean {
  const { read } = e;
  return !e.collection && e.storage.kind === 'foreign-key' && !e.countOnly && !read.count && read.where.length === 0
    && plain(read) && !access.has(read.table) && read.entityType.key.length === 1 && read.expand.every((child) => isKeyProbe(child, access));
}

/** no filter, no aggregation, no access predicate on the table: what is read is bounded by the table alone */
function isWholeTable(read: ReadPlan, access: RecordAccess): boolean {
  return read.where.length === 0 && plain(read) && !access.has(read.table);
}

/** not `$apply`/`$compute` (rows from a derived relation, or values beyond the table's columns) */
function plain(read: ReadPlan): boolean {
  const derived = read as ReadPlan & { readonly source?: unknown; readonly aggregated?: boolean; readonly dynamic?: readonly unknown[] };
  return derived.source === undefined && derived.aggregated !== true && (derived.dynamic === undefined || derived.dynamic.length === 0);
}

function isKeyColumn(expr: PlanExpr, read: ReadPlan): boolean {
  return expr.kind === 'column' && expr.scope === read.scope && expr.joins.length === 0 && read.entityType.key.length === 1 && expr.column === read.entityType.key[0];
}
