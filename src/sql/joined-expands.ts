/**
 * Single-valued expansions read by the parent's own statement: a to-one navigation through a foreign
 * key of the row becomes a LEFT JOIN of the target on its key, nested ones joined from their parent's
 * alias, and the target's columns come back in the parent row under short aliases (`__j<scope>_<i>`;
 * PostgreSQL would cut a long name at 63 bytes). One statement instead of one per level:
 *
 *   Opportunities?$top=20&$expand=Stage($select=Name;$expand=Process($select=Name))
 *   → SELECT "s0"."Id", …, "s1"."Id" AS "__j1_0", "s1"."Name" AS "__j1_1", "s2"."Id" AS "__j2_0", …
 *     FROM "Opportunities" AS "s0" LEFT JOIN "Stages" AS "s1" ON "s1"."Id" = "s0"."StageId"
 *     LEFT JOIN "Processes" AS "s2" ON "s2"."Id" = "s1"."ProcessId" ORDER BY "s0"."Id" LIMIT 21
 *
 * The caller's access predicate on a target goes into its ON clause, so a target the caller may not
 * read comes out as null, as the separate statement's `WHERE` made it before. A null foreign key or a
 * missing target reads as a null key: the navigation is `null`. Expansions that cannot be joined
 * (collections, `$filter`/`$count`/`$compute` inside, `$ref`, composite keys, reverse foreign keys,
 * which may match several rows) keep their statement per level (compile-read.ts compileExpand).
 */
import type { ExpandPlan, ReadPlan } from '../plan/plan';
import { memoizedByObject } from '../memo';
import { scopeAlias, visibleRows, type SqlTarget } from './compile-expression';
import { id, join, sql, type Fragment } from './fragment';

export interface JoinedExpand {
  readonly expand: ExpandPlan;
  /** the target's fields in the parent's (flat) row and the columns they stand for, key first */
  readonly fields: readonly { readonly field: string; readonly column: string }[];
  /** the field of the target's key: null when there is no target the caller may read */
  readonly keyField: string;
  /** how the target's own expansions are read */
  readonly shape: ExpandShape;
}

/** A read's expansions split into those its statement joins and those read by statements of their own. */
export interface ExpandShape {
  readonly joined: readonly JoinedExpand[];
  readonly separate: readonly ExpandPlan[];
}

const NONE: ExpandShape = { joined: [], separate: [] };

/** Computed once per plan object (a planned read is immutable). */
export const expandShapeOf: (plan: ReadPlan) => ExpandShape = memoizedByObject((plan: ReadPlan): ExpandShape => {
  if (plan.expand.length === 0) return NONE;
  // an `$apply` relation's or aggregated rows are not the table's: their expansions stay apart
  if (plan.source !== undefined || plan.aggregated === true) return { joined: [], separate: plan.expand };
  const joined: JoinedExpand[] = [];
  const separate: ExpandPlan[] = [];
  for (const e of plan.expand) {
    if (!joinable(e)) {
      separate.push(e);
      continue;
    }
    const { read } = e;
    const key = read.entityType.key[0];
    const columns = [key, ...read.columns.filter((c) => c !== key)];
    const prefix = `__j${read.scope}_`;
    const fields = columns.map((column, i) => ({ field: `${prefix}${i}`, column }));
    joined.push({ expand: e, fields, keyField: fields[0].field, shape: expandShapeOf(read) });
  }
  return { joined, separate };
});

function joinable(e: ExpandPlan): boolean {
  const { read } = e;
  return !e.collection && e.storage.kind === 'foreign-key' && !e.refOnly && !e.countOnly && !read.count
    && read.where.length === 0 && read.source === undefined && read.aggregated !== true
    && (read.dynamic === undefined || read.dynamic.length === 0) && read.entityType.key.length === 1;
}

/** The LEFT JOINs and the select-list items of a read's joined expansions (nested ones included). */
export function joinedParts(shape: ExpandShape, parentAlias: string, target: SqlTarget): { joins: Fragment[]; columns: Fragment[] } {
  const joins: Fragment[] = [];
  const columns: Fragment[] = [];
  const add = (level: ExpandShape, from: string): void => {
    for (const j of level.joined) {
      const { read, storage } = j.expand;
      if (storage.kind !== 'foreign-key') continue; // joinable() admits only these
      const alias = scopeAlias(read.scope);
      const visible = visibleRows(target, read.table, alias);
      const on = join(read.entityType.key.map((k, i) => sql`${id(`${alias}.${k}`)} = ${id(`${from}.${storage.columns[i]}`)}`), ' AND ');
      joins.push(visible ? sql`LEFT JOIN ${id(read.table)} AS ${id(alias)} ON ${on} AND ${visible}` : sql`LEFT JOIN ${id(read.table)} AS ${id(alias)} ON ${on}`);
      for (const f of j.fields) columns.push(sql`${id(`${alias}.${f.column}`)} AS ${id(f.field)}`);
      add(j.shape, alias);
    }
  };
  add(shape, parentAlias);
  return { joins, columns };
}
