/**
 * The page and count statements of a read plan, compiled once per plan object and kept with it (a
 * WeakMap: they go when the plan goes). A plan object recurs when its request was prepared before
 * (http/prepared-reads.ts: the same URL, caller and model version), and what the statement depends on
 * besides the plan — dialect, the caller's record access, the page's row bounds — is checked on every use:
 * anything else compiles afresh and replaces the kept statement.
 */
import type { RecordAccess } from '../auth/access';
import type { ReadPlan } from '../plan/plan';
import type { Dialect } from './dialect/dialect';
import { compileCount, compilePage } from './compile-read';
import type { SqlTarget } from './compile-expression';
import type { Fragment } from './fragment';

interface Compiled {
  readonly dialect: Dialect;
  readonly access: RecordAccess;
  readonly limit: number | undefined;
  readonly offset: number | undefined;
  readonly statement: Fragment;
}

const pages = new WeakMap<ReadPlan, Compiled>();
const counts = new WeakMap<ReadPlan, Compiled>();

/** `compilePage`, kept per plan. */
export function pageStatement(plan: ReadPlan, target: SqlTarget, limit: number | undefined, offset: number | undefined): Fragment {
  const kept = pages.get(plan);
  if (kept !== undefined && kept.dialect === target.dialect && kept.access === target.access && kept.limit === limit && kept.offset === offset) return kept.statement;
  const statement = compilePage(plan, target, limit, offset);
  pages.set(plan, { dialect: target.dialect, access: target.access, limit, offset, statement });
  return statement;
}

/** `compileCount`, kept per plan. */
export function countStatement(plan: ReadPlan, target: SqlTarget): Fragment {
  const kept = counts.get(plan);
  if (kept !== undefined && kept.dialect === target.dialect && kept.access === target.access) return kept.statement;
  const statement = compileCount(plan, target);
  counts.set(plan, { dialect: target.dialect, access: target.access, limit: undefined, offset: undefined, statement });
  return statement;
}
