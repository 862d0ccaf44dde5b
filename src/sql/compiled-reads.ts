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
  /** compiled with exact decimal sums: right for any target, so a plan whose native sum failed once keeps it */
  readonly exactSums: boolean;
  readonly statement: Fragment;
}

const sumsFit = (kept: Compiled, target: SqlTarget): boolean => kept.exactSums || target.exactSums !== true;

const pages = new WeakMap<ReadPlan, Compiled>();
const counts = new WeakMap<ReadPlan, Compiled>();

/** `compilePage`, kept per plan. */
export function pageStatement(plan: ReadPlan, target: SqlTarget, limit: number | undefined, offset: number | undefined): Fragment {
  const kept = pages.get(plan);
  if (kept !== undefined && kept.dialect === target.dialect && kept.access === target.access && kept.limit === limit && kept.offset === offset && sumsFit(kept, target)) return kept.statement;
  const statement = compilePage(plan, target, limit, offset);
  pages.set(plan, { dialect: target.dialect, access: target.access, limit, offset, exactSums: target.exactSums === true, statement });
  return statement;
}

/** `compileCount`, kept per plan. */
export function countStatement(plan: ReadPlan, target: SqlTarget): Fragment {
  const kept = counts.get(plan);
  if (kept !== undefined && kept.dialect === target.dialect && kept.access === target.access && sumsFit(kept, target)) return kept.statement;
  const statement = compileCount(plan, target);
  counts.set(plan, { dialect: target.dialect, access: target.access, limit: undefined, offset: undefined, exactSums: target.exactSums === true, statement });
  return statement;
}
