/**
 * A page deep in an ordering reached with `$skip` (`Contacts?$orderby=LastName&$skip=5000&$top=100`:
 * clients paging without next links). `LIMIT … OFFSET 5000` makes SQLite read every skipped row whole
 * before it throws it away (20 ms for that page against 1 ms for the first). Where the dialect says
 * so, the page's keys are found first by a subquery that reads only what the order and the conditions
 * need, which an index covers when one serves the order (`ix_Contacts_LastName_FirstName_Id`:
 * `SCAN … USING COVERING INDEX`), and only the page's rows are read whole:
 *
 *   SELECT <columns> FROM "Contacts" AS "s0"
 *   WHERE "s0"."Id" IN (SELECT "s0"."Id" FROM "Contacts" AS "s0" <joins> WHERE <$filter, record access>
 *                       ORDER BY <order> LIMIT 101 OFFSET 5000)
 *   ORDER BY <order>
 *
 * The subquery keeps every condition (the `$filter`, the `$skiptoken` keyset, the caller's record
 * access), so the outer query reads exactly the rows the plain statement would, in the same order.
 */
import type { ReadPlan } from '../plan/plan';
import { keyPartsOf } from '../plan/keys';
import type { Dialect } from './dialect/dialect';
import { id, rowCount, sql, type Fragment } from './fragment';

/** Skipping fewer rows than this costs less than the extra key lookups of the page (measured: 500 rows ≈ even). */
export const DEEP_SKIP_ROWS = 500;

/** Whether the page is found by its keys first: a deep `$skip` on a table of its own (not `$apply`) with a single-column key. */
export function skipsByKey(plan: ReadPlan, dialect: Dialect, offset: number | undefined): offset is number {
  return offset !== undefined && offset >= DEEP_SKIP_ROWS && dialect.deepSkipByKey && plan.source === undefined
    && plan.aggregated !== true && plan.entityType.key.length === 1;
}

export interface DeepSkipParts {
  /** the select list of the page */
  readonly select: Fragment;
  /** FROM of the page: the table under the plan's alias, its joins (and any joined expansions) */
  readonly from: Fragment;
  /** FROM of the key subquery: the table under the plan's alias with the joins its order and conditions use */
  readonly keyFrom: Fragment;
  /** ` WHERE …` (or empty): the plan's conditions, keyset and record access */
  readonly where: Fragment;
  readonly order: Fragment;
  readonly alias: string;
}

export function compileDeepSkipPage(plan: ReadPlan, parts: DeepSkipParts, limit: number, offset: number): Fragment {
  const key = id(`${parts.alias}.${keyPartsOf(plan.entityType)[0].column}`);
  const keys = sql`SELECT ${key} FROM ${parts.keyFrom}${parts.where} ORDER BY ${parts.order} LIMIT ${rowCount(limit)} OFFSET ${rowCount(offset)}`;
  return sql`SELECT ${parts.select} FROM ${parts.from} WHERE ${key} IN (${keys}) ORDER BY ${parts.order}`;
}
